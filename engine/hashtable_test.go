package engine

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestKeyTableDirect checks that a table of one integer column gives the
// same ids whether the direct map answers or the hash path does: ids in
// order of first appearance, equal keys one id, through batches that widen
// the map downwards and upwards, carry NULLs, or spread too wide for it;
// then that a lookup, which ends the direct mode, and inserts after it
// find the same ids as well.
func TestKeyTableDirect(t *testing.T) {
	const wide = directMaxSpan + 5
	tests := []struct {
		name    string
		dt      arrow.DataType
		batches [][]any // int64 values (nil: NULL), converted to dt
		direct  bool    // whether the map is still on at the end
	}{
		{"small codes", tI64, [][]any{{3, 1, 3, 2}, {1, 2, 3, 3}, {2}}, true},
		{"widen down then up", tI64, [][]any{{10, 11}, {-5, 10}, {11, 400, -5}, {400, 10}}, true},
		{"nulls", tI64, [][]any{{1, nil, 2}, {2, 1}, {nil, nil, 3}, {3, 1}}, true},
		{"too wide turns it off", tI64, [][]any{{0, 1}, {int64(wide), 0}, {1, 0, int64(wide)}, {7}}, false},
		{"int32", tI32, [][]any{{-7, 7, -7}, {7, 0}, {0, -7, 7}}, true},
		{"date", tDate, [][]any{{19000, 19001}, {19001, 18990}, {18990, 19000}}, true},
		{"float bits", tF64, [][]any{{1.5, 0.0, 1.5}, {math.Copysign(0, -1), 1.5}}, false},
		{"extremes stay off the map", tI64, [][]any{{int64(math.MaxInt64), int64(math.MinInt64)}, {int64(math.MinInt64), int64(math.MaxInt64)}}, false},
		{"near the limit", tI64, [][]any{{int64(directLimit - 1), int64(directLimit)}, {int64(directLimit), int64(math.MinInt64)}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := tMem(t)
			withMap, err := newKeyTable([]arrow.DataType{tc.dt})
			if err != nil {
				t.Fatal(err)
			}
			hashed, _ := newKeyTable([]arrow.DataType{tc.dt})
			hashed.direct = nil
			if withMap.direct == nil {
				t.Fatal("no direct map for an integer column")
			}
			for b, vals := range tc.batches {
				arr := directTestArray(mem, tc.dt, vals)
				got := make([]uint32, len(vals))
				want := make([]uint32, len(vals))
				nGot := withMap.insert([]arrow.Array{arr}, len(vals), got)
				nWant := hashed.insert([]arrow.Array{arr}, len(vals), want)
				arr.Release()
				if nGot != nWant {
					t.Errorf("batch %d: %d new keys, hash path %d", b, nGot, nWant)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("batch %d row %d (%v): id %d, hash path %d", b, i, vals[i], got[i], want[i])
					}
				}
			}
			if withMap.Len() != hashed.Len() {
				t.Errorf("%d keys, hash path %d", withMap.Len(), hashed.Len())
			}
			if on := withMap.direct != nil && len(withMap.direct.ids) > 0; on != tc.direct {
				t.Errorf("direct map in use: %v, want %v", on, tc.direct)
			}

			// A lookup of every key seen, and of some never seen, then one
			// more insert of them all.
			probe := []any{nil, int64(-1000000), int64(123456789)}
			for _, vals := range tc.batches {
				probe = append(probe, vals...)
			}
			if tc.dt == tF64 {
				probe = []any{nil, 2.5, 1.5, 0.0}
			}
			for _, add := range []bool{false, true} {
				arr := directTestArray(mem, tc.dt, probe)
				got := make([]uint32, len(probe))
				want := make([]uint32, len(probe))
				if add {
					withMap.insert([]arrow.Array{arr}, len(probe), got)
					hashed.insert([]arrow.Array{arr}, len(probe), want)
				} else {
					withMap.lookup([]arrow.Array{arr}, len(probe), got)
					hashed.lookup([]arrow.Array{arr}, len(probe), want)
					if withMap.direct != nil {
						t.Error("direct mode still on after a lookup")
					}
				}
				arr.Release()
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("insert %v, key %v: id %d, hash path %d", add, probe[i], got[i], want[i])
					}
				}
			}
		})
	}
}

// directTestArray makes an array of dt from int64 (or float64) values.
func directTestArray(mem memory.Allocator, dt arrow.DataType, vals []any) arrow.Array {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(toInt64(v))
		case *array.Int32Builder:
			b.Append(int32(toInt64(v)))
		case *array.Date32Builder:
			b.Append(arrow.Date32(toInt64(v)))
		case *array.Float64Builder:
			b.Append(v.(float64))
		}
	}
	return b.NewArray()
}

func toInt64(v any) int64 {
	if i, ok := v.(int); ok {
		return int64(i)
	}
	return v.(int64)
}
