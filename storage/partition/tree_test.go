package partition

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/schema"
)

func counter() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("n%d", n) }
}

func ints(vs ...int64) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = schema.EncodeInt(v)
	}
	return out
}

func TestFromSplitPoints(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			pts := make([]int64, n)
			for i := range pts {
				pts[i] = int64(i * 10)
			}
			tree, err := FromSplitPoints(1, ints(pts...), counter())
			if err != nil {
				t.Fatal(err)
			}
			if err := tree.Check(); err != nil {
				t.Fatal(err)
			}
			leaves := tree.Leaves()
			if len(leaves) != n+1 {
				t.Fatalf("got %d leaves, want %d", len(leaves), n+1)
			}
			// Leaves are in key order and every key finds the leaf holding it.
			for i, leaf := range leaves {
				if i > 0 && string(leaves[i-1].Region[0].Max) != string(leaf.Region[0].Min) {
					t.Fatalf("leaf %d does not start where leaf %d ends", i, i-1)
				}
			}
			for v := int64(-5); v < int64(n*10+5); v++ {
				k := ints(v)
				leaf := tree.LeafFor(k)
				if !leaf.Region[0].Contains(k[0]) {
					t.Fatalf("key %d routed to %s %v", v, leaf.ID, leaf.Region)
				}
			}
		})
	}
}

func TestSplitPointsMustIncrease(t *testing.T) {
	if _, err := FromSplitPoints(1, ints(5, 5), counter()); err == nil {
		t.Fatal("want an error for repeated split points")
	}
	if _, err := FromSplitPoints(1, ints(6, 5), counter()); err == nil {
		t.Fatal("want an error for decreasing split points")
	}
}

func TestSplitErrors(t *testing.T) {
	tree := New(2)
	if err := tree.Split(RootID, 0, schema.EncodeInt(0), "a", "b"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		id          string
		dim         int
		point       []byte
		left, right string
	}{
		{"missing", "zz", 0, schema.EncodeInt(1), "c", "d"},
		{"not a leaf", RootID, 0, schema.EncodeInt(1), "c", "d"},
		{"bad dim", "a", 2, schema.EncodeInt(-1), "c", "d"},
		{"point at min", "b", 0, schema.EncodeInt(0), "c", "d"},
		{"point above max", "a", 0, schema.EncodeInt(3), "c", "d"},
		{"id taken", "a", 0, schema.EncodeInt(-3), "b", "d"},
		{"same ids", "a", 0, schema.EncodeInt(-3), "c", "c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := tree.Clone().Split(c.id, c.dim, c.point, c.left, c.right); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestRandomSplitsCoverOnce splits random leaves on random dimensions and
// checks that every key lands in exactly one leaf, by the tree and the
// router alike.
func TestRandomSplitsCoverOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tree := New(2)
	n := 0
	for i := 0; i < 200; i++ {
		leaves := tree.Leaves()
		leaf := leaves[rng.IntN(len(leaves))]
		dim := rng.IntN(2)
		p := ints(rng.Int64N(2000) - 1000)[0]
		if !leaf.Region[dim].Contains(p) || string(leaf.Region[dim].Min) == string(p) {
			continue
		}
		n++
		if err := tree.Split(leaf.ID, dim, p, fmt.Sprintf("l%d", n), fmt.Sprintf("r%d", n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tree.Check(); err != nil {
		t.Fatal(err)
	}
	// LeavesWhere with a region test prunes subtrees yet finds exactly
	// the leaves a test of every leaf finds, in the same order.
	for i := 0; i < 100; i++ {
		lo, hi := ints(rng.Int64N(2000) - 1000)[0], ints(rng.Int64N(2000) - 1000)[0]
		dim := rng.IntN(2)
		meets := func(p *Partition) bool {
			r := p.Region[dim]
			return (len(r.Max) == 0 || string(r.Max) > string(lo)) && (len(r.Min) == 0 || string(r.Min) <= string(hi))
		}
		var want []string
		for _, leaf := range tree.Leaves() {
			if meets(leaf) {
				want = append(want, leaf.ID)
			}
		}
		var got []string
		for _, leaf := range tree.LeavesWhere(meets) {
			got = append(got, leaf.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("LeavesWhere [%x, %x] on %d: %v, want %v", lo, hi, dim, got, want)
		}
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	b0, b1 := array.NewInt64Builder(alloc), array.NewInt64Builder(alloc)
	for i := 0; i < 5000; i++ {
		b0.Append(rng.Int64N(2400) - 1200)
		b1.Append(rng.Int64N(2400) - 1200)
	}
	c0, c1 := b0.NewArray(), b1.NewArray()
	b0.Release()
	b1.Release()
	sch := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(sch, []arrow.Array{c0, c1}, int64(c0.Len()))
	c0.Release()
	c1.Release()
	defer rec.Release()
	router := NewRouter(tree)
	leaves := router.Leaves()
	for row := 0; row < int(rec.NumRows()); row++ {
		key := [][]byte{schema.AppendValue(nil, rec.Column(0), row), schema.AppendValue(nil, rec.Column(1), row)}
		holders := 0
		for _, leaf := range leaves {
			if leaf.Region[0].Contains(key[0]) && leaf.Region[1].Contains(key[1]) {
				holders++
			}
		}
		if holders != 1 {
			t.Fatalf("row %d is in %d leaves", row, holders)
		}
		want := tree.LeafFor(key)
		if got := leaves[router.Leaf(rec, row)]; got.ID != want.ID {
			t.Fatalf("row %d: router says %s, tree says %s", row, got.ID, want.ID)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	tree, err := FromSplitPoints(1, ints(1, 2, 3), counter())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	var back Tree
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed the tree:\n%s\n%s", data, again)
	}
	// A tree whose split does not cover its parent is rejected on decode.
	bad := []byte(`[{"id":"root","children":["a","b"],"region":[{}],"split":"AQ=="},{"id":"a","parent":"root","region":[{"max":"AQ=="}]},{"id":"b","parent":"root","region":[{"min":"Ag=="}]}]`)
	if err := json.Unmarshal(bad, &back); err == nil {
		t.Fatal("want an error for a tree with a gap")
	}
}

func TestDescribe(t *testing.T) {
	got := Describe([]schema.Type{schema.BigInt, schema.Varchar}, []Range{{Min: schema.EncodeInt(5)}, {Max: []byte("m")}})
	if want := "[5, +inf) × [-inf, m)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
