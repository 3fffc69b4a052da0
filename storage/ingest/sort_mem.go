package ingest

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sortScratchPerRow is what sorting costs per row: an entry and its
// radix-sort twin.
const sortScratchPerRow = 2 * int64(unsafe.Sizeof(entry{}))

// entry is one row in a sort permutation: batch b, row r, and 8 bytes of
// its key after the prefix common to all keys, big-endian so that comparing
// the integers compares the bytes.
type entry struct {
	prefix uint64
	b, r   uint32
}

// memRun holds the batches added since the last spill, and their keys in
// one arena per batch, allocated from alloc so that they are counted.
type memRun struct {
	alloc    memory.Allocator
	batches  []arrow.RecordBatch
	keyBufs  []*memory.Buffer
	keyData  [][]byte
	keyOffs  [][]int32 // len(rows)+1 offsets into keyData per batch
	rows     int
	data     int64 // Arrow buffer bytes of the batches, each buffer once
	keyBytes int64
	seen     map[*memory.Buffer]struct{}
	first    []byte // the first key, and
	lcp      int    // the length of the prefix that every key shares with it

	scratchKeys []byte
	scratchOffs []int32
}

func newMemRun(alloc memory.Allocator) *memRun {
	return &memRun{alloc: alloc, seen: map[*memory.Buffer]struct{}{}}
}

// bytes is what the run counts against the memory bound, including the
// scratch that sorting it will need.
func (m *memRun) bytes() int64 {
	return m.data + m.keyBytes + 4*int64(m.rows+len(m.batches)) + sortScratchPerRow*int64(m.rows)
}

// computeKeys computes the keys of rec's rows into scratch space.
func (m *memRun) computeKeys(rec arrow.RecordBatch, key KeyFunc) ([]byte, []int32) {
	keys, offs := m.scratchKeys[:0], append(m.scratchOffs[:0], 0)
	for row := range int(rec.NumRows()) {
		keys = key(keys, rec, row)
		offs = append(offs, int32(len(keys)))
	}
	m.scratchKeys, m.scratchOffs = keys, offs
	return keys, offs
}

// newBytes is the size of rec's buffers that the run does not hold yet.
func (m *memRun) newBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data(), m.seen, false)
	}
	return n
}

// add retains rec and copies its keys into the run.
func (m *memRun) add(rec arrow.RecordBatch, keys []byte, offs []int32) {
	rec.Retain()
	for _, c := range rec.Columns() {
		m.data += dataBytes(c.Data(), m.seen, true)
	}
	kb := memory.NewResizableBuffer(m.alloc)
	kb.Resize(4*len(offs) + len(keys)) // offsets first, where they are aligned
	ko := view[int32](kb.Bytes(), len(offs))
	copy(ko, offs)
	kd := kb.Bytes()[4*len(offs):]
	copy(kd, keys)
	if m.rows == 0 {
		m.first = append(m.first[:0], keys[:offs[1]]...)
		m.lcp = len(m.first)
	}
	for i := range len(offs) - 1 {
		k := keys[offs[i]:offs[i+1]]
		if len(k) < m.lcp || !bytes.Equal(k[:m.lcp], m.first[:m.lcp]) {
			m.lcp = commonPrefix(k, m.first[:m.lcp])
		}
	}
	m.batches = append(m.batches, rec)
	m.keyBufs = append(m.keyBufs, kb)
	m.keyData = append(m.keyData, kd)
	m.keyOffs = append(m.keyOffs, ko)
	m.rows += int(rec.NumRows())
	m.keyBytes += int64(kb.Len())
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

// dataBytes is the allocated size of the buffers of d (and its children)
// that are not in seen; mark adds them.
func dataBytes(d arrow.ArrayData, seen map[*memory.Buffer]struct{}, mark bool) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b == nil {
			continue
		}
		if _, ok := seen[b]; ok {
			continue
		}
		if mark {
			seen[b] = struct{}{}
		}
		n += int64(b.Cap())
	}
	for _, c := range d.Children() {
		n += dataBytes(c, seen, mark)
	}
	// Dictionary returns a typed nil inside a non-nil interface when there
	// is no dictionary.
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		n += dataBytes(dict, seen, mark)
	}
	return n
}

// recordBytes is the allocated size of rec's buffers.
func recordBytes(rec arrow.RecordBatch) int64 {
	seen := map[*memory.Buffer]struct{}{}
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data(), seen, true)
	}
	return n
}

func (m *memRun) key(e entry) []byte {
	offs := m.keyOffs[e.b]
	return m.keyData[e.b][offs[e.r]:offs[e.r+1]]
}

// reset releases everything the run holds.
func (m *memRun) reset() {
	for _, b := range m.batches {
		b.Release()
	}
	for _, b := range m.keyBufs {
		b.Release()
	}
	clear(m.batches)
	clear(m.keyData)
	clear(m.keyOffs)
	m.batches, m.keyBufs, m.keyData, m.keyOffs = m.batches[:0], m.keyBufs[:0], m.keyData[:0], m.keyOffs[:0]
	m.rows, m.data, m.keyBytes, m.lcp = 0, 0, 0, 0
	clear(m.seen)
}

// perm is a sorted permutation of a memRun's rows.
type perm struct {
	buf     *memory.Buffer
	entries []entry
}

func (p *perm) len() int     { return len(p.entries) }
func (p *perm) bytes() int64 { return int64(p.buf.Cap()) }
func (p *perm) release() {
	p.buf.Release()
	p.entries = nil
}

func allocEntries(alloc memory.Allocator, n int) (*memory.Buffer, []entry) {
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(n * int(unsafe.Sizeof(entry{})))
	return buf, view[entry](buf.Bytes(), n)
}

// sort orders the run's rows by key, stably: a radix sort of the 8 key
// bytes after the common prefix, then a comparison sort of the keys within
// each group of equal prefixes.
func (m *memRun) sort() (*perm, error) {
	buf, ents := allocEntries(m.alloc, m.rows)
	i := 0
	for b, offs := range m.keyOffs {
		data := m.keyData[b]
		for r := range len(offs) - 1 {
			ents[i] = entry{prefix: prefix8(data[int(offs[r])+m.lcp : offs[r+1]]), b: uint32(b), r: uint32(r)}
			i++
		}
	}
	tmpBuf, tmp := allocEntries(m.alloc, m.rows)
	sorted := radixSort(ents, tmp)
	if len(sorted) > 0 && &sorted[0] != &ents[0] {
		buf, tmpBuf = tmpBuf, buf
		ents = sorted
	}
	tmpBuf.Release()
	m.sortTies(ents)
	return &perm{buf: buf, entries: ents}, nil
}

// sortTies sorts each group of entries with equal prefixes by whole key.
// Such a group needs no sorting when its keys are all the same length and
// no longer than the common prefix plus 8: the keys are then equal.
func (m *memRun) sortTies(ents []entry) {
	limit := m.lcp + 8
	cmp := func(a, b entry) int { return bytes.Compare(m.key(a)[m.lcp:], m.key(b)[m.lcp:]) }
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && ents[j].prefix == ents[i].prefix {
			j++
		}
		if j-i > 1 {
			n := len(m.key(ents[i]))
			same := n <= limit
			for k := i + 1; k < j && same; k++ {
				same = len(m.key(ents[k])) == n
			}
			if !same {
				slices.SortStableFunc(ents[i:j], cmp)
			}
		}
		i = j
	}
}

func prefix8(k []byte) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var p uint64
	for i, c := range k {
		p |= uint64(c) << (56 - 8*i)
	}
	return p
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

// gather builds a batch of the rows ents of the run, in that order, with
// the key as an extra last column if withKey.
func (m *memRun) gather(ents []entry, sch *arrow.Schema, withKey bool) arrow.RecordBatch {
	cols := make([]arrow.Array, sch.NumFields(), sch.NumFields()+1)
	srcs := make([]arrow.Array, len(m.batches))
	for c := range cols {
		for b, rec := range m.batches {
			srcs[b] = rec.Column(c)
		}
		cols[c] = gatherColumn(m.alloc, sch.Field(c).Type, srcs, ents)
	}
	if withKey {
		src := make([]binarySource, len(m.batches))
		for b := range m.batches {
			src[b] = binarySource{offs: m.keyOffs[b], data: m.keyData[b]}
		}
		cols = append(cols, gatherBinary(m.alloc, arrow.BinaryTypes.Binary, src, ents, nil))
		sch = spillSchema(sch)
	}
	rec := array.NewRecordBatch(sch, cols, int64(len(ents)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}
