package engine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// shortTestSchema is scanTestSchema with k its only row key: the same
// columns in the same storage order, so scanTestIngest and scanTestWant
// serve it.
var shortTestSchema = &schema.Schema{
	RowKeys:  scanTestSchema.RowKeys[:1],
	SortKeys: []schema.Column{scanTestSchema.RowKeys[1], scanTestSchema.SortKeys[0]},
	Values:   scanTestSchema.Values,
}

// shortTestRun runs p through its short read, which must apply, and
// returns the rows and whether a file was read the general way.
func shortTestRun(t *testing.T, ec *ExecContext, p *TableScan) (rows []string, general bool) {
	t.Helper()
	if _, ok := p.shortKeys(); !ok {
		t.Fatalf("no short read for %v", p.Filters)
	}
	op, err := p.Open(ec)
	if err != nil {
		t.Fatal(err)
	}
	short := op.(*scanShortOp)
	for {
		rec, err := short.Next(ec.Ctx)
		general = general || short.general != nil
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			var s string
			for c := range int(rec.NumCols()) {
				if c > 0 {
					s += "|"
				}
				s += scanTestText(rec.Column(c), i)
			}
			rows = append(rows, s)
		}
		rec.Release()
	}
	if err := short.Close(); err != nil {
		t.Fatal(err)
	}
	return rows, general
}

// TestScanShortRead checks the short read against brute force: points,
// IN lists and small ranges of the key, within a leaf and across split
// points, over leaves whose files are shared after splits and hold
// several rows per key, with any columns (none too) and limits.
func TestScanShortRead(t *testing.T) { shortTestRandom(t, storagetest.LocalStore(t), 120) }

// TestScanShortReadS3 runs the short reads against the test S3 server,
// whose ranged reads fetch the pages the page cache does not hold.
func TestScanShortReadS3(t *testing.T) { shortTestRandom(t, s3test.NewStore(t), 25) }

func shortTestRandom(t *testing.T, store objstore.Store, iterations int) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(21, 22))
	tb := scanTestTableOf(t, store, shortTestSchema, "short", []int64{500, 1000, 1500}, 700, 2048)
	rows := scanTestRows(rng, 12000, 2000, 0)
	scanTestIngest(t, tb, rows[:7000])
	scanTestSplit(t, tb, 1200, "a", 0, schema.EncodeInt(1250))
	scanTestIngest(t, tb, rows[7000:])
	scanTestSplit(t, tb, 1600, "a", 0, schema.EncodeInt(1700)) // its two files now shared
	if err := tb.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := func(k int64) []byte { return schema.EncodeInt(k) }
	pool := NewReaderPool(4, 1<<20)
	defer func() {
		if st := pool.PageCache().Stats(); st.Hits == 0 {
			t.Errorf("the page cache served no short read: %+v", st)
		}
		pool.Close()
	}()
	var room Room
	for iter := range iterations {
		var spans SpanSet
		switch rng.IntN(4) {
		case 0:
			spans = Eq(schema.BigInt, key(int64(rng.IntN(2100))))
		case 1:
			var vs [][]byte
			for range 1 + rng.IntN(5) {
				vs = append(vs, key(int64(rng.IntN(2100))))
			}
			spans = In(schema.BigInt, vs)
		case 2:
			lo := int64(rng.IntN(2000))
			spans = Between(schema.BigInt, key(lo), key(lo+int64(rng.IntN(30))))
		default: // across a split point
			at := []int64{500, 1000, 1250, 1500, 1700}[rng.IntN(5)]
			spans = Between(schema.BigInt, key(at-int64(rng.IntN(4))), key(at+int64(rng.IntN(4))))
		}
		var columns []int
		for _, c := range rng.Perm(6) {
			if rng.IntN(2) == 0 {
				columns = append(columns, c)
			}
		}
		filters := []ColumnSpans{{Column: scanColK, Spans: spans}}
		p := scanTestScan(t, tb, columns, filters)
		if rng.IntN(4) == 0 {
			p.Limit = int64(rng.IntN(4))
		}
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			ec := scanTestExec(t, mem)
			if iter%2 == 1 {
				// Go's allocator: pooled readers and their page cache, the
				// way the server reads (the checked allocator opens a
				// reader of its own, without a cache), and the operator
				// of the last such read reused, as a kept plan's is.
				ec.Alloc, ec.Readers, ec.Room = memory.DefaultAllocator, pool, &room
			}
			got, general := shortTestRun(t, ec, p)
			if ec.Room != nil && room.short == nil {
				t.Errorf("the closed operator was not kept")
			}
			if general {
				t.Errorf("a file was read the general way")
			}
			want := scanTestWant(rows, columns, filters)
			if p.Limit < 0 {
				scanTestSameRows(t, got, want)
				return
			}
			if len(got) != min(len(want), int(p.Limit)) {
				t.Fatalf("limit %d: %d rows of %d", p.Limit, len(got), len(want))
			}
			left := map[string]int{}
			for _, w := range want {
				left[w]++
			}
			for _, g := range got {
				if left[g]--; left[g] < 0 {
					t.Fatalf("row %q not among %v", g, scanTestHead(want))
				}
			}
		})
	}

	// What EXPLAIN ANALYZE counts: one of four leaves (five after the
	// splits), the files of that leaf that can hold the key.
	p := scanTestScan(t, tb, []int{scanColV}, []ColumnSpans{{Column: scanColK, Spans: Eq(schema.BigInt, key(300))}})
	ec := scanTestExec(t, mem)
	shortTestRun(t, ec, p)
	if got := scanTestCounter(ec, p, "partitions"); got != [2]int64{1, 6} {
		t.Errorf("partitions %d/%d, want 1/6", got[0], got[1])
	}
	if got := scanTestCounter(ec, p, "files"); got != [2]int64{2, 2} {
		t.Errorf("files %d/%d, want 2/2", got[0], got[1])
	}
	if got := scanTestCounter(ec, p, "pages"); got[0] == 0 || got[0] >= got[1] {
		t.Errorf("pages %d/%d, want some of more", got[0], got[1])
	}
}

// TestScanShortReadFallsBack checks that a file the short read cannot
// read (here a key with more rows than the direct path reads at once) is
// read the general way, with the same answer.
func TestScanShortReadFallsBack(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(23, 24))
	tb := scanTestTableOf(t, storagetest.LocalStore(t), shortTestSchema, "hot", nil, 100_000, 8192)
	rows := scanTestRows(rng, 30000, 40, 0) // ~750 rows per key
	for i := range 20000 {
		rows[i].k = 7 // a hot key: 20,000 rows in one row group
	}
	scanTestIngest(t, tb, rows)
	for _, c := range []struct {
		spans   SpanSet
		general bool
	}{
		{Eq(schema.BigInt, schema.EncodeInt(7)), true},
		{Eq(schema.BigInt, schema.EncodeInt(8)), false},
		{In(schema.BigInt, [][]byte{schema.EncodeInt(3), schema.EncodeInt(7)}), true},
	} {
		filters := []ColumnSpans{{Column: scanColK, Spans: c.spans}}
		columns := []int{scanColK, scanColSeq, scanColName}
		ec, scan := scanTestExec(t, mem), scanTestScan(t, tb, columns, filters)
		got, general := shortTestRun(t, ec, scan)
		if general != c.general {
			t.Errorf("%s: read the general way %v, want %v", c.spans.Format(schema.BigInt), general, c.general)
		}
		scanTestSameRows(t, got, scanTestWant(rows, columns, filters))
		// EXPLAIN ANALYZE counts the file once, and its row group
		// however it was read.
		for name, want := range map[string][2]int64{"files": {1, 1}, "row groups": {1, 1}} {
			if got := scanTestCounter(ec, scan, name); got != want {
				t.Errorf("%s: %s %d/%d, want %d/%d", c.spans.Format(schema.BigInt), name, got[0], got[1], want[0], want[1])
			}
		}
	}
}

// TestScanShortReadOddRegionBound splits a leaf at a bound that is no
// integer's encoding (a key with a byte after it; split points never are,
// but the log does not forbid it): the ranges clipped to the leaves can
// then not be searched as integers, and the file is read the general way,
// which compares bytes, rather than found empty.
func TestScanShortReadOddRegionBound(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(7, 8))
	tb := scanTestTableOf(t, storagetest.LocalStore(t), shortTestSchema, "odd", nil, 700, 2048)
	rows := scanTestRows(rng, 3000, 2000, 0)
	scanTestIngest(t, tb, rows)
	scanTestSplit(t, tb, 1200, "a", 0, append(schema.EncodeInt(1250), 0))
	filters := []ColumnSpans{{Column: scanColK, Spans: Between(schema.BigInt, schema.EncodeInt(1245), schema.EncodeInt(1255))}}
	cols := []int{scanColK, scanColSeq}
	got, _ := shortTestRun(t, scanTestExec(t, mem), scanTestScan(t, tb, cols, filters))
	scanTestSameRows(t, got, scanTestWant(rows, cols, filters))
}

// TestScanShortKeys checks which scans the short read takes.
func TestScanShortKeys(t *testing.T) {
	store := storagetest.LocalStore(t)
	one := scanTestTableOf(t, store, shortTestSchema, "one", nil, 1000, 8192)
	two := scanTestTable(t, store, "two", nil, 1000, 8192)
	k := func(v int64) []byte { return schema.EncodeInt(v) }
	eq := []ColumnSpans{{Column: scanColK, Spans: Eq(schema.BigInt, k(5))}}
	for _, c := range []struct {
		name    string
		tb      *table.Table
		filters []ColumnSpans
		columns []int
		ordered bool
		want    bool
	}{
		{"point", one, eq, []int{scanColV}, false, true},
		{"no columns", one, eq, nil, false, true},
		{"IN", one, []ColumnSpans{{Column: scanColK, Spans: In(schema.BigInt, [][]byte{k(1), k(9)})}}, []int{scanColV}, false, true},
		{"two filters on k", one, append(eq, ColumnSpans{Column: scanColK, Spans: Ge(schema.BigInt, k(0))}), []int{scanColV}, false, true},
		{"wide range", one, []ColumnSpans{{Column: scanColK, Spans: Between(schema.BigInt, k(0), k(5000))}}, []int{scanColV}, false, false},
		{"open range", one, []ColumnSpans{{Column: scanColK, Spans: Ge(schema.BigInt, k(0))}}, []int{scanColV}, false, false},
		{"a value filter too", one, append(eq, ColumnSpans{Column: scanColV, Spans: Eq(schema.BigInt, k(1))}), []int{scanColV}, false, false},
		{"no filter", one, nil, []int{scanColV}, false, false},
		{"ordered", one, eq, []int{scanColK}, true, false},
		{"repeated column", one, eq, []int{scanColV, scanColV}, false, false},
		{"two row keys", two, eq, []int{scanColV}, false, false},
	} {
		p := scanTestScan(t, c.tb, c.columns, c.filters)
		p.Ordered = c.ordered
		if _, got := p.shortKeys(); got != c.want {
			t.Errorf("%s: short read %v, want %v", c.name, got, c.want)
		}
	}
}
