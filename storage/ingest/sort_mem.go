package ingest

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/schema"
)

// entryBytes is the size of an entry; sorting a bucket needs two per row.
const entryBytes = int64(unsafe.Sizeof(entry{}))

// entry is one row in a sort permutation: the row at byte off of block c of
// its bucket, and 8 bytes of its key after the prefix common to all keys,
// big-endian so that comparing the integers compares the bytes.
type entry struct {
	prefix uint64
	c, off uint32
}

// memRun holds the rows added since the last spill, encoded (sort_rows.go)
// in one chunk per added batch, allocated from alloc so that they are
// counted.
type memRun struct {
	alloc    memory.Allocator
	codec    *rowCodec
	chunks   []*memory.Buffer
	data     [][]byte // the bytes of each chunk
	rows     int
	size     int64 // allocated bytes of the chunks
	maxChunk int64
	first    []byte // the first key, and
	lcp      int    // the length of the prefix that every key shares with it

	// The batch being added, encoded but not yet committed.
	views    []colView
	keyBuf   []byte
	pending  []byte
	pendRows int
	pendLCP  int
	pendKey  []byte

	sink byte
}

func newMemRun(codec *rowCodec, alloc memory.Allocator) *memRun {
	return &memRun{alloc: alloc, codec: codec}
}

// bytes is what the run counts against the memory bound, including what
// sorting it will need besides (see sortScratch).
func (m *memRun) bytes() int64 { return m.size + sortScratch(m.size, m.rows, m.maxChunk) }

// bytesWith is bytes after committing the pending batch of the given size.
func (m *memRun) bytesWith(pending int64) int64 {
	size := m.size + pending
	return size + sortScratch(size, m.rows+m.pendRows, max(m.maxChunk, pending))
}

// sortScratch bounds what sorting rows of the given size needs on top of
// them: the largest chunk, twice for each of the two goroutines that deal
// rows into buckets; the partly filled block of every bucket of each; the
// entries of the biggest bucket (a single bucket of up to two targets when
// nothing is dealt).
func sortScratch(size int64, rows int, maxChunk int64) int64 {
	if rows == 0 {
		return 0
	}
	perRow := max(1, size/int64(rows))
	bucketRows := min(int64(rows), 2*bucketTarget/perRow+1)
	dealers := int64(1)
	if size >= parallelDeal {
		dealers = 2
	}
	return dealers*(maxChunk+(size/bucketTarget+1)*bucketBlock) + 2*entryBytes*bucketRows
}

// encode encodes the rows of rec and their keys into m.pending, to be
// committed or dropped; it returns the bytes that committing will count.
func (m *memRun) encode(rec arrow.RecordBatch, key KeyFunc) (int64, error) {
	var err error
	if m.views, err = m.codec.views(m.views, rec); err != nil {
		return 0, err
	}
	buf := m.pending[:0]
	n := int(rec.NumRows())
	for row := range n {
		m.keyBuf = key(m.keyBuf[:0], rec, row)
		if row == 0 {
			m.pendKey = append(m.pendKey[:0], m.keyBuf...)
			m.pendLCP = len(m.pendKey)
		} else if !bytes.HasPrefix(m.keyBuf, m.pendKey[:m.pendLCP]) {
			m.pendLCP = commonPrefix(m.keyBuf, m.pendKey[:m.pendLCP])
		}
		buf = m.codec.appendRow(buf, m.views, m.keyBuf, row)
	}
	clear(m.views) // drop references to rec's buffers
	if len(buf) > math.MaxUint32 {
		return 0, fmt.Errorf("sort: a batch of %d rows takes %d bytes; add smaller batches", n, len(buf))
	}
	m.pending, m.pendRows = buf, n
	return roundUp64(len(buf)), nil
}

func roundUp64(n int) int64 { return int64(n+63) &^ 63 }

// commit adds the encoded batch to the run.
func (m *memRun) commit() {
	b := memory.NewResizableBuffer(m.alloc)
	b.Resize(len(m.pending))
	copy(b.Bytes(), m.pending)
	if m.rows == 0 {
		m.first = append(m.first[:0], m.pendKey...)
		m.lcp = m.pendLCP
	} else {
		m.lcp = min(m.lcp, m.pendLCP, commonPrefix(m.first, m.pendKey))
	}
	m.chunks = append(m.chunks, b)
	m.data = append(m.data, b.Bytes())
	m.rows += m.pendRows
	m.size += int64(b.Cap())
	m.maxChunk = max(m.maxChunk, int64(b.Cap()))
	m.pendRows = 0
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// reset releases the rows.
func (m *memRun) reset() {
	for _, b := range m.chunks {
		b.Release()
	}
	m.forget()
}

// forget drops the chunks without releasing them: someone else owns them.
func (m *memRun) forget() {
	clear(m.chunks)
	clear(m.data)
	m.chunks, m.data = m.chunks[:0], m.data[:0]
	m.rows, m.size, m.maxChunk, m.lcp = 0, 0, 0, 0
}

// release frees the scratch too, for good.
func (m *memRun) release() {
	m.reset()
	m.pending, m.keyBuf, m.pendKey, m.first = nil, nil, nil, nil
}

// Sorting moves the rows into buckets of about bucketTarget bytes, in key
// order, and sorts each bucket on its own when it is read. A bucket fits in
// the processor's caches, so the random accesses that put its rows in
// order hit them; across a whole run of hundreds of megabytes, each would
// miss the caches and the TLB. The rows are dealt into buckets in one
// sequential pass, by comparing the 8 key bytes after the common prefix
// with splitters taken from a sample of the keys; rows with equal prefixes
// share a bucket, so the buckets are in key order. A bucket that comes out
// much too big (keys that agree on those 8 bytes) is dealt again on the 8
// bytes after its own, longer, common prefix.
const (
	bucketTarget = 2 << 20
	bucketBlock  = 64 << 10         // the unit in which bucket storage grows
	samplesPer   = 32               // sampled keys per bucket
	maxSplits    = 8                // how deep an oversized bucket is dealt again
	parallelDeal = 8 * bucketTarget // from this size, two goroutines deal
)

// sort moves the rows into a sortedRows, leaving the run empty.
func (m *memRun) sort() *sortedRows {
	s := &sortedRows{alloc: m.alloc}
	if m.rows == 0 {
		return s
	}
	all := &bucket{bufs: slices.Clone(m.chunks), data: slices.Clone(m.data), rows: m.rows, size: m.size, lcp: m.lcp}
	m.forget()
	s.buckets = all.split(m.alloc, 0)
	for _, b := range s.buckets {
		s.size += b.size
	}
	return s
}

// split deals the bucket's rows into buckets of about bucketTarget bytes
// and returns them in key order; a small bucket is returned as it is.
func (b *bucket) split(alloc memory.Allocator, depth int) []*bucket {
	if b.size < 2*bucketTarget || depth > maxSplits {
		return []*bucket{b}
	}
	if depth > 0 { // the whole run's lcp is known; a bucket's is found here
		if b.lcp, b.inOrder = b.commonPrefix(b.lcp); b.inOrder {
			return []*bucket{b} // all keys equal: arrival order is key order
		}
	}
	splitters := b.splitters(int(b.size / bucketTarget))
	if len(splitters) == 0 {
		return []*bucket{b}
	}
	var out []*bucket
	for _, sub := range b.dealParallel(alloc, splitters) {
		if sub.rows > 0 {
			out = append(out, sub.split(alloc, depth+1)...)
		}
	}
	return out
}

// commonPrefix returns the length of the prefix that all keys share, given
// that they share at least the first lcp bytes, and whether the keys are
// all equal.
func (b *bucket) commonPrefix(lcp int) (int, bool) {
	var first []byte
	equal := true
	for _, data := range b.data {
		for off := 0; off < len(data); {
			row, next := rowAt(data, off)
			key, _ := splitKey(row)
			switch {
			case first == nil:
				first, lcp = key, len(key)
			case !bytes.Equal(key, first):
				equal = false
				lcp = min(lcp, commonPrefix(key, first))
			}
			off = next
		}
	}
	return lcp, equal
}

// forEach calls f with every row of data (with its length in front) and its
// key's prefix after lcp bytes.
func forEach(data []byte, lcp int, f func(raw []byte, prefix uint64)) {
	for off := 0; off < len(data); {
		row, next := rowAt(data, off)
		key, _ := splitKey(row)
		f(data[off:next], schema.Prefix8(key[lcp:]))
		off = next
	}
}

// splitters returns up to nb-1 increasing prefixes that cut a sample of
// the keys into nb equal parts.
func (b *bucket) splitters(nb int) []uint64 {
	step := max(1, b.rows/(nb*samplesPer))
	var sample []uint64
	i := 0
	for _, data := range b.data {
		forEach(data, b.lcp, func(_ []byte, p uint64) {
			if i%step == 0 {
				sample = append(sample, p)
			}
			i++
		})
	}
	slices.Sort(sample)
	var out []uint64
	for i := 1; i < nb; i++ {
		p := sample[i*len(sample)/nb]
		if len(out) == 0 || p > out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

// dealParallel deals the first and second halves of the bucket's blocks in
// two goroutines, then joins each pair of buckets, first half first, so
// that rows stay in arrival order.
func (b *bucket) dealParallel(alloc memory.Allocator, splitters []uint64) []*bucket {
	if cores.N() < 2 || len(b.data) < 2 || b.size < parallelDeal {
		return b.deal(alloc, splitters)
	}
	h := len(b.data) / 2
	first := &bucket{bufs: b.bufs[:h:h], data: b.data[:h:h], lcp: b.lcp}
	second := &bucket{bufs: b.bufs[h:], data: b.data[h:], lcp: b.lcp}
	*b = bucket{}
	var firstOut []*bucket
	var wg sync.WaitGroup
	wg.Go(func() { firstOut = first.deal(alloc, splitters) })
	secondOut := second.deal(alloc, splitters)
	wg.Wait()
	for i, x := range firstOut {
		y := secondOut[i]
		x.bufs, x.data = append(x.bufs, y.bufs...), append(x.data, y.data...)
		x.rows, x.size = x.rows+y.rows, x.size+y.size
	}
	return firstOut
}

// deal moves the rows into len(splitters)+1 buckets, bucket i holding the
// prefixes from splitters[i-1] to below splitters[i], in arrival order, and
// leaves b empty.
//
// Once a block of b is dealt, its memory is carved into blocks for the new
// buckets (each keeps a reference to it), so that dealing reuses memory
// already mapped and in use rather than asking for as much again.
func (b *bucket) deal(alloc memory.Allocator, splitters []uint64) []*bucket {
	out := make([]*bucket, len(splitters)+1)
	for i := range out {
		out[i] = &bucket{lcp: b.lcp}
	}
	var slab *memory.Buffer // a dealt block of b
	slabOff := 0
	newBlock := func(n int) *memory.Buffer {
		if n <= bucketBlock && slab != nil && slabOff+bucketBlock <= slab.Len() {
			blk := memory.SliceBuffer(slab, slabOff, bucketBlock)
			slabOff += bucketBlock
			return blk
		}
		return newBuffer(alloc, max(bucketBlock, n))
	}
	for c, data := range b.data {
		forEach(data, b.lcp, func(raw []byte, p uint64) {
			out[countAtMost(splitters, p)].append(raw, newBlock)
		})
		if slab != nil {
			slab.Release() // the blocks cut from it hold it now
		}
		slab, slabOff = b.bufs[c], 0
	}
	if slab != nil {
		slab.Release()
	}
	*b = bucket{}
	return out
}

// countAtMost returns how many of the increasing values s are <= p. Its
// loop runs a fixed number of times and its comparison feeds arithmetic,
// not a branch: keys in random order would mispredict every branch of an
// ordinary binary search.
func countAtMost(s []uint64, p uint64) int {
	if len(s) == 0 {
		return 0
	}
	base, n := 0, len(s)
	for n > 1 {
		half := n >> 1
		_, borrow := bits.Sub64(p, s[base+half], 0) // 1 if p < s[base+half]
		base += half & int(borrow-1)
		n -= half
	}
	if s[base] <= p {
		base++
	}
	return base
}

// radixSort sorts src by prefix, stably, least significant byte first,
// skipping the bytes in which all entries agree. It returns whichever of src
// and tmp holds the result.
func radixSort(src, tmp []entry) []entry {
	if len(src) < 2 {
		return src
	}
	var counts [8][256]int
	for _, e := range src {
		p := e.prefix
		counts[0][byte(p)]++
		counts[1][byte(p>>8)]++
		counts[2][byte(p>>16)]++
		counts[3][byte(p>>24)]++
		counts[4][byte(p>>32)]++
		counts[5][byte(p>>40)]++
		counts[6][byte(p>>48)]++
		counts[7][byte(p>>56)]++
	}
	for d := range 8 {
		shift := uint(8 * d)
		c := &counts[d]
		if c[byte(src[0].prefix>>shift)] == len(src) {
			continue
		}
		sum := 0
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, e := range src {
			k := byte(e.prefix >> shift)
			tmp[c[k]] = e
			c[k]++
		}
		src, tmp = tmp, src
	}
	return src
}
