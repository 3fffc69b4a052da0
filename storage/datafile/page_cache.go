package datafile

import (
	"container/list"
	"math/bits"
	"sync"
	"sync/atomic"
	"unique"
)

// PageCache keeps decompressed pages of data files in memory, so that
// point reads of hot keys, and the dictionary pages many reads share,
// are decoded straight from memory with no fetch and no decompression:
// the buffer pool of a database, for immutable files. Pages are found by
// file key, file size and byte offset; files are never changed once
// written, so an entry never goes stale. It is safe for concurrent use.
// Readers opened WithPageCache share it.
//
// Scans of whole row groups use it too, but resist flushing it: a scan
// reads a table far bigger than the cache once, and in a plain LRU its
// pages would push out every hot page of the point reads. So a scan
// (scanGet, scanPut) looks pages up without making them more recent, and
// keeps a page it decoded only where the cache has room to spare: it
// never evicts, and its pages go in at the cold end, the first to go
// when point reads need the room. A table that fits in the free room is
// then read from memory the second time, with no decompression (which
// is most of a scan's CPU with zstd), while one that does not fit keeps
// the part that does, and never at the point reads' expense. A scan's
// page that a point read then uses becomes an ordinary, recently used
// page.
//
// A big cache is split into shards by page, each with its own lock and
// eviction order, so that the point reads of many sessions at once do
// not queue on one lock (each read looks up a page of every column it
// reads).
type PageCache struct {
	limit  int64
	used   atomic.Int64 // over all shards, for scanRoom
	shards []pageShard
}

// pageShard is one part of a PageCache: an LRU of pages under one lock.
type pageShard struct {
	mu    sync.Mutex
	limit int64
	used  int64
	lru   list.List              // of *cachedPage, most recently put or passed over first
	pages map[pageID]*cachedPage // the pages in lru, found without it

	hits, misses int64
	scanKept     int64 // pages scans added
}

// pageShardBytes is the least a shard holds: a small cache has one.
const pageShardBytes = 16 << 20

// maxPageShards bounds the shards of a big cache.
const maxPageShards = 16

// pageID names a page of a file. The file is an interned handle, not its
// name: a point lookup takes a few pages from a cache of a hundred
// thousand, and hashing a name of a hundred bytes, then comparing it
// through a pointer to memory no cache line holds, cost more than the
// rest of the lookup in the cache.
type pageID struct {
	file   unique.Handle[fileID]
	offset int64
}

// fileID names a file in the cache: its store and key, and its size, so
// that a file written again under its key (other bytes) is another file.
type fileID struct {
	name string
	size int64
}

// newPageID names the page at offset of a file; Readers make the file's
// handle once (Reader.pageID).
func newPageID(name string, size, offset int64) pageID {
	return pageID{file: unique.Make(fileID{name: name, size: size}), offset: offset}
}

// cachedPage is one decoded page: its header and decompressed bytes
// (levels and values). Byte arrays (PLAIN, or a dictionary's) are laid
// out as Arrow lays them out, their bytes together and their offsets
// apart (layOutByteArrays), so that a scan appends a page's strings with
// one copy and a point read finds a value deep in a page at once.
type cachedPage struct {
	id   pageID
	hdr  pageHeader
	data []byte
	// offsets of byte arrays, after the levels: value i is
	// vals[offsets[i]:offsets[i+1]], vals being data past the levels (all
	// of it in a dictionary page).
	offsets []int32
	// allSet is set on a data page of a nullable column whose levels mark
	// every row set; its values then start at valuesAt (noteLevels).
	allSet   bool
	valuesAt int32
	// shared is set once the page is in a cache (before it is published
	// there, never cleared): other reads may hold it from then on, so
	// its buffer must never be reused for another page, even once it is
	// evicted.
	shared bool
	// used is set by a point read that found the page in the cache, and
	// cleared when eviction passes it over (guarded by its shard's lock).
	used bool
}

// bytes is what the page holds: its data, with the room its byte arrays'
// lengths took before they were laid out, and their offsets.
func (p *cachedPage) bytes() int64 {
	return int64(cap(p.data)) + 4*int64(cap(p.offsets)) + 128
}

// NewPageCache returns a cache holding at most limit bytes of pages.
func NewPageCache(limit int64) *PageCache {
	n := int(min(max(limit/pageShardBytes, 1), maxPageShards))
	n = 1 << (bits.Len(uint(n)) - 1) // a power of two: shard picks by bits
	c := &PageCache{limit: limit, shards: make([]pageShard, n)}
	for i := range c.shards {
		c.shards[i] = pageShard{limit: limit / int64(n), pages: map[pageID]*cachedPage{}}
	}
	return c
}

// shard returns the shard that holds page id (by its offset: pages of a
// file spread over the shards).
func (c *PageCache) shard(id pageID) *pageShard {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	h := uint64(id.offset) * 0x9E3779B97F4A7C15
	return &c.shards[h>>(64-bits.Len(uint(len(c.shards)-1)))]
}

// get returns the page, or nil.
func (c *PageCache) get(id pageID) *cachedPage {
	if c == nil {
		return nil
	}
	return c.shard(id).lookup(id, true)
}

// lookup returns the page, or nil; a point read (used) marks it used,
// which keeps it when eviction reaches it (a scan's lookup does not).
func (c *pageShard) lookup(id pageID, used bool) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	pg, ok := c.pages[id]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	if used {
		pg.used = true // moved to the front only when it would be evicted
	}
	return pg
}

// put adds a page, evicting past the limit the pages least recently put
// or read (CLOCK: a page read since eviction last passed it gets a second
// turn at the front instead of being moved on every read). A page larger
// than a shard is not kept.
func (c *PageCache) put(p *cachedPage) {
	if c == nil {
		return
	}
	c.used.Add(c.shard(p.id).put(p))
}

// put adds a page to the shard and returns by how much the shard grew.
func (c *pageShard) put(p *cachedPage) (grew int64) {
	if p.bytes() > c.limit {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[p.id]; ok {
		return 0
	}
	before := c.used
	p.shared = true
	c.lru.PushFront(p)
	c.pages[p.id] = p
	c.used += p.bytes()
	for c.used > c.limit {
		e := c.lru.Back()
		old := e.Value.(*cachedPage)
		if old.used && old != p {
			// Read since it was last moved: a second chance at the
			// front (CLOCK), so that a hit costs no move of the list.
			old.used = false
			c.lru.MoveToFront(e)
			continue
		}
		c.lru.Remove(e)
		delete(c.pages, old.id)
		c.used -= old.bytes()
	}
	return c.used - before
}

// scanGet returns the page for a scan, or nil, leaving its place in the
// eviction order alone: a page is made recent by point reads only.
func (c *PageCache) scanGet(id pageID) *cachedPage {
	if c == nil {
		return nil
	}
	return c.shard(id).lookup(id, false)
}

// holds says whether the cache holds the page, leaving its counters and
// eviction order alone: a scan asks before it fetches.
func (c *PageCache) holds(id pageID) bool {
	if c == nil {
		return false
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.pages[id]
	return ok
}

// scanRoom says whether a scan may keep pages: whether the cache has
// room to spare. A scan that will keep the page it decodes decodes it
// into a buffer of its own rather than into the one of the page before.
func (c *PageCache) scanRoom() bool {
	return c != nil && c.used.Load() < c.limit
}

// scanRoomFor says whether a scan may keep page id of about n bytes:
// whether the cache, and the page's shard, have that much room to spare.
func (c *PageCache) scanRoomFor(id pageID, n int64) bool {
	if !c.scanRoom() {
		return false
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.used+n <= sh.limit
}

// scanPut keeps a page a scan decoded if it fits in the room the cache
// has to spare, at the cold end of the eviction order, and says whether
// it did. It never evicts a page.
func (c *PageCache) scanPut(p *cachedPage) bool {
	if c == nil {
		return false
	}
	if !c.shard(p.id).scanPut(p) {
		return false
	}
	c.used.Add(p.bytes())
	return true
}

func (c *pageShard) scanPut(p *cachedPage) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[p.id]; ok || c.used+p.bytes() > c.limit {
		return false
	}
	p.shared = true
	c.lru.PushBack(p)
	c.pages[p.id] = p
	c.used += p.bytes()
	c.scanKept++
	return true
}

// PageCacheStats counts a cache's use.
type PageCacheStats struct {
	Pages        int
	Bytes, Limit int64
	Hits, Misses int64 // page reads served from the cache, and not (point reads and scans)
	ScanKept     int64 // pages scans added (into room to spare)
}

// Stats returns the cache's counters.
func (c *PageCache) Stats() PageCacheStats {
	st := PageCacheStats{Limit: c.limit}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		st.Pages += len(sh.pages)
		st.Bytes += sh.used
		st.Hits += sh.hits
		st.Misses += sh.misses
		st.ScanKept += sh.scanKept
		sh.mu.Unlock()
	}
	return st
}
