package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// TestSortKeyOrder checks that bytes.Compare of encoded keys agrees with
// PostgreSQL's order for every direction and NULL placement.
func TestSortKeyOrder(t *testing.T) {
	mem := tMem(t)
	rng := rand.New(rand.NewPCG(21, 22))
	sch := sortSchema()
	rows := sortTestRows(rng, 400)
	rec := tBatch(mem, sch, rows...)
	defer rec.Release()
	for _, col := range []int{0, 1, 2, 3} {
		for _, desc := range []bool{false, true} {
			for _, nf := range []bool{false, true} {
				keys := []SortKey{{Column: col, Desc: desc, NullsFirst: nf}}
				t.Run(fmt.Sprint(keys), func(t *testing.T) {
					enc, err := NewSortKeyEncoder(sch, keys)
					if err != nil {
						t.Fatal(err)
					}
					enc.Bind(rec)
					for range 2000 {
						i, j := rng.IntN(len(rows)), rng.IntN(len(rows))
						got := bytes.Compare(enc.Append(nil, i), enc.Append(nil, j))
						want := compareRows(rows[i], rows[j], keys)
						if got != want {
							t.Fatalf("rows %v and %v: encoded order %d, want %d", rows[i], rows[j], got, want)
						}
					}
				})
			}
		}
	}
}

func TestSortKeyUnsupported(t *testing.T) {
	_, err := NewSortKeyEncoder(tSchema("l", arrow.ListOf(tI64)), []SortKey{Asc(0)})
	if sqlerr.Code(err) != sqlerr.FeatureNotSupported {
		t.Fatalf("err = %v", err)
	}
}
