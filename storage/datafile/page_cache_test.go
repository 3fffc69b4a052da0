package datafile

import "testing"

// TestPageCacheEvicts checks the cache keeps within its limit by dropping
// the least recently used pages, and keeps no page bigger than itself.
func TestPageCacheEvicts(t *testing.T) {
	page := func(off int64) *cachedPage {
		return &cachedPage{id: pageID{key: "f", size: 1, offset: off}, data: make([]byte, 1000)}
	}
	one := page(0).bytes()
	c := NewPageCache(3 * one)
	for off := range int64(3) {
		c.put(page(off))
	}
	if c.get(pageID{key: "f", size: 1, offset: 0}) == nil { // now most recent
		t.Fatal("page 0 missing")
	}
	c.put(page(3)) // evicts page 1, the least recently used
	if c.get(pageID{key: "f", size: 1, offset: 1}) != nil {
		t.Fatal("page 1 kept past the limit")
	}
	for _, off := range []int64{0, 2, 3} {
		if c.get(pageID{key: "f", size: 1, offset: off}) == nil {
			t.Fatalf("page %d evicted", off)
		}
	}
	big := &cachedPage{id: pageID{key: "g"}, data: make([]byte, 4*one)}
	c.put(big)
	if st := c.Stats(); st.Pages != 3 || st.Bytes > st.Limit {
		t.Fatalf("stats %+v", st)
	}
	var none *PageCache
	none.put(page(9))
	if none.get(pageID{key: "f", size: 1, offset: 9}) != nil {
		t.Fatal("nil cache holds a page")
	}
}
