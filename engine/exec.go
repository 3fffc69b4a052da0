package engine

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// ExecContext is what operators need to run: the allocator, the memory
// pool that bounds what they hold, a directory to spill to, the expression
// context, and (for EXPLAIN ANALYZE) a place to count what they did.
type ExecContext struct {
	Ctx     context.Context
	Alloc   memory.Allocator
	Mem     *MemoryPool
	TempDir string
	Eval    *expr.Context
	// Stats is nil unless the statement is EXPLAIN ANALYZE.
	Stats *Stats
	// Parallelism is how many partitions are scanned at once (default
	// cores.N()).
	Parallelism int
	// Readers keeps open data file readers between statements (nil: each
	// scan opens and closes its own).
	Readers *ReaderPool
	// Room, when set, keeps operators from one run of a plan to the next
	// run of the same plan with the same Room: an operator that closes
	// leaves itself there, and the next Open of its kind takes it rather
	// than allocating one. Only for a caller that runs a plan again and
	// again, one run at a time, opening each run's operators once and
	// touching none after the run closed (a prepared statement's kept
	// plan: a chain of nodes over one table scan).
	Room *Room
}

// Room is where operators wait for the next run of their plan
// (ExecContext.Room). The zero Room is empty.
type Room struct {
	short *scanShortOp
}

// TempDirOrDefault is where operators spill.
func (ec *ExecContext) TempDirOrDefault() string {
	if ec.TempDir != "" {
		return ec.TempDir
	}
	return os.TempDir()
}

// MemoryPool bounds the memory that a statement's operators hold in sort
// buffers and hash tables. Reservations past the limit fail; the operator
// then spills or reports SQLSTATE 53200.
type MemoryPool struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
}

// NewMemoryPool returns a pool of limit bytes (no limit if limit <= 0).
func NewMemoryPool(limit int64) *MemoryPool { return &MemoryPool{limit: limit} }

// Reset makes p a pool of limit bytes with nothing reserved, as
// NewMemoryPool makes one: a caller that runs statements one after
// another keeps one pool rather than allocating one each. Nothing may
// hold reservations in p (the statement that used it has closed).
func (p *MemoryPool) Reset(limit int64) {
	p.limit = limit
	p.used.Store(0)
	p.peak.Store(0)
}

// TryReserve reserves n bytes and reports whether it could.
func (p *MemoryPool) TryReserve(n int64) bool {
	if p == nil {
		return true
	}
	for {
		used := p.used.Load()
		if p.limit > 0 && used+n > p.limit {
			return false
		}
		if p.used.CompareAndSwap(used, used+n) {
			for {
				peak := p.peak.Load()
				if used+n <= peak || p.peak.CompareAndSwap(peak, used+n) {
					return true
				}
			}
		}
	}
}

// Reserve reserves n bytes for what, or returns SQLSTATE 53200.
func (p *MemoryPool) Reserve(n int64, what string) error {
	if p.TryReserve(n) {
		return nil
	}
	return sqlerr.New(sqlerr.OutOfMemory, "%s needs more than the statement memory limit of %d bytes", what, p.limit).
		WithHint("raise the limit with SET work_mem, or narrow the query")
}

// Release returns n reserved bytes.
func (p *MemoryPool) Release(n int64) {
	if p != nil {
		p.used.Add(-n)
	}
}

// Limit is the pool's limit (0 for none).
func (p *MemoryPool) Limit() int64 {
	if p == nil {
		return 0
	}
	return p.limit
}

// Peak is the most that was reserved at once.
func (p *MemoryPool) Peak() int64 {
	if p == nil {
		return 0
	}
	return p.peak.Load()
}

// Stats collects what each plan node did, for EXPLAIN ANALYZE.
type Stats struct {
	mu    sync.Mutex
	nodes map[Plan]*NodeStats
	alias map[Plan]Plan
}

// Alias makes what plan node from does count as node to: a plan run once
// per partition reports as the one node EXPLAIN shows.
func (s *Stats) Alias(from, to Plan) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alias == nil {
		s.alias = map[Plan]Plan{}
	}
	s.alias[from] = to
}

// NodeStats is what one plan node did.
type NodeStats struct {
	Rows    atomic.Int64
	Batches atomic.Int64
	Nanos   atomic.Int64 // time inside Next, children included
	// Pruning counts, for scans: kept out of total at each level.
	mu      sync.Mutex
	Counter map[string][2]int64
}

// Count adds kept/total to a named pruning counter ("partitions", "files",
// "row groups", "pages").
func (n *NodeStats) Count(name string, kept, total int64) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Counter == nil {
		n.Counter = map[string][2]int64{}
	}
	c := n.Counter[name]
	n.Counter[name] = [2]int64{c[0] + kept, c[1] + total}
}

// Node returns the stats of a plan node, creating them on first use. It
// returns nil when s is nil, and NodeStats' methods accept nil.
func (s *Stats) Node(p Plan) *NodeStats {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if to, ok := s.alias[p]; ok {
		p = to
	}
	if s.nodes == nil {
		s.nodes = map[Plan]*NodeStats{}
	}
	n, ok := s.nodes[p]
	if !ok {
		n = &NodeStats{}
		s.nodes[p] = n
	}
	return n
}

// Describe renders a node's stats for EXPLAIN ANALYZE.
func (n *NodeStats) Describe() string {
	if n == nil {
		return ""
	}
	s := fmt.Sprintf("(actual rows=%d batches=%d time=%.3fms)", n.Rows.Load(), n.Batches.Load(), float64(n.Nanos.Load())/1e6)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, name := range []string{"partitions", "files", "row groups", "pages"} {
		if c, ok := n.Counter[name]; ok {
			s += fmt.Sprintf(" %s %d/%d", name, c[0], c[1])
		}
	}
	return s
}
