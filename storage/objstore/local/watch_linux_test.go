package local

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestWatch changes a directory through one Store, as another process
// would, and checks that the generation another Store reports moves with
// every change and only then.
func TestWatch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	reader, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "t/log", "../x/", "a//b/"} {
		if _, ok := reader.Watch(bad); ok {
			t.Errorf("Watch(%q) accepted", bad)
		}
	}
	gen, ok := reader.Watch("t/log/")
	if !ok {
		t.Skip("this file system is not watched (see localFS)")
	}
	if g := gen(time.Time{}); g != 0 {
		t.Fatalf("a missing directory has generation %d, want 0", g)
	}
	if err := writer.PutIfAbsent(ctx, "t/log/1", []byte("a")); err != nil {
		t.Fatal(err)
	}
	g := gen(time.Time{})
	if g == 0 {
		t.Fatal("a watched directory has generation 0")
	}
	if again := gen(time.Time{}); again != g {
		t.Fatalf("nothing changed, yet the generation moved from %d to %d", g, again)
	}
	changes := []struct {
		what string
		do   func() error
	}{
		{"link (PutIfAbsent)", func() error { return writer.PutIfAbsent(ctx, "t/log/2", []byte("b")) }},
		{"rename (Put)", func() error { return writer.Put(ctx, "t/log/2", []byte("c")) }},
		{"delete", func() error { return writer.Delete(ctx, "t/log/1") }},
		{"a sub-directory", func() error { return writer.Put(ctx, "t/log/sub/x", []byte("d")) }},
	}
	for _, c := range changes {
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		next := gen(time.Time{})
		if next == g || next == 0 {
			t.Errorf("%s: generation %d after %d", c.what, next, g)
		}
		g = next
	}
	// Objects elsewhere do not move it.
	if err := writer.Put(ctx, "t/other/1", []byte("e")); err != nil {
		t.Fatal(err)
	}
	if next := gen(time.Time{}); next != g {
		t.Errorf("a change elsewhere moved the generation from %d to %d", g, next)
	}
	// The directory removed and made again: the generation moves and
	// follows the new directory.
	if err := os.RemoveAll(root + "/t/log"); err != nil {
		t.Fatal(err)
	}
	if next := gen(time.Time{}); next == g {
		t.Errorf("the directory went, yet the generation stayed %d", g)
	}
	if err := writer.PutIfAbsent(ctx, "t/log/1", []byte("f")); err != nil {
		t.Fatal(err)
	}
	g = gen(time.Time{})
	if err := writer.PutIfAbsent(ctx, "t/log/2", []byte("g")); err != nil {
		t.Fatal(err)
	}
	if next := gen(time.Time{}); next == g || next == 0 {
		t.Errorf("the directory made again is not watched: generation %d after %d", next, g)
	}
}

// TestWatchFreshSince checks the statement's window: a look for changes
// finished before since may be answered by a look that began after since,
// and by no older one.
func TestWatchFreshSince(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	reader, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	gen, ok := reader.Watch("t/log/")
	if !ok {
		t.Skip("this file system is not watched (see localFS)")
	}
	if err := writer.PutIfAbsent(ctx, "t/log/1", []byte("a")); err != nil {
		t.Fatal(err)
	}
	gen(time.Time{}) // watch the directory
	for i := range 50 {
		start := time.Now() // a statement begins
		g := gen(start)     // its first look asks the kernel
		// A change concurrent with the statement: its later looks may
		// miss it, and do (they are answered from the first).
		if err := writer.Put(ctx, "t/log/1", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if again := gen(start); again != g {
			t.Fatalf("round %d: a later look of the same statement asked again (%d, then %d)", i, g, again)
		}
		// A statement that begins after the change must see it.
		if next := gen(time.Now()); next == g {
			t.Fatalf("round %d: a statement begun after a change was answered from a look before it (generation %d)", i, g)
		}
	}
}
