package ingest

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/storage/schema"
)

// bucket holds rows of a sortedRows whose keys fall in one range, in the
// order they arrived, in blocks; perm orders them once the bucket is
// sorted.
type bucket struct {
	bufs []*memory.Buffer
	data [][]byte // the used part of each block
	rows int
	size int64 // allocated bytes, entries included
	lcp  int   // bytes that all its keys share

	inOrder bool // the keys are all equal: read the rows as they are
	perm    *memory.Buffer
	ents    []entry
}

// append copies a row, with its length, to the end of the bucket, taking
// a new block from newBlock when the last is full.
func (b *bucket) append(raw []byte, newBlock func(n int) *memory.Buffer) {
	if n := len(b.data); n == 0 || len(b.data[n-1])+len(raw) > cap(b.data[n-1]) {
		buf := newBlock(len(raw))
		b.bufs = append(b.bufs, buf)
		b.data = append(b.data, buf.Bytes()[:0:buf.Len()])
		b.size += int64(buf.Cap())
	}
	n := len(b.data) - 1
	b.data[n] = append(b.data[n], raw...)
	b.rows++
}

func (b *bucket) row(e entry) []byte {
	r, _ := rowAt(b.data[e.c], int(e.off))
	return r
}

func (b *bucket) key(e entry) []byte {
	k, _ := splitKey(b.row(e))
	return k
}

// sort orders the bucket's rows by key, stably: a radix sort of the 8 key
// bytes after the common prefix, then a comparison sort of the keys within
// each group of equal prefixes.
func (b *bucket) sort(alloc memory.Allocator) {
	lcp := b.lcp
	buf, ents := allocEntries(alloc, b.rows)
	i := 0
	for c, data := range b.data {
		for off := 0; off < len(data); {
			row, next := rowAt(data, off)
			key, _ := splitKey(row)
			ents[i] = entry{prefix: schema.Prefix8(key[lcp:]), c: uint32(c), off: uint32(off)}
			i, off = i+1, next
		}
	}
	tmpBuf, tmp := allocEntries(alloc, b.rows)
	sorted := radixSort(ents, tmp)
	if len(sorted) > 0 && &sorted[0] != &ents[0] {
		buf, tmpBuf = tmpBuf, buf
		ents = sorted
	}
	tmpBuf.Release()
	b.sortTies(ents, lcp)
	b.perm, b.ents = buf, ents
	b.size += int64(buf.Cap())
}

// sortTies sorts each group of entries with equal prefixes by whole key.
// Such a group needs no sorting when its keys are all the same length and
// no longer than the common prefix plus 8: the keys are then equal.
func (b *bucket) sortTies(ents []entry, lcp int) {
	limit := lcp + 8
	cmp := func(x, y entry) int { return bytes.Compare(b.key(x)[lcp:], b.key(y)[lcp:]) }
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && ents[j].prefix == ents[i].prefix {
			j++
		}
		if j-i > 1 {
			n := len(b.key(ents[i]))
			same := n <= limit
			for k := i + 1; k < j && same; k++ {
				same = len(b.key(ents[k])) == n
			}
			if !same {
				slices.SortStableFunc(ents[i:j], cmp)
			}
		}
		i = j
	}
}

func (b *bucket) release() {
	for _, buf := range b.bufs {
		buf.Release()
	}
	if b.perm != nil {
		b.perm.Release()
	}
	*b = bucket{}
}

func allocEntries(alloc memory.Allocator, n int) (*memory.Buffer, []entry) {
	buf := newBuffer(alloc, n*int(entryBytes))
	return buf, view[entry](buf.Bytes(), n)
}

// sortedRows is a sorted run in memory: buckets in key order, each sorted
// when reading reaches it and released when reading has passed it.
type sortedRows struct {
	alloc   memory.Allocator
	buckets []*bucket
	size    int64 // bytes held
	cur     int   // the bucket being read
	pos     int   // the next row in it
	c, off  int   // where that row is, in a bucket read in order
	retired []*bucket
	sink    byte
}

// decodeBlock is how many rows a reader locates before it decodes them:
// locating them is a loop of independent loads whose cache misses overlap,
// and a block's rows are still in the cache when decoded.
const decodeBlock = 128

// read appends up to max rows, in order, to dst. The rows stay valid until
// releaseRead.
func (s *sortedRows) read(dst [][]byte, max int) [][]byte {
	start := len(dst)
	defer func() {
		var sink byte
		for _, r := range dst[start:] {
			sink |= r[len(r)-1] // the row's last cache line
		}
		s.sink |= sink
	}()
	for n := 0; n < max && s.cur < len(s.buckets); {
		b := s.buckets[s.cur]
		if b.inOrder {
			// s.pos counts rows; s.c and s.off say where the next one is.
			for ; s.pos < b.rows && n < max; s.pos, n = s.pos+1, n+1 {
				row, next := rowAt(b.data[s.c], s.off)
				dst = append(dst, row)
				if s.off = next; s.off == len(b.data[s.c]) {
					s.c, s.off = s.c+1, 0
				}
			}
		} else {
			if b.ents == nil && b.rows > 0 {
				before := b.size
				b.sort(s.alloc)
				s.size += b.size - before
			}
			for ; s.pos < len(b.ents) && n < max; s.pos, n = s.pos+1, n+1 {
				dst = append(dst, b.row(b.ents[s.pos]))
			}
		}
		if s.pos == b.rows {
			s.retired = append(s.retired, b)
			s.cur, s.pos, s.c, s.off = s.cur+1, 0, 0, 0
		}
	}
	return dst
}

// releaseRead releases the buckets that reading has passed.
func (s *sortedRows) releaseRead() {
	for _, b := range s.retired {
		s.size -= b.size
		b.release()
	}
	clear(s.retired)
	s.retired = s.retired[:0]
}

// remaining is the number of rows not yet read.
func (s *sortedRows) remaining() int {
	n := -s.pos
	for _, b := range s.buckets[s.cur:] {
		n += b.rows
	}
	return n
}

// writeTo writes the rows, in order, releasing each bucket once written.
// A goroutine sorts the buckets and gathers their rows into buffers while
// this one writes the buffers out.
func (s *sortedRows) writeTo(w *runWriter) error {
	const bufSize = 1 << 20
	full, free := make(chan []byte, 2), make(chan []byte, 3)
	stop := make(chan struct{})
	for range cap(free) {
		free <- make([]byte, 0, bufSize)
	}
	var rows int64
	go func() {
		defer close(full)
		var batch [][]byte
		for s.cur < len(s.buckets) {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			buf = buf[:0]
			for len(buf) < bufSize && s.cur < len(s.buckets) {
				batch = s.read(batch[:0], 256)
				for _, r := range batch {
					buf = binary.AppendUvarint(buf, uint64(len(r)))
					buf = append(buf, r...)
				}
				rows += int64(len(batch))
				s.releaseRead()
			}
			full <- buf
		}
	}()
	var err error
	for buf := range full {
		if err == nil {
			if _, err = w.w.Write(buf); err != nil {
				close(stop)
			}
		}
		select {
		case free <- buf:
		default:
		}
	}
	w.rows += rows
	return err
}

func (s *sortedRows) release() {
	s.releaseRead()
	for _, b := range s.buckets {
		b.release()
	}
	s.buckets, s.size = nil, 0
}
