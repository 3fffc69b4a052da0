package engine

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// ReaderPool keeps open data file readers between queries. Opening a file
// costs a store open, the footer and, on first use of a row group, its
// page index; a point lookup does little else, so reusing the open
// reader of the last query that read the file makes it several times
// faster. Data files never change once written, so an idle reader stays
// good for as long as its file exists; one whose file was deleted fails
// its next read, as a reader opened before the deletion would.
//
// A reader is used by one scan at a time: Get hands out an idle one or
// opens a new one, Put gives it back (idle readers hold only their
// footer and page indexes: a finished row group releases its data). At
// most Max idle readers are kept; the least recently used are closed.
// A ReaderPool is safe for concurrent use; the nil pool opens and closes
// a reader per scan.
//
// The pool's readers share one datafile.PageCache: the decompressed pages
// of point and narrow range reads, so that hot keys are answered from
// memory (the buffer pool of a database; see datafile.PageCache), and of
// scans where it has room to spare, which a scan never takes from the
// point reads' pages.
type ReaderPool struct {
	max   int
	pages *datafile.PageCache

	mu sync.Mutex
	// idle holds each file's idle readers; a file none of whose readers
	// is idle keeps its (empty, allocated) slice until sweep, so that a
	// reader going back and forth allocates nothing.
	idle map[readerKey][]*pooledReader
	// head and tail end the list of idle readers, most recently put
	// first; n counts them. free holds spare entries, linked by next.
	head, tail *pooledReader
	n          int
	free       *pooledReader
}

// DefaultReaderPoolSize is how many idle readers a pool keeps unless told.
const DefaultReaderPoolSize = 512

type readerKey struct {
	store     string // the store's URL
	key       string
	batchRows int
}

type pooledReader struct {
	k          readerKey
	r          *datafile.Reader
	prev, next *pooledReader
}

// DefaultPageCacheBytes is the size of a pool's page cache unless told.
const DefaultPageCacheBytes = 256 << 20

// NewReaderPool returns a pool keeping at most max idle readers
// (DefaultReaderPoolSize when max <= 0) and pageCacheBytes of decoded
// pages (DefaultPageCacheBytes when 0; none when negative).
func NewReaderPool(max int, pageCacheBytes int64) *ReaderPool {
	if max <= 0 {
		max = DefaultReaderPoolSize
	}
	if pageCacheBytes == 0 {
		pageCacheBytes = DefaultPageCacheBytes
	}
	p := &ReaderPool{max: max, idle: map[readerKey][]*pooledReader{}}
	if pageCacheBytes > 0 {
		p.pages = datafile.NewPageCache(pageCacheBytes)
	}
	return p
}

// PageCache returns the pool's page cache, nil if it has none.
func (p *ReaderPool) PageCache() *datafile.PageCache {
	if p == nil {
		return nil
	}
	return p.pages
}

// Get returns a reader of the data file key, idle or newly opened, whose
// batches have at most batchRows rows (0: the reader's default) and come
// from the reader's own pooled allocator. The caller gives it back with
// Put, or closes it.
func (p *ReaderPool) Get(ctx context.Context, store objstore.Store, key string, sch *schema.Schema, batchRows int) (*datafile.Reader, error) {
	if p != nil {
		k := readerKey{store: store.URL(), key: key, batchRows: batchRows}
		p.mu.Lock()
		if prs := p.idle[k]; len(prs) > 0 {
			pr := prs[len(prs)-1]
			prs[len(prs)-1] = nil
			p.idle[k] = prs[:len(prs)-1]
			r := pr.r
			p.unlink(pr)
			p.mu.Unlock()
			return r, nil
		}
		p.mu.Unlock()
	}
	if p != nil {
		// A pooled reader outlives this statement and reads with the
		// context it was opened with: not the statement's, which ends.
		ctx = context.WithoutCancel(ctx)
	}
	return datafile.Open(ctx, store, key, sch, datafile.WithBatchRows(batchRows), datafile.WithPageCache(p.PageCache()))
}

// Put gives back a reader Get returned, which the caller must not use
// afterwards: it becomes idle, and the least recently used idle reader is
// closed if the pool is full. Its record readers must be closed. The nil
// pool closes it.
func (p *ReaderPool) Put(store objstore.Store, key string, batchRows int, r *datafile.Reader) error {
	if p == nil {
		return r.Close()
	}
	k := readerKey{store: store.URL(), key: key, batchRows: batchRows}
	p.mu.Lock()
	pr := p.free
	if pr != nil {
		p.free = pr.next
	} else {
		pr = &pooledReader{}
	}
	pr.k, pr.r, pr.prev, pr.next = k, r, nil, p.head
	if p.head != nil {
		p.head.prev = pr
	} else {
		p.tail = pr
	}
	p.head = pr
	p.n++
	p.idle[k] = append(p.idle[k], pr)
	var evicted []*datafile.Reader
	for p.n > p.max {
		last := p.tail
		prs := p.idle[last.k]
		for i, e := range prs {
			if e == last {
				prs = slices.Delete(prs, i, i+1) // clears the slot left behind
				break
			}
		}
		p.idle[last.k] = prs
		evicted = append(evicted, last.r)
		p.unlink(last)
	}
	if len(p.idle) > 2*p.max {
		p.sweep()
	}
	p.mu.Unlock()
	var err error
	for _, r := range evicted {
		err = errors.Join(err, r.Close())
	}
	return err
}

// unlink takes an idle reader's entry out of the list and keeps it
// spare. p.mu must be held.
func (p *ReaderPool) unlink(pr *pooledReader) {
	if pr.prev != nil {
		pr.prev.next = pr.next
	} else {
		p.head = pr.next
	}
	if pr.next != nil {
		pr.next.prev = pr.prev
	} else {
		p.tail = pr.prev
	}
	p.n--
	*pr = pooledReader{next: p.free}
	p.free = pr
}

// sweep drops the files with no idle reader: files come and go as
// compaction replaces them. p.mu must be held.
func (p *ReaderPool) sweep() {
	for k, prs := range p.idle {
		if len(prs) == 0 {
			delete(p.idle, k)
		}
	}
}

// Close closes every idle reader.
func (p *ReaderPool) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	var readers []*datafile.Reader
	for pr := p.head; pr != nil; pr = pr.next {
		readers = append(readers, pr.r)
	}
	p.head, p.tail, p.n, p.free = nil, nil, 0, nil
	p.idle = map[readerKey][]*pooledReader{}
	p.mu.Unlock()
	var err error
	for _, r := range readers {
		err = errors.Join(err, r.Close())
	}
	return err
}

// Idle is the number of idle readers the pool holds.
func (p *ReaderPool) Idle() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
