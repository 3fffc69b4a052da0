package engine

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
// again comparing keys.
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
	return t.probe(keys, rows, ids, true)
}

// lookup writes the id of each row of keys into ids, or noID for keys not
// in the table.
func (t *keyTable) lookup(keys []arrow.Array, rows int, ids []uint32) {
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
