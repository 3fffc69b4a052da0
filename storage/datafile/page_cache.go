package datafile

import (
	"container/list"
	"sync"
)

// PageCache keeps decompressed pages of data files in memory, so that
// point reads of hot keys, and the dictionary pages many reads share,
// are decoded straight from memory with no fetch and no decompression:
// the buffer pool of a database, for immutable files. Pages are found by
// file key, file size and byte offset; files are never changed once
// written, so an entry never goes stale. It is safe for concurrent use.
// Readers opened WithPageCache share it.
type PageCache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	lru   list.List // of *cachedPage, most recently used first
	pages map[pageID]*list.Element

	hits, misses int64
}

// pageID names a page of a file.
type pageID struct {
	key    string
	size   int64
	offset int64
}

// cachedPage is one decoded page: its header and decompressed bytes
// (levels and values), and for a dictionary of byte arrays the offsets of
// its values.
type cachedPage struct {
	id      pageID
	hdr     pageHeader
	data    []byte
	offsets []int32 // dictionary of byte arrays: value i is data[offsets[i]+4:offsets[i+1]]
}

func (p *cachedPage) bytes() int64 {
	return int64(cap(p.data)) + 4*int64(cap(p.offsets)) + 128
}

// NewPageCache returns a cache holding at most limit bytes of pages.
func NewPageCache(limit int64) *PageCache {
	return &PageCache{limit: limit, pages: map[pageID]*list.Element{}}
}

// get returns the page, or nil.
func (c *PageCache) get(id pageID) *cachedPage {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pages[id]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	c.lru.MoveToFront(e)
	return e.Value.(*cachedPage)
}

// put adds a page, evicting the least recently used ones past the limit.
// A page larger than the whole cache is not kept.
func (c *PageCache) put(p *cachedPage) {
	if c == nil || p.bytes() > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[p.id]; ok {
		return
	}
	c.pages[p.id] = c.lru.PushFront(p)
	c.used += p.bytes()
	for c.used > c.limit {
		e := c.lru.Back()
		old := e.Value.(*cachedPage)
		c.lru.Remove(e)
		delete(c.pages, old.id)
		c.used -= old.bytes()
	}
}

// PageCacheStats counts a cache's use.
type PageCacheStats struct {
	Pages        int
	Bytes, Limit int64
	Hits, Misses int64
}

// Stats returns the cache's counters.
func (c *PageCache) Stats() PageCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return PageCacheStats{Pages: len(c.pages), Bytes: c.used, Limit: c.limit, Hits: c.hits, Misses: c.misses}
}
