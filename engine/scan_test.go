package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3/s3test"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

// scanTestSchema has two row keys (so that leaves can be split on the
// second), a sort key and nullable values of three types.
var scanTestSchema = &schema.Schema{
	RowKeys:  []schema.Column{{Name: "k", Type: schema.BigInt}, {Name: "g", Type: schema.Varchar}},
	SortKeys: []schema.Column{{Name: "seq", Type: schema.BigInt}},
	Values: []schema.Column{
		{Name: "name", Type: schema.Varchar, Nullable: true},
		{Name: "v", Type: schema.BigInt, Nullable: true},
		{Name: "d", Type: schema.Double, Nullable: true},
	},
}

const (
	scanColK, scanColG, scanColSeq, scanColName, scanColV, scanColD = 0, 1, 2, 3, 4, 5
)

// scanTestRow is one generated row; nil pointers are NULLs.
type scanTestRow struct {
	k    int64
	g    string
	seq  int64
	name *string
	v    *int64
	d    *float64
}

// value returns the plain encoding of column c, or nil for NULL.
func (r scanTestRow) value(c int) []byte {
	switch c {
	case scanColK:
		return schema.EncodeInt(r.k)
	case scanColG:
		return []byte(r.g)
	case scanColSeq:
		return schema.EncodeInt(r.seq)
	case scanColName:
		if r.name == nil {
			return nil
		}
		return []byte(*r.name)
	case scanColV:
		if r.v == nil {
			return nil
		}
		return schema.EncodeInt(*r.v)
	case scanColD:
		if r.d == nil {
			return nil
		}
		return schema.EncodeFloat(*r.d)
	}
	panic("no column")
}

// text renders column c as scanTestText renders Arrow values.
func (r scanTestRow) text(c int) string {
	switch c {
	case scanColK:
		return strconv.FormatInt(r.k, 10)
	case scanColG:
		return r.g
	case scanColSeq:
		return strconv.FormatInt(r.seq, 10)
	case scanColName:
		if r.name != nil {
			return *r.name
		}
	case scanColV:
		if r.v != nil {
			return strconv.FormatInt(*r.v, 10)
		}
	case scanColD:
		if r.d != nil {
			return strconv.FormatFloat(*r.d, 'g', -1, 64)
		}
	}
	return "NULL"
}

// scanTestRows generates n rows with keys in [0, keys), sequence numbers
// from seq0, in random order.
func scanTestRows(rng *rand.Rand, n, keys int, seq0 int64) []scanTestRow {
	rows := make([]scanTestRow, n)
	for i := range rows {
		r := scanTestRow{k: int64(rng.IntN(keys)), g: string(rune('a' + rng.IntN(5))), seq: seq0 + int64(i)}
		if rng.IntN(6) > 0 {
			s := fmt.Sprintf("n%03d", rng.IntN(300))
			r.name = &s
		}
		if rng.IntN(5) > 0 {
			v := int64(rng.IntN(1000) - 500)
			r.v = &v
		}
		if rng.IntN(5) > 0 {
			d := float64(rng.IntN(2000)-1000) / 8
			r.d = &d
		}
		rows[i] = r
	}
	return rows
}

// scanTestInput feeds batches to ingest.
type scanTestInput struct{ recs []arrow.RecordBatch }

func (in *scanTestInput) Next() (arrow.RecordBatch, error) {
	if len(in.recs) == 0 {
		return nil, io.EOF
	}
	rec := in.recs[0]
	in.recs = in.recs[1:]
	return rec, nil
}

func (in *scanTestInput) Close() error {
	for _, r := range in.recs {
		r.Release()
	}
	in.recs = nil
	return nil
}

// scanTestIngest ingests rows in batches of at most 5000.
func scanTestIngest(t testing.TB, tb *table.Table, rows []scanTestRow) {
	t.Helper()
	in := &scanTestInput{}
	for start := 0; start < len(rows); start += 5000 {
		b := array.NewRecordBuilder(memory.DefaultAllocator, scanTestSchema.Arrow())
		for _, r := range rows[start:min(len(rows), start+5000)] {
			b.Field(0).(*array.Int64Builder).Append(r.k)
			b.Field(1).(*array.StringBuilder).Append(r.g)
			b.Field(2).(*array.Int64Builder).Append(r.seq)
			if r.name != nil {
				b.Field(3).(*array.StringBuilder).Append(*r.name)
			} else {
				b.Field(3).AppendNull()
			}
			if r.v != nil {
				b.Field(4).(*array.Int64Builder).Append(*r.v)
			} else {
				b.Field(4).AppendNull()
			}
			if r.d != nil {
				b.Field(5).(*array.Float64Builder).Append(*r.d)
			} else {
				b.Field(5).AppendNull()
			}
		}
		in.recs = append(in.recs, b.NewRecordBatch())
		b.Release()
	}
	defer in.Close()
	if _, err := ingest.Ingest(context.Background(), tb, []ingest.RecordReader{in}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// scanTestTable creates a table split at the given values of k, with
// small row groups and pages.
func scanTestTable(t testing.TB, store objstore.Store, name string, splits []int64, rowGroupRows, pageBytes int) *table.Table {
	t.Helper()
	return scanTestTableOf(t, store, scanTestSchema, name, splits, rowGroupRows, pageBytes)
}

// scanTestTableOf is scanTestTable for a table of schema sch, whose first
// column must be k.
func scanTestTableOf(t testing.TB, store objstore.Store, sch *schema.Schema, name string, splits []int64, rowGroupRows, pageBytes int) *table.Table {
	t.Helper()
	db := storagetest.NewDB(t, store)
	var points [][]byte
	for _, s := range splits {
		points = append(points, schema.EncodeInt(s))
	}
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{
		Name: name, Schema: sch, SplitPoints: points,
		Properties: catalog.Properties{"row_group_rows": strconv.Itoa(rowGroupRows), "page_size_bytes": strconv.Itoa(pageBytes)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// scanTestSplit splits the leaf holding key (k, g) on dimension dim at
// point, after the fact: its files become shared by the two children.
func scanTestSplit(t testing.TB, tb *table.Table, k int64, g string, dim int, point []byte) {
	t.Helper()
	ctx := context.Background()
	s, _, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaf := s.Partitions.LeafFor([][]byte{schema.EncodeInt(k), []byte(g)})
	_, err = tb.Commit(ctx, &state.Txn{SplitPartition: &state.SplitPartition{
		Partition: leaf.ID, Dim: dim, Point: point, Left: leaf.ID + "L", Right: leaf.ID + "R"}})
	if err != nil {
		t.Fatal(err)
	}
}

// scanTestScan builds a scan at the head of the table's log.
func scanTestScan(t testing.TB, tb *table.Table, columns []int, filters []ColumnSpans) *TableScan {
	t.Helper()
	s, seq, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := NewTableScan(tb, s, seq, columns)
	p.Filters = filters
	return p
}

func scanTestExec(t testing.TB, mem memory.Allocator) *ExecContext {
	return &ExecContext{Ctx: context.Background(), Alloc: mem, Stats: &Stats{}, Parallelism: 3}
}

// scanTestText renders one Arrow value.
func scanTestText(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "NULL"
	}
	switch a := col.(type) {
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.String:
		return a.Value(i)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	}
	return col.ValueStr(i)
}

// scanTestCollect runs a plan and returns its rows rendered as text, in
// output order, checking the schema of every batch.
func scanTestCollect(t testing.TB, ec *ExecContext, p Plan) []string {
	t.Helper()
	op, err := OpenPlan(ec, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		rec, err := op.Next(ec.Ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			op.Close()
			t.Fatal(err)
		}
		if !rec.Schema().Equal(p.Schema()) {
			t.Fatalf("batch schema %v, want %v", rec.Schema(), p.Schema())
		}
		for i := range int(rec.NumRows()) {
			fields := make([]string, rec.NumCols())
			for c := range fields {
				fields[c] = scanTestText(rec.Column(c), i)
			}
			out = append(out, strings.Join(fields, "|"))
		}
		rec.Release()
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scanTestWant filters rows by brute force and renders the columns.
func scanTestWant(rows []scanTestRow, columns []int, filters []ColumnSpans) []string {
	var out []string
next:
	for _, r := range rows {
		for _, f := range filters {
			v := r.value(f.Column)
			if v == nil || !f.Spans.Contains(v) {
				continue next
			}
		}
		fields := make([]string, len(columns))
		for i, c := range columns {
			fields[i] = r.text(c)
		}
		out = append(out, strings.Join(fields, "|"))
	}
	return out
}

func scanTestSameRows(t testing.TB, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d rows, want %d\n got: %s\nwant: %s", len(got), len(want), scanTestHead(got), scanTestHead(want))
	}
}

func scanTestHead(rows []string) string {
	if len(rows) > 8 {
		return strings.Join(rows[:8], " ") + " …"
	}
	return strings.Join(rows, " ")
}

// scanTestRandomSpans draws a span set of column c over values like the
// generated ones.
func scanTestRandomSpans(rng *rand.Rand, c int) SpanSet {
	typ := scanTestSchema.Columns()[c].Type
	val := func() []byte {
		switch c {
		case scanColK:
			return schema.EncodeInt(int64(rng.IntN(2100) - 50))
		case scanColG:
			return []byte(string(rune('a' + rng.IntN(6))))
		case scanColSeq:
			return schema.EncodeInt(int64(rng.IntN(25000)))
		case scanColName:
			return []byte(fmt.Sprintf("n%03d", rng.IntN(320)))
		case scanColV:
			return schema.EncodeInt(int64(rng.IntN(1100) - 550))
		}
		return schema.EncodeFloat(float64(rng.IntN(2200)-1100) / 8)
	}
	var ss SpanSet
	for range 1 + rng.IntN(3) {
		a, b := val(), val()
		if bytes.Compare(a, b) > 0 {
			a, b = b, a
		}
		var s SpanSet
		switch rng.IntN(7) {
		case 0:
			s = Eq(typ, a)
		case 1:
			s = Lt(typ, a)
		case 2:
			s = Ge(typ, b)
		case 3:
			vals := [][]byte{a, b, val()}
			s = In(typ, vals)
		case 4:
			if typ == schema.Varchar {
				s = Prefix(a[:len(a)-1])
			} else {
				s = Gt(typ, a)
			}
		default:
			s = Between(typ, a, b)
		}
		ss = ss.Union(s)
	}
	if rng.IntN(8) == 0 {
		ss = ss.Complement()
	}
	return ss
}

// TestScanRandomSpans compares scans under random filters, columns,
// order and parallelism with a brute-force filter of the generated rows,
// on a table with several files per partition, shared files after splits
// on both row key dimensions, and small row groups and pages.
func TestScanRandomSpans(t *testing.T) { scanTestRandom(t, storagetest.LocalStore(t), 80) }

// TestScanS3 runs the random scans against the test S3 server, when one
// is set up (make test, or scripts/with-s3.sh).
func TestScanS3(t *testing.T) {
	// s3test fails without a test S3 server (unless DORMOUSE_SKIP_S3=1
	// skips it loudly): the S3 path is never skipped silently.
	scanTestRandom(t, s3test.NewStore(t), 10)
}

func scanTestRandom(t *testing.T, store objstore.Store, iterations int) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(11, 12))
	tb := scanTestTable(t, store, "random", []int64{500, 1000, 1500}, 700, 2048)
	rows := scanTestRows(rng, 12000, 2000, 0)
	scanTestIngest(t, tb, rows[:7000])
	scanTestSplit(t, tb, 1200, "a", 0, schema.EncodeInt(1250)) // [1000,1500) at 1250
	scanTestSplit(t, tb, 100, "a", 1, []byte("c"))             // [-inf,500) on g at "c"
	scanTestIngest(t, tb, rows[7000:])                         // second files per leaf
	scanTestSplit(t, tb, 1600, "a", 0, schema.EncodeInt(1700)) // its two files now shared
	scanTestSplit(t, tb, 1800, "z", 1, []byte("b\x00"))        // on g again
	if err := tb.Check(context.Background()); err != nil {
		t.Fatal(err)
	}

	for iter := range iterations {
		var columns []int
		for _, c := range rng.Perm(6) {
			if rng.IntN(2) == 0 {
				columns = append(columns, c)
			}
		}
		var filters []ColumnSpans
		for range rng.IntN(4) {
			c := []int{scanColK, scanColK, scanColG, scanColSeq, scanColName, scanColV, scanColD}[rng.IntN(7)]
			filters = append(filters, ColumnSpans{Column: c, Spans: scanTestRandomSpans(rng, c)})
		}
		p := scanTestScan(t, tb, columns, filters)
		p.Ordered = rng.IntN(3) == 0
		if p.Ordered {
			// Output the keys, somewhere, to check the order.
			for _, k := range []int{scanColSeq, scanColG, scanColK} {
				if scanIndexOf(p.Columns, k) < 0 {
					p.Columns = append(p.Columns, k)
				}
			}
			rng.Shuffle(len(p.Columns), func(i, j int) { p.Columns[i], p.Columns[j] = p.Columns[j], p.Columns[i] })
		}
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			ec := scanTestExec(t, mem)
			ec.Parallelism = 1 + rng.IntN(4)
			got := scanTestCollect(t, ec, p)
			want := scanTestWant(rows, p.Columns, filters)
			scanTestSameRows(t, got, want)
			if p.Ordered {
				scanTestCheckOrder(t, got, p.Columns)
			}
			// The parts, run one by one, give the same rows.
			var parts []string
			for _, part := range p.Parts() {
				parts = append(parts, scanTestCollect(t, ec, part)...)
			}
			scanTestSameRows(t, parts, want)
		})
	}
}

// scanTestCheckOrder checks rendered rows for key order (k, g, seq).
func scanTestCheckOrder(t testing.TB, rows []string, columns []int) {
	t.Helper()
	pos := []int{scanIndexOf(columns, scanColK), scanIndexOf(columns, scanColG), scanIndexOf(columns, scanColSeq)}
	key := func(row string) (int64, string, int64) {
		f := strings.Split(row, "|")
		k, _ := strconv.ParseInt(f[pos[0]], 10, 64)
		s, _ := strconv.ParseInt(f[pos[2]], 10, 64)
		return k, f[pos[1]], s
	}
	for i := 1; i < len(rows); i++ {
		k0, g0, s0 := key(rows[i-1])
		k1, g1, s1 := key(rows[i])
		if k0 > k1 || (k0 == k1 && (g0 > g1 || (g0 == g1 && s0 > s1))) {
			t.Fatalf("rows %d and %d out of key order: %s, %s", i-1, i, rows[i-1], rows[i])
		}
	}
}

// scanTestCounter returns a pruning counter of a node.
func scanTestCounter(ec *ExecContext, p Plan, name string) [2]int64 {
	n := ec.Stats.Node(p)
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Counter[name]
}

// TestScanPruning checks the counts of partitions, files, row groups and
// pages kept for a selective key range, and that the bytes read from the
// store shrink with them.
func TestScanPruning(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	store := &scanTestStore{Store: storagetest.LocalStore(t)}
	rng := rand.New(rand.NewPCG(13, 14))
	// 8 partitions of 1000 keys and 20000 rows; 2 files each; row groups
	// of 5000 rows. Pages are cut every 1024 values at the least (the
	// Parquet writer's write batch), so pages of 1 KiB hold 1024 values.
	tb := scanTestTable(t, store, "pruning", []int64{1000, 2000, 3000, 4000, 5000, 6000, 7000}, 5000, 1024)
	rows := scanTestRows(rng, 160000, 8000, 0)
	scanTestIngest(t, tb, rows[:80000])
	scanTestIngest(t, tb, rows[80000:])

	all := []int{scanColK, scanColG, scanColSeq, scanColName, scanColV, scanColD}
	full := scanTestScan(t, tb, all, nil)
	ec := scanTestExec(t, mem)
	before := store.read.Load()
	got := scanTestCollect(t, ec, full)
	fullBytes := store.read.Load() - before
	if len(got) != len(rows) {
		t.Fatalf("full scan: %d rows, want %d", len(got), len(rows))
	}
	for _, c := range []struct {
		name string
		want [2]int64
	}{{"partitions", [2]int64{8, 8}}, {"files", [2]int64{16, 16}}} {
		if got := scanTestCounter(ec, full, c.name); got != c.want {
			t.Errorf("full scan: %s %d/%d, want %d/%d", c.name, got[0], got[1], c.want[0], c.want[1])
		}
	}
	if rg := scanTestCounter(ec, full, "row groups"); rg[0] != rg[1] || rg[1] < 32 {
		t.Errorf("full scan: row groups %d/%d, want all of 32 or more", rg[0], rg[1])
	}

	// k in [2100, 2110): one partition, its two files, one row group of
	// each, a page or two of each column.
	filters := []ColumnSpans{{Column: scanColK, Spans: Between(schema.BigInt, schema.EncodeInt(2100), schema.EncodeInt(2109))}}
	narrow := scanTestScan(t, tb, all, filters)
	ec = scanTestExec(t, mem)
	before = store.read.Load()
	got = scanTestCollect(t, ec, narrow)
	narrowBytes := store.read.Load() - before
	scanTestSameRows(t, got, scanTestWant(rows, all, filters))
	for _, c := range []struct {
		name string
		want [2]int64
	}{{"partitions", [2]int64{1, 8}}, {"files", [2]int64{2, 2}}, {"row groups", [2]int64{2, 4}}} {
		if got := scanTestCounter(ec, narrow, c.name); got != c.want {
			t.Errorf("narrow scan: %s %d/%d, want %d/%d", c.name, got[0], got[1], c.want[0], c.want[1])
		}
	}
	pages := scanTestCounter(ec, narrow, "pages")
	if pages[1] < 50 || pages[0]*2 > pages[1] {
		t.Errorf("narrow scan: pages %d/%d: want a small share of many", pages[0], pages[1])
	}
	t.Logf("full scan read %d bytes; k in [2100, 2110) read %d bytes, pages %d/%d\n%s",
		fullBytes, narrowBytes, pages[0], pages[1], ExplainAnalyze(narrow, ec.Stats))
	if narrowBytes*10 > fullBytes {
		t.Errorf("narrow scan read %d bytes of the full scan's %d", narrowBytes, fullBytes)
	}

	// Files pruned by min/max key: a third ingest of keys 2500..2599 adds
	// a file to partition [2000, 3000) that k in [2100, 2110) skips.
	more := scanTestRows(rng, 300, 100, 100000)
	for i := range more {
		more[i].k += 2500
	}
	scanTestIngest(t, tb, more)
	narrow = scanTestScan(t, tb, all, filters)
	ec = scanTestExec(t, mem)
	scanTestSameRows(t, scanTestCollect(t, ec, narrow), scanTestWant(append(rows, more...), all, filters))
	if got := scanTestCounter(ec, narrow, "files"); got != [2]int64{2, 3} {
		t.Errorf("files %d/%d, want 2/3", got[0], got[1])
	}

	// A filter on a value column prunes row groups and pages too.
	vf := []ColumnSpans{{Column: scanColSeq, Spans: Between(schema.BigInt, schema.EncodeInt(100), schema.EncodeInt(120))}}
	seqScan := scanTestScan(t, tb, []int{scanColK}, vf)
	ec = scanTestExec(t, mem)
	scanTestSameRows(t, scanTestCollect(t, ec, seqScan), scanTestWant(append(rows, more...), []int{scanColK}, vf))
	if rg := scanTestCounter(ec, seqScan, "row groups"); rg[0] >= rg[1] {
		t.Errorf("seq filter kept row groups %d/%d", rg[0], rg[1])
	}
}

// scanTestStore counts bytes read and tracks open objects.
type scanTestStore struct {
	objstore.Store
	read atomic.Int64
	open atomic.Int64
}

func (s *scanTestStore) Open(ctx context.Context, key string) (objstore.Object, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	s.open.Add(1)
	return &scanTestObject{Object: o, s: s}, nil
}

type scanTestObject struct {
	objstore.Object
	s      *scanTestStore
	closed atomic.Bool
}

func (o *scanTestObject) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.Object.ReadAt(p, off)
	o.s.read.Add(int64(n))
	return n, err
}

func (o *scanTestObject) Close() error {
	if o.closed.CompareAndSwap(false, true) {
		o.s.open.Add(-1)
	}
	return o.Object.Close()
}

// TestScanSharedFiles checks that a file referenced by both halves of a
// split partition is read by both, each keeping only its own rows.
func TestScanSharedFiles(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(15, 16))
	tb := scanTestTable(t, storagetest.LocalStore(t), "shared", nil, 500, 2048)
	rows := scanTestRows(rng, 5000, 1000, 0)
	scanTestIngest(t, tb, rows)
	scanTestSplit(t, tb, 0, "a", 0, schema.EncodeInt(400))
	scanTestSplit(t, tb, 0, "a", 1, []byte("c"))
	scanTestSplit(t, tb, 900, "a", 0, schema.EncodeInt(700))

	cols := []int{scanColK, scanColG, scanColSeq}
	p := scanTestScan(t, tb, cols, nil)
	ec := scanTestExec(t, mem)
	got := scanTestCollect(t, ec, p)
	scanTestSameRows(t, got, scanTestWant(rows, cols, nil))
	if n := scanTestCounter(ec, p, "partitions"); n != [2]int64{4, 4} {
		t.Errorf("partitions %d/%d", n[0], n[1])
	}
	// One file, referenced by all four leaves.
	if n := scanTestCounter(ec, p, "files"); n != [2]int64{4, 4} {
		t.Errorf("files %d/%d, want 4/4 (one file read by each leaf)", n[0], n[1])
	}
	want := storagetest.Rows(t, tb)
	total := 0
	for _, n := range want {
		total += n
	}
	if total != len(got) {
		t.Errorf("storagetest.Rows counts %d rows, the scan %d", total, len(got))
	}
}

// TestScanOrdered checks key order across several files per partition,
// across partitions, and across leaves split on the second row key
// (whose parts overlap on the first and must be merged).
func TestScanOrdered(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(17, 18))
	tb := scanTestTable(t, storagetest.LocalStore(t), "ordered", []int64{300, 600}, 400, 2048)
	rows := scanTestRows(rng, 9000, 900, 0)
	scanTestIngest(t, tb, rows[:3000])
	scanTestIngest(t, tb, rows[3000:6000])
	scanTestIngest(t, tb, rows[6000:])

	cols := []int{scanColV, scanColK, scanColSeq, scanColG}
	p := scanTestScan(t, tb, cols, nil)
	p.Ordered = true
	if !p.KeyOrdered() {
		t.Error("leaves split on dimension 0 only are in key order")
	}
	if got := p.Ordering(); len(got) != 3 || got[0].Column != 1 || got[1].Column != 3 || got[2].Column != 2 {
		t.Errorf("Ordering = %v, want columns 1, 3, 2", got)
	}
	ec := scanTestExec(t, mem)
	got := scanTestCollect(t, ec, p)
	scanTestSameRows(t, got, scanTestWant(rows, cols, nil))
	scanTestCheckOrder(t, got, cols)

	// Split [300, 600) on g: its two leaves overlap on k.
	scanTestSplit(t, tb, 400, "a", 1, []byte("c"))
	p = scanTestScan(t, tb, []int{scanColV}, nil) // no key column output
	p.Ordered = true
	if p.KeyOrdered() {
		t.Error("leaves split on dimension 1 are not in key order one after another")
	}
	if p.Ordering() != nil {
		t.Error("an output without the first key has no ordering")
	}
	p.Columns = cols
	got = scanTestCollect(t, scanTestExec(t, mem), p)
	scanTestSameRows(t, got, scanTestWant(rows, cols, nil))
	scanTestCheckOrder(t, got, cols)

	// Ordered with a limit: the first rows in key order.
	p.Limit = 777
	limited := scanTestCollect(t, scanTestExec(t, mem), p)
	if !slices.Equal(limited, got[:777]) {
		t.Errorf("ordered scan with limit 777 differs from the first 777 rows")
	}
}

func TestScanLimitAndNoColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(19, 20))
	tb := scanTestTable(t, storagetest.LocalStore(t), "limit", []int64{300, 600}, 400, 2048)
	rows := scanTestRows(rng, 3000, 900, 0)
	scanTestIngest(t, tb, rows)

	for _, limit := range []int64{0, 1, 450, 5000} {
		p := scanTestScan(t, tb, []int{scanColK}, nil)
		p.Limit = limit
		got := scanTestCollect(t, scanTestExec(t, mem), p)
		if want := min(limit, 3000); int64(len(got)) != want {
			t.Errorf("limit %d: %d rows", limit, len(got))
		}
	}
	// A column twice.
	p := scanTestScan(t, tb, []int{scanColV, scanColK, scanColV}, nil)
	scanTestSameRows(t, scanTestCollect(t, scanTestExec(t, mem), p), scanTestWant(rows, []int{scanColV, scanColK, scanColV}, nil))
	// Bad columns.
	for _, bad := range []*TableScan{
		scanTestScan(t, tb, []int{6}, nil),
		scanTestScan(t, tb, []int{0}, []ColumnSpans{{Column: -1, Spans: AllSpans()}}),
	} {
		if _, err := bad.Open(scanTestExec(t, mem)); err == nil {
			t.Errorf("Open of a scan of columns %v, filters %v succeeded", bad.Columns, bad.Filters)
		}
	}

	// No columns: count(*) reads row counts and the filter's column.
	filters := []ColumnSpans{{Column: scanColV, Spans: Ge(schema.BigInt, schema.EncodeInt(0))}}
	p = scanTestScan(t, tb, []int{}, filters)
	got := scanTestCollect(t, scanTestExec(t, mem), p)
	if want := scanTestWant(rows, []int{}, filters); len(got) != len(want) {
		t.Errorf("no columns: %d rows, want %d", len(got), len(want))
	}
	p = scanTestScan(t, tb, []int{}, nil)
	if got := scanTestCollect(t, scanTestExec(t, mem), p); len(got) != 3000 {
		t.Errorf("no columns, no filter: %d rows", len(got))
	}
	// A range below every key keeps the first partition, not its file.
	p = scanTestScan(t, tb, []int{scanColK}, []ColumnSpans{{Column: scanColK, Spans: Lt(schema.BigInt, schema.EncodeInt(-5))}})
	ec := scanTestExec(t, mem)
	if got := scanTestCollect(t, ec, p); len(got) != 0 {
		t.Errorf("empty range: %d rows", len(got))
	}
	if n := scanTestCounter(ec, p, "partitions"); n != [2]int64{1, 3} {
		t.Errorf("empty range: partitions %d/%d", n[0], n[1])
	}
	if n := scanTestCounter(ec, p, "files"); n != [2]int64{0, 1} {
		t.Errorf("empty range: files %d/%d", n[0], n[1])
	}
	// An empty span set keeps nothing at all.
	p = scanTestScan(t, tb, []int{scanColK}, []ColumnSpans{{Column: scanColK, Spans: nil}})
	ec = scanTestExec(t, mem)
	if got := scanTestCollect(t, ec, p); len(got) != 0 {
		t.Errorf("empty set: %d rows", len(got))
	}
	if n := scanTestCounter(ec, p, "partitions"); n != [2]int64{0, 3} {
		t.Errorf("empty set: partitions %d/%d", n[0], n[1])
	}
}

// TestScanCancel cancels scans midway: Next reports the cancellation,
// Close returns with every goroutine gone and every file closed.
func TestScanCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	store := &scanTestStore{Store: storagetest.LocalStore(t)}
	rng := rand.New(rand.NewPCG(21, 22))
	tb := scanTestTable(t, store, "cancel", []int64{200, 400, 600, 800}, 300, 2048)
	rows := scanTestRows(rng, 20000, 1000, 0)
	scanTestIngest(t, tb, rows[:10000])
	scanTestIngest(t, tb, rows[10000:])
	goroutines := runtime.NumGoroutine()

	for _, ordered := range []bool{false, true} {
		for _, after := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("ordered=%v/after=%d", ordered, after), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				p := scanTestScan(t, tb, []int{scanColK, scanColName}, nil)
				p.Ordered = ordered
				ec := scanTestExec(t, mem)
				ec.Ctx = ctx
				op, err := OpenPlan(ec, p)
				if err != nil {
					t.Fatal(err)
				}
				for range after {
					rec, err := op.Next(ctx)
					if err != nil {
						t.Fatal(err)
					}
					rec.Release()
				}
				cancel()
				rec, err := op.Next(ctx)
				if rec != nil {
					rec.Release()
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Next after cancel = %v", err)
				}
				if err := op.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
				if n := store.open.Load(); n != 0 {
					t.Errorf("%d objects open after Close", n)
				}
			})
		}
	}
	// Closing early without cancelling stops the workers too.
	p := scanTestScan(t, tb, []int{scanColK}, nil)
	op, err := OpenPlan(scanTestExec(t, mem), p)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := op.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if n := store.open.Load(); n != 0 {
		t.Errorf("%d objects open after Close", n)
	}
	scanTestWaitGoroutines(t, goroutines)
}

// scanTestWaitGoroutines waits for the goroutine count to come back down
// (exited goroutines are counted until the runtime reaps them).
func scanTestWaitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// TestScanErrors checks that a missing file fails the scan cleanly.
func TestScanErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	store := &scanTestStore{Store: storagetest.LocalStore(t)}
	rng := rand.New(rand.NewPCG(23, 24))
	tb := scanTestTable(t, store, "errors", []int64{500}, 300, 2048)
	scanTestIngest(t, tb, scanTestRows(rng, 2000, 1000, 0))
	p := scanTestScan(t, tb, []int{scanColK}, nil)
	ref := p.State.PartitionRefs(p.State.Partitions.Leaves()[1].ID)[0]
	data, err := store.Get(context.Background(), ref.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(context.Background(), ref.File); err != nil {
		t.Fatal(err)
	}
	defer store.Put(context.Background(), ref.File, data) // for the table check at the end
	for _, ordered := range []bool{false, true} {
		p.Ordered = ordered
		op, err := OpenPlan(scanTestExec(t, mem), p)
		if err != nil {
			t.Fatal(err)
		}
		var nextErr error
		for nextErr == nil {
			var rec arrow.RecordBatch
			rec, nextErr = op.Next(context.Background())
			if rec != nil {
				rec.Release()
			}
		}
		if nextErr == io.EOF || !strings.Contains(nextErr.Error(), ref.File) {
			t.Errorf("scan of a table missing a file: %v", nextErr)
		}
		op.Close()
		if n := store.open.Load(); n != 0 {
			t.Errorf("%d objects open after Close", n)
		}
	}
}

func TestScanDescribe(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	tb := scanTestTable(t, storagetest.LocalStore(t), "events", []int64{300, 600}, 400, 2048)
	scanTestIngest(t, tb, scanTestRows(rng, 100, 900, 0))
	p := scanTestScan(t, tb, []int{scanColK, scanColName}, []ColumnSpans{
		{Column: scanColK, Spans: Between(schema.BigInt, schema.EncodeInt(10), schema.EncodeInt(20)).Union(Eq(schema.BigInt, schema.EncodeInt(700)))},
		{Column: scanColName, Spans: Prefix([]byte("n1"))},
	})
	p.Ordered = true
	want := `TableScan events columns=[k, name] key ranges=[[10,20], 700] name ranges=[["n1","n2")] ordered partitions=2/3`
	if got := p.Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	parts := p.Parts()
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	want = `PartitionScan events partition=p000003 region=[-inf, 300) × [-inf, +inf) columns=[k, name] key ranges=[[10,20], 700] name ranges=[["n1","n2")] ordered files=1`
	if got := parts[0].Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	if got := Explain(p); got != p.Describe()+"\n" {
		t.Errorf("Explain = %q", got)
	}
}

// TestScanConcurrent runs several scans of one table at once.
func TestScanConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(27, 28))
	tb := scanTestTable(t, storagetest.LocalStore(t), "concurrent", []int64{250, 500, 750}, 500, 2048)
	rows := scanTestRows(rng, 6000, 1000, 0)
	scanTestIngest(t, tb, rows)
	cols := []int{scanColK, scanColSeq}
	want := scanTestWant(rows, cols, nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := scanTestScan(t, tb, cols, nil)
			p.Ordered = i%2 == 0
			scanTestSameRows(t, scanTestCollect(t, scanTestExec(t, mem), p), want)
		}()
	}
	wg.Wait()
}

// scanBenchRows is the size of the benchmarks' table.
const scanBenchRows = 1 << 20

// scanBench creates a table of scanBenchRows rows in 16 partitions, with
// row groups of 128Ki rows and 64 KiB pages, in b's temporary directory.
func scanBench(b *testing.B) *table.Table {
	rng := rand.New(rand.NewPCG(1, 2))
	var points [][]byte
	for i := range 15 {
		points = append(points, schema.EncodeInt(int64((i+1)*scanBenchRows/16)))
	}
	store, err := storage.OpenStore(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	db, err := storage.OpenDB(context.Background(), store)
	if err != nil {
		b.Fatal(err)
	}
	tb, err := db.CreateTable(context.Background(), catalog.TableDef{Name: "bench", Schema: scanTestSchema, SplitPoints: points,
		Properties: catalog.Properties{"row_group_rows": "131072", "page_size_bytes": "65536"}})
	if err != nil {
		b.Fatal(err)
	}
	scanTestIngest(b, tb, scanTestRows(rng, scanBenchRows, scanBenchRows, 0))
	return tb
}

func scanBenchRun(b *testing.B, p *TableScan) {
	b.ReportAllocs()
	var rows int64
	for b.Loop() {
		ec := &ExecContext{Ctx: context.Background(), Alloc: memory.DefaultAllocator}
		op, err := p.Open(ec)
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := op.Next(ec.Ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += rec.NumRows()
			rec.Release()
		}
		if err := op.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkScanSelective reads ~0.1% of a 1M-row table by a key range.
func BenchmarkScanSelective(b *testing.B) {
	tb := scanBench(b)
	lo := int64(scanBenchRows / 3)
	p := scanTestScan(b, tb, []int{scanColK, scanColV}, []ColumnSpans{{Column: scanColK,
		Spans: Between(schema.BigInt, schema.EncodeInt(lo), schema.EncodeInt(lo+scanBenchRows/1000))}})
	scanBenchRun(b, p)
}

// BenchmarkScanFull reads two columns of every row.
func BenchmarkScanFull(b *testing.B) {
	tb := scanBench(b)
	for _, ordered := range []bool{false, true} {
		b.Run(fmt.Sprintf("ordered=%v", ordered), func(b *testing.B) {
			p := scanTestScan(b, tb, []int{scanColK, scanColV}, nil)
			p.Ordered = ordered
			scanBenchRun(b, p)
		})
	}
}
