package engine

import (
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/internal/vec"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// keyTable assigns dense ids 0, 1, 2, … to the distinct rows of one or
// more typed key columns: it is the hash table of GROUP BY, DISTINCT, set
// operations and the build side of hash joins. NULL is a value like any
// other here (one group holds every NULL); callers that need SQL equality,
// where NULL matches nothing, skip those rows themselves.
//
// A batch is probed in three vectorised steps: the hash of every row, column
// by column; a probe of the open-addressing table that matches on the
// top 32 bits of the hash alone; then a check, column by column, that each row equals
// the key of the id it found. The rare rows whose hash collided are probed
// again comparing keys. A table of one integer column whose keys stay
// within a small span skips all that and indexes an array by the key (see
// insertDirect).
type keyTable struct {
	cols   []keyColumn
	hashes []uint64 // by id
	// slots hold id+1 in the low 32 bits (0 when empty) and the high 32
	// bits of the key's hash above, so that a probe rarely reads hashes.
	slots []uint64
	mask  uint64
	n     int

	rowHash []uint64 // scratch, by row
	ok      []bool

	// direct, while non-nil, maps the keys of a table of one integer
	// column straight to ids, and slots and hashes are unused (see
	// insertDirect).
	direct *directMap
}

// directMap maps integer keys lo, lo+1, … to ids: ids[k-lo] is the id of
// key k plus one, 0 while k has none; null likewise for NULL.
type directMap struct {
	lo   int64
	ids  []uint32
	null uint32
}

// directMaxSpan bounds the keys a directMap covers: 256 KiB of ids, which
// stay in cache as a hash table's probes would not.
const directMaxSpan = 1 << 16

// directColumn is a key column whose values can be read as integers.
type directColumn interface {
	// words returns the values of arr as integers of 1, 2, 4 or 8 bytes
	// (size), or ok false if they are not fixed-width integers.
	words(arr arrow.Array) (p unsafe.Pointer, size uintptr, ok bool)
}

// keyColumn holds the key values of one column by id.
type keyColumn interface {
	// hash mixes the hash of each row of arr into h.
	hash(arr arrow.Array, h []uint64)
	// bind makes arr the batch that appendRow, equal and verify read.
	bind(arr arrow.Array)
	// appendRow adds row i of the bound batch as the value of the next id.
	appendRow(i int)
	// equal reports whether row i of the bound batch equals id's value.
	equal(id uint32, i int) bool
	// verify clears ok[i] where row i of the bound batch differs from the
	// value of ids[i] (skipping rows whose id is noID).
	verify(ids []uint32, ok []bool)
	// build returns the values of ids lo..hi-1 as an array.
	build(alloc memory.Allocator, lo, hi int) arrow.Array
	// size is the bytes held.
	size() int64
}

const (
	hashSeed  = 0x243F6A8885A308D3
	hashNull  = 0x13198A2E03707344
	hashPrime = 0x9E3779B97F4A7C15
	noID      = ^uint32(0)
)

func mix(h, v uint64) uint64 {
	hi, lo := bits.Mul64(h^v, hashPrime)
	return hi ^ lo
}

// newKeyTable returns an empty table for key columns of the given types,
// or a 0A000 error for a type it cannot hash.
func newKeyTable(types []arrow.DataType) (*keyTable, error) {
	t := &keyTable{}
	for _, dt := range types {
		c, err := newKeyColumn(dt)
		if err != nil {
			return nil, err
		}
		t.cols = append(t.cols, c)
	}
	t.resize(64)
	if len(t.cols) == 1 {
		if _, ok := t.cols[0].(directColumn); ok {
			t.direct = &directMap{}
		}
	}
	return t, nil
}

func newKeyColumn(dt arrow.DataType) (keyColumn, error) {
	switch dt.ID() {
	case arrow.INT8:
		return newFixedColumn[int8](dt), nil
	case arrow.UINT8:
		return newFixedColumn[uint8](dt), nil
	case arrow.INT16:
		return newFixedColumn[int16](dt), nil
	case arrow.UINT16:
		return newFixedColumn[uint16](dt), nil
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return newFixedColumn[int32](dt), nil
	case arrow.UINT32:
		return newFixedColumn[uint32](dt), nil
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
		return newFixedColumn[int64](dt), nil
	case arrow.UINT64:
		return newFixedColumn[uint64](dt), nil
	case arrow.FLOAT32:
		return newFloatColumn[float32, uint32](dt), nil
	case arrow.FLOAT64:
		return newFloatColumn[float64, uint64](dt), nil
	case arrow.DECIMAL128:
		return newFixedColumn[decimal128.Num](dt), nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return newFixedColumn[arrow.MonthDayNanoInterval](dt), nil
	case arrow.BOOL:
		return &boolColumn{}, nil
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return newBinaryColumn(dt), nil
	case arrow.NULL:
		return &nullColumn{}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot hash values of type %s", dt)
}

// Len is the number of distinct keys.
func (t *keyTable) Len() int { return t.n }

// size is the bytes the table holds.
func (t *keyTable) size() int64 {
	s := int64(cap(t.slots))*8 + int64(cap(t.hashes))*8 + int64(cap(t.rowHash))*9
	if t.direct != nil {
		s += int64(cap(t.direct.ids)) * 4
	}
	for _, c := range t.cols {
		s += c.size()
	}
	return s
}

func (t *keyTable) resize(slots int) {
	t.slots = make([]uint64, slots)
	t.mask = uint64(slots - 1)
	for id, h := range t.hashes[:t.n] {
		idx := h & t.mask
		for t.slots[idx] != 0 {
			idx = (idx + 1) & t.mask
		}
		t.slots[idx] = slot(h, uint32(id))
	}
}

// slot is the slot value of id with hash h.
func slot(h uint64, id uint32) uint64 { return h&^0xFFFFFFFF | uint64(id+1) }

const tagMask = ^uint64(0xFFFFFFFF)

// hashRows computes the hash of every row of keys into t.rowHash.
func (t *keyTable) hashRows(keys []arrow.Array, rows int) []uint64 {
	if cap(t.rowHash) < rows {
		t.rowHash = make([]uint64, rows)
		t.ok = make([]bool, rows)
	}
	h := t.rowHash[:rows]
	for i := range h {
		h[i] = hashSeed
	}
	for c, col := range t.cols {
		col.hash(keys[c], h)
		col.bind(keys[c])
	}
	return h
}

// insert writes the id of each row of keys (arrays of equal length) into
// ids, adding new ids for keys not seen before, and returns how many it
// added. New ids are numbered in order of first appearance.
func (t *keyTable) insert(keys []arrow.Array, rows int, ids []uint32) int {
	if t.direct != nil && rows > 0 {
		if added, ok := t.insertDirect(keys[0], rows, ids); ok {
			return added
		}
	}
	return t.probe(keys, rows, ids, true)
}

// insertDirect finds the ids of a batch of one integer key column without
// hashing, while the keys seen lie within directMaxSpan of each other
// (GROUP BY a small code, a year, a modulo): a row is one load from the
// map, a new key one append. Keys spread too wide, or a lookup, end the
// direct mode for good (leaveDirect), and the hash path takes over; ok is
// false when this batch is for the hash path.
func (t *keyTable) insertDirect(arr arrow.Array, rows int, ids []uint32) (added int, ok bool) {
	p, size, ok := t.cols[0].(directColumn).words(arr)
	if ok {
		switch size {
		case 1:
			return directWords(t, arr, unsafe.Slice((*int8)(p), rows), ids)
		case 2:
			return directWords(t, arr, unsafe.Slice((*int16)(p), rows), ids)
		case 4:
			return directWords(t, arr, unsafe.Slice((*int32)(p), rows), ids)
		case 8:
			return directWords(t, arr, unsafe.Slice((*int64)(p), rows), ids)
		}
	}
	t.leaveDirect()
	return 0, false
}

// directLimit bounds the keys a directMap holds to ±2^62, so that
// k - lo, taken modulo 2^64, lands in the map only for keys that are in it.
const directLimit = 1 << 62

func directWords[W int8 | int16 | int32 | int64](t *keyTable, arr arrow.Array, vals []W, ids []uint32) (int, bool) {
	d := t.direct
	var valid vec.Bitmap
	if arr.NullN() > 0 {
		valid = vec.Validity(arr)
	} else {
		// The common case: every key known already.
		m, base := d.ids, d.lo
		i := 0
		for ; i < len(vals); i++ {
			k := uint64(int64(vals[i]) - base)
			if k >= uint64(len(m)) || m[k] == 0 {
				break
			}
			ids[i] = m[k] - 1
		}
		if i == len(vals) {
			return 0, true
		}
	}
	// Widen the map to the batch's keys, then add the new ones in order.
	lo, hi, some := int64(0), int64(0), false
	for i, v := range vals {
		if valid.Valid(i) {
			if !some {
				lo, hi, some = int64(v), int64(v), true
			}
			lo, hi = min(lo, int64(v)), max(hi, int64(v))
		}
	}
	if some {
		if len(d.ids) > 0 {
			lo, hi = min(lo, d.lo), max(hi, d.lo+int64(len(d.ids))-1)
		}
		if lo < -directLimit || hi > directLimit || hi-lo >= directMaxSpan {
			t.leaveDirect()
			return 0, false
		}
		if lo < d.lo || hi >= d.lo+int64(len(d.ids)) || len(d.ids) == 0 {
			grown := make([]uint32, hi-lo+1)
			if len(d.ids) > 0 {
				copy(grown[d.lo-lo:], d.ids)
			}
			d.lo, d.ids = lo, grown
		}
	}
	before, bound := t.n, false
	m, base := d.ids, d.lo
	for i, v := range vals {
		s := &d.null
		if valid.Valid(i) {
			s = &m[int64(v)-base]
		}
		if *s == 0 {
			if !bound {
				t.cols[0].bind(arr)
				bound = true
			}
			t.cols[0].appendRow(i)
			t.n++
			*s = uint32(t.n)
		}
		ids[i] = *s - 1
	}
	return t.n - before, true
}

// leaveDirect ends the direct mode: it hashes the keys gathered so far
// into the hash table, which serves every probe from then on.
func (t *keyTable) leaveDirect() {
	if t.direct == nil {
		return
	}
	t.direct = nil
	if t.n == 0 {
		return
	}
	keys := t.keys(memory.DefaultAllocator, 0, t.n)
	h := make([]uint64, t.n)
	for i := range h {
		h[i] = hashSeed
	}
	for c, col := range t.cols {
		col.hash(keys[c], h)
	}
	releaseArrays(keys)
	t.hashes = h
	slots := len(t.slots)
	for 2*(t.n+1) > slots {
		slots *= 2
	}
	t.resize(slots)
}

// lookup writes the id of each row of keys into ids, or noID for keys not
// in the table.
func (t *keyTable) lookup(keys []arrow.Array, rows int, ids []uint32) {
	t.leaveDirect()
	t.probe(keys, rows, ids, false)
}

func (t *keyTable) probe(keys []arrow.Array, rows int, ids []uint32, add bool) int {
	if rows == 0 {
		return 0
	}
	h := t.hashRows(keys, rows)
	before := t.n
	ok := t.ok[:rows]
	for i, hv := range h {
		if add && 2*(t.n+1) > len(t.slots) { // keep the load at most 1/2
			t.resize(2 * len(t.slots))
		}
		idx := hv & t.mask
		tag := hv & tagMask
		for {
			s := t.slots[idx]
			if s == 0 {
				if add {
					ids[i] = t.add(i, hv, idx)
				} else {
					ids[i] = noID
				}
				break
			}
			if s&tagMask == tag {
				ids[i] = uint32(s) - 1
				break
			}
			idx = (idx + 1) & t.mask
		}
		ok[i] = true
	}
	if t.n == before+rows {
		return rows // every row was new: nothing to verify
	}
	for _, col := range t.cols {
		col.verify(ids, ok)
	}
	for i, good := range ok {
		if !good {
			ids[i] = t.probeSlow(i, h[i], add)
		}
	}
	return t.n - before
}

// probeSlow finds row i comparing keys, after its hash matched another key.
func (t *keyTable) probeSlow(i int, hv uint64, add bool) uint32 {
	if add && 2*(t.n+1) > len(t.slots) {
		t.resize(2 * len(t.slots))
	}
	idx := hv & t.mask
	for {
		s := t.slots[idx]
		if s == 0 {
			if add {
				return t.add(i, hv, idx)
			}
			return noID
		}
		if id := uint32(s) - 1; t.hashes[id] == hv && t.equalRow(id, i) {
			return id
		}
		idx = (idx + 1) & t.mask
	}
}

func (t *keyTable) equalRow(id uint32, i int) bool {
	for _, c := range t.cols {
		if !c.equal(id, i) {
			return false
		}
	}
	return true
}

func (t *keyTable) add(i int, hv uint64, idx uint64) uint32 {
	id := uint32(t.n)
	for _, c := range t.cols {
		c.appendRow(i)
	}
	t.hashes = append(t.hashes, hv)
	t.slots[idx] = slot(hv, id)
	t.n++
	return id
}

// keys returns the key columns of ids lo..hi-1.
func (t *keyTable) keys(alloc memory.Allocator, lo, hi int) []arrow.Array {
	out := make([]arrow.Array, len(t.cols))
	for c, col := range t.cols {
		out[c] = col.build(alloc, lo, hi)
	}
	return out
}
