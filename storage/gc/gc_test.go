package gc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/storage/gc"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/state"
	"github.com/dormousedb/dormouse/storage/storagetest"
	"github.com/dormousedb/dormouse/storage/table"
)

const delay = time.Hour // the tables' gc_delay

// quiet drops the collectors' log lines, which the tests check by results.
var quiet = slog.New(slog.DiscardHandler)

func run(t testing.TB, tb *table.Table, now time.Time) gc.Result {
	t.Helper()
	res, err := gc.Run(context.Background(), tb, gc.Options{Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// unreferencedSince returns when file lost its last reference.
func unreferencedSince(t testing.TB, tb *table.Table, file string) time.Time {
	t.Helper()
	s, _, err := tb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f, ok := s.File(file)
	if !ok || f.UnreferencedSince == nil {
		t.Fatalf("file %s is not unreferenced: %+v", file, f)
	}
	return *f.UnreferencedSince
}

// TestGCDeletesAfterDelay makes files unreferenced and checks that GC
// keeps them until the delay has passed, then deletes their objects and
// forgets them, and never touches a referenced file: neither one in use
// nor one that a split left referenced from the other child only.
func TestGCDeletesAfterDelay(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := t.Context()
		tb := newTable(t, store, "delay")
		var files []state.File
		for i := range 3 {
			files = append(files, ingestKeys(t, tb, int64(i*100), int64(i*100+2000))...)
		}
		if len(files) != 6 {
			t.Fatalf("%d files, want 6", len(files))
		}
		// The first two ingests' files in the left leaf go.
		gone := []state.File{files[0], files[2]}
		left := partitionOf(t, tb, gone[0].Key)
		if partitionOf(t, tb, gone[1].Key) != left {
			t.Fatal("files of one leaf expected")
		}
		unreference(t, tb, left, gone[0].Key, gone[1].Key)
		// The third ingest's right-hand file is split between two leaves,
		// and loses one reference only.
		shared := files[5]
		right := partitionOf(t, tb, shared.Key)
		if _, err := tb.Commit(ctx, &state.Txn{SplitPartition: &state.SplitPartition{
			Partition: right, Dim: 0, Point: schema.EncodeInt(1500), Left: "r1", Right: "r2",
		}}); err != nil {
			t.Fatal(err)
		}
		unreference(t, tb, "r1", shared.Key)
		since := unreferencedSince(t, tb, gone[1].Key)

		if res := run(t, tb, since.Add(delay-time.Second)); res != (gc.Result{}) {
			t.Errorf("before the delay: %+v, want nothing", res)
		}
		for _, f := range files {
			if !exists(t, store, f.Key) || !exists(t, store, f.SketchKey) {
				t.Fatalf("file %s deleted before its delay", f.Key)
			}
		}

		res := run(t, tb, since.Add(delay+time.Second))
		if want := (gc.Result{Files: 2, Bytes: gone[0].Bytes + gone[1].Bytes}); res != want {
			t.Errorf("after the delay: %+v, want %+v", res, want)
		}
		s, _, err := tb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			_, known := s.File(f.Key)
			want := f.Key != gone[0].Key && f.Key != gone[1].Key
			if known != want || exists(t, store, f.Key) != want || exists(t, store, f.SketchKey) != want {
				t.Errorf("file %s: known %v, objects %v/%v; want %v", f.Key, known,
					exists(t, store, f.Key), exists(t, store, f.SketchKey), want)
			}
		}
		if res := run(t, tb, since.Add(10*delay)); res != (gc.Result{}) {
			t.Errorf("again much later: %+v, want nothing", res)
		}
	})
}

// TestGCOrphansAndTemp leaves what crashed writers leave: data and sketch
// objects never committed, and a temporary file (local) or multipart
// upload (S3) never finished. GC removes them once they are older than the
// delay, and nothing the table uses.
func TestGCOrphansAndTemp(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := t.Context()
		tb := newTable(t, store, "orphans")
		files := ingestKeys(t, tb, 0, 3000)
		orphans := map[string][]byte{
			tb.DataPrefix() + "p000001/orphan.parquet": []byte("half a parquet file"),
			tb.DataPrefix() + "p000001/orphan.sketch":  []byte("its sketch"),
			tb.DataPrefix() + "gone/other.sketch":      []byte("a sketch alone"),
		}
		var orphanBytes int64
		for k, v := range orphans {
			if err := store.Put(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			orphanBytes += int64(len(v))
		}
		w, err := store.Create(ctx, tb.NewFileKey("p000002"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		partial := []byte("a killed writer's bytes")
		if _, ok := store.(*s3.Store); ok {
			partial = bytes.Repeat([]byte("x"), s3.DefaultPartSize+1) // one part sent
		}
		if _, err := w.Write(partial); err != nil {
			t.Fatal(err)
		}

		if res := run(t, tb, time.Now()); res != (gc.Result{}) {
			t.Errorf("young garbage collected: %+v", res)
		}
		res := run(t, tb, time.Now().Add(delay+time.Minute))
		tempBytes := int64(len(partial))
		if _, ok := store.(*s3.Store); ok {
			tempBytes = s3.DefaultPartSize // the part sent; the buffer never left
		}
		want := gc.Result{Orphans: len(orphans), TempFiles: 1, Bytes: orphanBytes + tempBytes}
		if res != want {
			t.Errorf("old garbage: %+v, want %+v", res, want)
		}
		for k := range orphans {
			if exists(t, store, k) {
				t.Errorf("orphan %s is still there", k)
			}
		}
		for _, f := range files {
			if !exists(t, store, f.Key) || !exists(t, store, f.SketchKey) {
				t.Errorf("file %s or its sketch deleted", f.Key)
			}
		}
		if err := w.Close(); err == nil {
			t.Error("a writer whose temporary file was collected published it")
		}
		if res := run(t, tb, time.Now().Add(delay+time.Minute)); res != (gc.Result{}) {
			t.Errorf("second pass: %+v, want nothing", res)
		}
	})
}

// TestGCRacingIngest commits an ingest after GC has listed the data
// objects and before it reads the state: its files, new to the listing's
// reader as orphans would be and old enough by the clock GC is given, must
// be known, not deleted.
func TestGCRacingIngest(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		tb := newTable(t, store, "racing")
		ingestKeys(t, tb, 0, 500)
		var raced []state.File
		hooked := &hookStore{Store: store, listPrefix: tb.DataPrefix()}
		hooked.beforeList = func() { raced = ingestKeys(t, reopen(t, tb, store), 500, 1500) }
		res, err := gc.Run(t.Context(), reopen(t, tb, hooked), gc.Options{Now: time.Now().Add(10 * delay), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if len(raced) == 0 {
			t.Fatal("the racing ingest did not run")
		}
		if res.Orphans != 0 || res.Files != 0 {
			t.Errorf("GC deleted %+v", res)
		}
		for _, f := range raced {
			if !exists(t, store, f.Key) || !exists(t, store, f.SketchKey) {
				t.Errorf("racing ingest's file %s deleted", f.Key)
			}
		}
	})
}

// dueFiles ingests n files' worth of rows and unreferences them all, and
// returns them and the time GC may delete them.
func dueFiles(t testing.TB, tb *table.Table, ingests int) ([]state.File, time.Time) {
	t.Helper()
	var files []state.File
	for i := range ingests {
		files = append(files, ingestKeys(t, tb, int64(i*10), int64(i*10+1990))...)
	}
	byPart := map[string][]string{}
	for _, f := range files {
		p := partitionOf(t, tb, f.Key)
		byPart[p] = append(byPart[p], f.Key)
	}
	for p, keys := range byPart {
		unreference(t, tb, p, keys...)
	}
	return files, unreferencedSince(t, tb, files[len(files)-1].Key).Add(delay + time.Second)
}

// TestGCCrashBeforeCommit stops a collector after it deleted objects and
// before it committed (its context ends, as a killed process's would):
// the state still knows the files, and the next Run deletes what is left,
// takes the missing objects in its stride, and forgets them all.
func TestGCCrashBeforeCommit(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		tb := newTable(t, store, "crash")
		files, when := dueFiles(t, tb, 3)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		hooked := &hookStore{Store: store, afterDelete: func(n int) {
			if n == 3 {
				cancel()
			}
		}}
		if _, err := gc.Run(ctx, reopen(t, tb, hooked), gc.Options{Now: when, Parallel: 1, Logger: quiet}); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v, want context.Canceled", err)
		}
		s, _, err := tb.State(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for _, f := range files {
			if _, ok := s.File(f.Key); !ok {
				t.Fatalf("file %s forgotten by the interrupted run", f.Key)
			}
			if !exists(t, store, f.Key) {
				missing++
			}
		}
		if missing == 0 {
			t.Fatal("the interrupted run deleted no data object")
		}
		res := run(t, tb, when)
		if res.Files != len(files) {
			t.Errorf("recovery run deleted %d files, want %d", res.Files, len(files))
		}
		s, _, _ = tb.State(t.Context())
		if s.NumFiles() != 0 {
			t.Errorf("state still knows %d files", s.NumFiles())
		}
	})
}

// TestGCCollectorsRace runs collectors on the same garbage: one that a
// second overtakes between its deletes and its commit (its commit is
// refused and it goes on), then several at once in small batches. Every
// file is deleted and forgotten once.
func TestGCCollectorsRace(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		tb := newTable(t, store, "collectors")
		files, when := dueFiles(t, tb, 3)
		var second gc.Result
		var secondErr error
		other := reopen(t, tb, store)
		hooked := &hookStore{Store: store}
		hooked.afterDelete = func(n int) { // on a delete worker: no t.Fatal
			if n == 1 {
				second, secondErr = gc.Run(t.Context(), other, gc.Options{Now: when, Logger: quiet})
			}
		}
		first, err := gc.Run(t.Context(), reopen(t, tb, hooked), gc.Options{Now: when, Parallel: 1, Logger: quiet})
		if err != nil || secondErr != nil {
			t.Fatal(err, secondErr)
		}
		if first.Files != 0 || second.Files != len(files) {
			t.Errorf("overtaken collector forgot %d files, the other %d; want 0 and %d", first.Files, second.Files, len(files))
		}

		files, when = dueFiles(t, tb, 5)
		results := make([]gc.Result, 3)
		errs := make([]error, 3)
		var wg sync.WaitGroup
		for i := range results {
			h := reopen(t, tb, store)
			wg.Go(func() {
				results[i], errs[i] = gc.Run(t.Context(), h, gc.Options{Now: when, BatchSize: 2, Logger: quiet})
			})
		}
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
			total += results[i].Files
		}
		if total != len(files) {
			t.Errorf("collectors forgot %d files between them, want %d", total, len(files))
		}
		s, _, _ := tb.State(t.Context())
		if s.NumFiles() != 0 {
			t.Errorf("state still knows %d files", s.NumFiles())
		}
	})
}

// TestDroppedTable drops a table: its objects stay until the delay is
// over, then go, and the catalog forgets the drop; a table created since
// under the same name keeps its objects.
func TestDroppedTable(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		old := newTable(t, store, "dropme")
		db := storagetest.NewDB(t, store)
		ingestKeys(t, old, 0, 100)
		oldPrefix := old.Def.Prefix()
		if err := db.DropTable(ctx, "dropme"); err != nil {
			t.Fatal(err)
		}
		fresh := newTable(t, store, "dropme")
		ingestKeys(t, fresh, 0, 10)
		count := func(prefix string) int {
			objs, err := store.List(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			return len(objs)
		}
		n := count(oldPrefix)
		if n == 0 {
			t.Fatal("the drop deleted the objects at once")
		}
		res, err := gc.Dropped(ctx, db.Catalog, store, gc.Options{Now: time.Now().Add(time.Minute), Delay: time.Hour})
		if err != nil || res.Orphans != 0 || count(oldPrefix) != n {
			t.Fatalf("before the delay: %+v, %v, %d objects left of %d", res, err, count(oldPrefix), n)
		}
		res, err = gc.Dropped(ctx, db.Catalog, store, gc.Options{Now: time.Now().Add(2 * time.Hour), Delay: time.Hour})
		if err != nil || res.Orphans != n || count(oldPrefix) != 0 {
			t.Fatalf("after the delay: %+v, %v, %d objects left of %d", res, err, count(oldPrefix), n)
		}
		if d, err := db.Catalog.DroppedTables(ctx); err != nil || len(d) != 0 {
			t.Fatalf("catalog still lists %d dropped tables (%v)", len(d), err)
		}
		if count(fresh.Def.Prefix()) == 0 {
			t.Fatal("the new table of the same name lost its objects")
		}
		// A second collector finds nothing left to do.
		if res, err := gc.Dropped(ctx, db.Catalog, store, gc.Options{Now: time.Now().Add(2 * time.Hour), Delay: time.Hour}); err != nil || res.Orphans != 0 {
			t.Fatalf("again: %+v, %v", res, err)
		}
	})
}
