package datafile

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPageCacheEvicts checks the cache keeps within its limit by dropping
// the least recently used pages, and keeps no page bigger than itself.
func TestPageCacheEvicts(t *testing.T) {
	page := func(off int64) *cachedPage {
		return &cachedPage{id: newPageID("f", 1, off), data: make([]byte, 1000)}
	}
	one := page(0).bytes()
	c := NewPageCache(3 * one)
	for off := range int64(3) {
		c.put(page(off))
	}
	if c.get(newPageID("f", 1, 0)) == nil { // now most recent
		t.Fatal("page 0 missing")
	}
	c.put(page(3)) // evicts page 1, the least recently used
	if c.get(newPageID("f", 1, 1)) != nil {
		t.Fatal("page 1 kept past the limit")
	}
	for _, off := range []int64{0, 2, 3} {
		if c.get(newPageID("f", 1, off)) == nil {
			t.Fatalf("page %d evicted", off)
		}
	}
	big := &cachedPage{id: newPageID("g", 0, 0), data: make([]byte, 4*one)}
	c.put(big)
	if st := c.Stats(); st.Pages != 3 || st.Bytes > st.Limit {
		t.Fatalf("stats %+v", st)
	}
	var none *PageCache
	none.put(page(9))
	if none.get(newPageID("f", 1, 9)) != nil {
		t.Fatal("nil cache holds a page")
	}
}

// TestPageCacheScans checks what scans do to the cache: they keep pages
// only in room to spare, never evicting; their pages are the first to go
// when point reads need room; and a scan's look-up does not make a page
// more recent.
func TestPageCacheScans(t *testing.T) {
	id := func(off int64) pageID { return newPageID("f", 1, off) }
	page := func(off int64) *cachedPage { return &cachedPage{id: id(off), data: make([]byte, 1000)} }
	one := page(0).bytes()
	c := NewPageCache(4 * one)
	c.put(page(0)) // point reads
	c.put(page(1))
	for off, want := range map[int64]bool{10: true, 11: true} {
		if !c.scanRoom() || c.scanPut(page(off)) != want {
			t.Fatalf("scan page %d not kept with room to spare", off)
		}
	}
	if c.scanRoom() || c.scanPut(page(12)) {
		t.Fatal("a scan page kept in a full cache")
	}
	for _, off := range []int64{0, 1, 10, 11} {
		if c.scanGet(id(off)) == nil {
			t.Fatalf("page %d missing", off)
		}
	}
	c.put(page(2)) // evicts a scan page, not page 0, the least recent point page
	c.put(page(3)) // and the other
	for off, want := range map[int64]bool{0: true, 1: true, 2: true, 3: true, 10: false, 11: false} {
		if got := c.scanGet(id(off)) != nil; got != want {
			t.Fatalf("page %d cached %v, want %v", off, got, want)
		}
	}
	// Scan look-ups left page 0 the least recent: the next point page
	// evicts it.
	c.put(page(4))
	if c.scanGet(id(0)) != nil || c.scanGet(id(1)) == nil {
		t.Fatal("a scan's look-up made page 0 recent")
	}
	if st := c.Stats(); st.ScanKept != 2 || st.Bytes > st.Limit {
		t.Fatalf("stats %+v", st)
	}
	var none *PageCache
	if none.scanRoom() || none.scanPut(page(9)) || none.scanGet(id(9)) != nil {
		t.Fatal("nil cache keeps scan pages")
	}
}

// TestPageCacheShards fills a cache big enough to be sharded from many
// goroutines at once: it keeps within its limit, every page it says it
// holds is the one put, and its counters add up.
func TestPageCacheShards(t *testing.T) {
	const pageBytes = 64 << 10
	c := NewPageCache(64 << 20)
	if len(c.shards) < 2 {
		t.Fatalf("%d shards", len(c.shards))
	}
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 4000 {
				off := int64((g*7919+i*31)%3000) * pageBytes
				id := newPageID("f", 1, off)
				if pg := c.get(id); pg != nil {
					if pg.id != id {
						t.Errorf("asked for %v, got %v", id, pg.id)
						return
					}
					continue
				}
				if i%3 == 0 {
					c.scanPut(&cachedPage{id: id, data: make([]byte, pageBytes)})
				} else {
					c.put(&cachedPage{id: id, data: make([]byte, pageBytes)})
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	st := c.Stats()
	if st.Bytes > st.Limit || st.Bytes != c.used.Load() || st.Pages == 0 {
		t.Fatalf("stats %+v, used %d", st, c.used.Load())
	}
	if st.Hits+st.Misses != 8*4000 {
		t.Fatalf("%d hits and %d misses of %d reads", st.Hits, st.Misses, 8*4000)
	}
}

// BenchmarkPageCacheLookup takes random pages from a cache of 128,000
// (64 files of 2,000 pages, named as a local store names them), as point
// lookups over a big table do: memory latency, not the hash, is the cost.
func BenchmarkPageCacheLookup(b *testing.B) {
	c := NewPageCache(1 << 30)
	const files, pages = 64, 2000
	ids := make([]pageID, 0, files*pages)
	for f := range files {
		name := fmt.Sprintf("file:///var/lib/dormouse\x00tables/7a6f166debcd4adf/partitions/0123456789abcdef/%032d.parquet", f)
		for p := range pages {
			id := newPageID(name, 123456789, int64(p)*16384)
			c.put(&cachedPage{id: id, data: make([]byte, 64)})
			ids = append(ids, id)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		if c.get(ids[rng.IntN(len(ids))]) == nil {
			b.Fatal("miss")
		}
	}
}
