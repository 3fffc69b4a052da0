package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/schema"
)

func open(t *testing.T, dir string) *catalog.Catalog {
	t.Helper()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func def(name string) catalog.TableDef {
	return catalog.TableDef{Name: name, Schema: &schema.Schema{RowKeys: []schema.Column{{Name: "k", Type: schema.BigInt}}}}
}

func TestCreateDropAlter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := open(t, dir)
	if _, err := c.Create(ctx, def("Events")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, def("events")); !errors.Is(err, catalog.ErrTableExists) {
		t.Fatalf("names are case-insensitive: got %v", err)
	}
	other := open(t, dir) // another process sees the same catalog
	d, err := other.Get(ctx, "EVENTS")
	if err != nil || d.Name != "Events" {
		t.Fatalf("got %v, %v", d, err)
	}
	if _, err := other.SetProperties(ctx, "events", map[string]string{"split_threshold": "1000"}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.Get(ctx, "events")
	if d.Properties.Int("split_threshold") != 1000 || d.Properties.Int("compaction_files_batch_size") != 12 {
		t.Fatalf("properties %v", d.Properties.All())
	}
	if _, err := c.SetProperties(ctx, "events", map[string]string{"split_treshold": "1"}); err == nil || !strings.Contains(err.Error(), "unknown table property") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.SetProperties(ctx, "events", map[string]string{"gc_delay": "soon"}); err == nil {
		t.Fatal("want an error for a bad duration")
	}
	if _, err := c.Drop(ctx, "events"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "events"); !errors.Is(err, catalog.ErrNoTable) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Drop(ctx, "events"); !errors.Is(err, catalog.ErrNoTable) {
		t.Fatalf("got %v", err)
	}
}

// TestRacingCreates has several catalogs on one store create the same
// table at once: exactly one succeeds.
func TestRacingCreates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 6 {
		c := open(t, dir)
		wg.Go(func() {
			_, err := c.Create(ctx, def("t"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, catalog.ErrTableExists):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d creates won, want 1", won)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	c := open(t, t.TempDir())
	bad := []catalog.TableDef{
		def(""), def("1abc"), def("has space"), def(strings.Repeat("x", 64)),
		{Name: "noschema"},
		{Name: "nokey", Schema: &schema.Schema{Values: []schema.Column{{Name: "v", Type: schema.BigInt}}}},
		{Name: "badsplits", Schema: def("x").Schema, SplitPoints: [][]byte{schema.EncodeInt(2), schema.EncodeInt(1)}},
		{Name: "badprop", Schema: def("x").Schema, Properties: catalog.Properties{"split_threshold": "-1"}},
		{Name: "baddims", Schema: def("x").Schema, Properties: catalog.Properties{"split_dimensions": "nokey"}},
		{Name: "baddims2", Schema: def("x").Schema, Properties: catalog.Properties{"split_dimensions": "k,,k"}},
		{Name: "badcodec", Schema: def("x").Schema, Properties: catalog.Properties{"compression_codec": "gzip"}},
	}
	for _, d := range bad {
		if _, err := c.Create(ctx, d); err == nil {
			t.Errorf("%q: want an error", d.Name)
		}
	}
	if tables, _ := c.List(ctx); len(tables) != 0 {
		t.Fatalf("%d tables created", len(tables))
	}
}

func TestSplitDimensions(t *testing.T) {
	sch := &schema.Schema{
		RowKeys: []schema.Column{{Name: "a", Type: schema.BigInt}, {Name: "b", Type: schema.Varchar}, {Name: "c", Type: schema.BigInt}},
		Values:  []schema.Column{{Name: "v", Type: schema.BigInt, Nullable: true}},
	}
	for _, tc := range []struct {
		value string
		want  []int // nil: an error
	}{
		{"", []int{0, 1, 2}},
		{"b", []int{1}},
		{" c , A ", []int{2, 0}},
		{"v", nil},
		{"a,a", nil},
		{"zz", nil},
	} {
		got, err := catalog.Properties{"split_dimensions": tc.value}.SplitDimensions(sch)
		if (err != nil) != (tc.want == nil) || !slices.Equal(got, tc.want) {
			t.Errorf("split_dimensions=%q: %v, %v; want %v", tc.value, got, err, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]string{"15m": "15m0s", "30d": "720h0m0s", "1.5d": "36h0m0s", "90s": "1m30s"} {
		d, err := catalog.ParseDuration(in)
		if err != nil || d.String() != want {
			t.Errorf("%s: got %v %v, want %s", in, d, err, want)
		}
	}
}

// TestListFollowsChanges lists the tables between changes made by this
// catalog and by another on the same store: each list is the newest.
func TestListFollowsChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, other := open(t, dir), open(t, dir)
	names := func() string {
		defs, err := c.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range defs {
			out = append(out, d.Name)
		}
		return strings.Join(out, ",")
	}
	steps := []struct {
		change func() error
		want   string
	}{
		{func() error { _, err := c.Create(ctx, def("b")); return err }, "b"},
		{func() error { return nil }, "b"},
		{func() error { _, err := other.Create(ctx, def("a")); return err }, "a,b"},
		{func() error { _, err := other.Drop(ctx, "b"); return err }, "a"},
		{func() error { _, err := c.Create(ctx, def("c")); return err }, "a,c"},
	}
	for i, s := range steps {
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		if got := names(); got != s.want {
			t.Errorf("step %d: tables %s, want %s", i, got, s.want)
		}
	}
}
