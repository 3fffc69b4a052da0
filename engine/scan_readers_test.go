package engine

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestReaderPool runs the same scans with and without a reader pool: the
// answers are the same, the pooled scans open each file once, idle
// readers are reused by later scans (also after a scan stopped early by
// a limit), and a full pool closes its least recently used readers.
func TestReaderPool(t *testing.T) {
	store := &openCounter{Store: storagetest.LocalStore(t)}
	rng := rand.New(rand.NewPCG(3, 4))
	tb := scanTestTable(t, store, "pool", []int64{1000, 2000, 3000}, 2000, 1024)
	rows := scanTestRows(rng, 20000, 4000, 0)
	scanTestIngest(t, tb, rows[:10000])
	scanTestIngest(t, tb, rows[10000:]) // 4 partitions, 2 files each

	all := []int{scanColK, scanColG, scanColSeq, scanColName, scanColV, scanColD}
	lookups := []int64{5, 1500, 2999, 3333, 1500, 5}
	pool := NewReaderPool(0, 0)
	defer pool.Close()
	opensBefore := store.opens.Load()
	for _, k := range lookups {
		filters := []ColumnSpans{{Column: scanColK, Spans: Eq(schema.BigInt, schema.EncodeInt(k))}}
		ec := &ExecContext{Ctx: context.Background(), Alloc: memory.DefaultAllocator, Parallelism: 2, Readers: pool}
		got := scanTestCollect(t, ec, scanTestScan(t, tb, all, filters))
		scanTestSameRows(t, got, scanTestWant(rows, all, filters))
	}
	// Each lookup reads the two files of one partition; four partitions.
	if opened, idle := store.opens.Load()-opensBefore, pool.Idle(); opened != 8 || idle != 8 {
		t.Errorf("pooled lookups opened %d files and left %d idle readers, want 8 and 8", opened, idle)
	}
	// A scan stopped early by a limit gives its readers back too.
	full := scanTestScan(t, tb, all, nil)
	full.Limit = 10
	ec := &ExecContext{Ctx: context.Background(), Alloc: memory.DefaultAllocator, Parallelism: 1, Readers: pool}
	op, err := OpenPlan(ec, full)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := op.Next(ec.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if opened := store.opens.Load() - opensBefore; opened != 8 {
		t.Errorf("after a limited scan: %d files opened in all, want still 8", opened)
	}

	// A pool of 3 keeps the 3 most recently used readers, and closes the
	// others as they come back.
	small := NewReaderPool(3, 0)
	ec = &ExecContext{Ctx: context.Background(), Alloc: memory.DefaultAllocator, Parallelism: 2, Readers: small}
	scanTestCollect(t, ec, scanTestScan(t, tb, all, nil))
	if idle := small.Idle(); idle != 3 {
		t.Errorf("a pool of 3 holds %d idle readers after a full scan of 8 files", idle)
	}
	if err := small.Close(); err != nil {
		t.Fatal(err)
	}
	if small.Idle() != 0 {
		t.Errorf("closed pool holds %d readers", small.Idle())
	}
	// No pool: every scan opens its files.
	before := store.opens.Load()
	ec = &ExecContext{Ctx: context.Background(), Alloc: memory.DefaultAllocator, Parallelism: 2}
	filters := []ColumnSpans{{Column: scanColK, Spans: Eq(schema.BigInt, schema.EncodeInt(5))}}
	scanTestCollect(t, ec, scanTestScan(t, tb, all, filters))
	scanTestCollect(t, ec, scanTestScan(t, tb, all, filters))
	if opened := store.opens.Load() - before; opened != 4 {
		t.Errorf("without a pool two lookups opened %d files, want 4", opened)
	}
}

// openCounter counts the objects opened in a store.
type openCounter struct {
	objstore.Store
	opens atomic.Int64
}

func (s *openCounter) Open(ctx context.Context, key string) (objstore.Object, error) {
	s.opens.Add(1)
	return s.Store.Open(ctx, key)
}

// TestReaderPoolOrder drives a small pool with random Gets and Puts over a
// few files against a model: a Get hands out the file's most recently
// put idle reader, or opens a new one when the file has none; a Put past
// the limit closes the least recently put reader.
func TestReaderPoolOrder(t *testing.T) {
	ctx := context.Background()
	store := storagetest.LocalStore(t)
	tb := scanTestTable(t, store, "order", []int64{1000, 2000}, 2000, 1024)
	scanTestIngest(t, tb, scanTestRows(rand.New(rand.NewPCG(5, 6)), 3000, 3000, 0)) // 3 files
	s, _, err := tb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, leaf := range s.Partitions.Leaves() {
		for _, ref := range s.PartitionRefs(leaf.ID) {
			keys = append(keys, ref.File)
		}
	}
	const max = 4
	pool := NewReaderPool(max, -1)
	defer pool.Close()
	type idle struct {
		key string
		r   *datafile.Reader
	}
	var model []idle // most recently put first
	var out []idle   // handed out
	rng := rand.New(rand.NewPCG(7, 8))
	for step := range 2000 {
		if len(out) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(out))
			o := out[i]
			out = append(out[:i], out[i+1:]...)
			if err := pool.Put(store, o.key, 0, o.r); err != nil {
				t.Fatal(err)
			}
			model = append([]idle{o}, model...)
			if len(model) > max {
				model = model[:max]
			}
		} else {
			key := keys[rng.IntN(len(keys))]
			r, err := pool.Get(ctx, store, key, tb.Def.Schema, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := -1
			for i, m := range model {
				if m.key == key {
					want = i
					break
				}
			}
			if want >= 0 {
				if r != model[want].r {
					t.Fatalf("step %d: Get(%s) did not return the most recently put idle reader", step, key)
				}
				model = append(model[:want], model[want+1:]...)
			} else {
				for _, o := range append(append([]idle(nil), model...), out...) {
					if o.r == r {
						t.Fatalf("step %d: Get(%s) returned a reader already idle or in use", step, key)
					}
				}
			}
			out = append(out, idle{key, r})
		}
		if pool.Idle() != len(model) {
			t.Fatalf("step %d: %d idle readers, want %d", step, pool.Idle(), len(model))
		}
	}
	for _, o := range out {
		o.r.Close()
	}
}
