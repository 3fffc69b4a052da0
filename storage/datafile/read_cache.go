package datafile

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// Why a read cache between the Parquet reader and the store.
//
// The Parquet reader asks for bytes as it decodes: a column chunk at a
// time in its unbuffered mode (one ranged read of the whole chunk, even
// when page pruning will skip most of it), or 16 KiB at a time in its
// buffered mode (many small reads, each a request to an object store, and
// read-ahead that runs past the last wanted page into pages pruned away).
// Neither reads only the pages a query wants in few requests.
//
// So the Reader plans its reads itself. Before a row group is decoded,
// ReadRows works out the byte ranges it needs (whole column chunks, or the
// dictionary page and the data pages that hold the selected rows), merges
// ranges closer than the coalescing gap, and fetches them, several at once.
// The Parquet reader runs in buffered mode over readCache, which serves
// those ranges from memory. A read that starts inside a fetched range stops
// at its end (a short read, which the Parquet reader's buffered streams
// take in their stride), so read-ahead never fetches a pruned page; a read
// elsewhere (the footer, a page the plan missed) goes to the store.
// The page index of a row group, which every seek consults, is fetched once
// and kept for the Reader's life.

// DefaultCoalesceGap is the largest hole between two wanted byte ranges
// that is read anyway so that they are fetched in one request. Object
// stores charge per request and answer the first byte slowly; a few KiB
// more in a response cost less than another request.
const DefaultCoalesceGap = 8 << 10

// fetchParallelism is how many ranges are fetched at once.
const fetchParallelism = 4

// byteRange is a half-open range [off, end) of a file.
type byteRange struct{ off, end int64 }

// cachedRange holds the bytes of one fetched range.
type cachedRange struct {
	off    int64
	data   []byte
	pinned bool // kept until the Reader closes; else dropped by release
}

func (c *cachedRange) end() int64 { return c.off + int64(len(c.data)) }

// readCache is an io.ReaderAt over an object that serves fetched ranges
// from memory. It is safe for concurrent use.
type readCache struct {
	obj objstore.Object

	mu     sync.Mutex
	ranges []*cachedRange // sorted by off, disjoint
	// fetched counts the bytes read from the object, for tests and stats.
	fetched int64
}

func newReadCache(obj objstore.Object) *readCache { return &readCache{obj: obj} }

// ReadAt reads from the cached range that holds off, stopping at its end,
// or else from the object. A read stopped at the end of a cached range is
// short and returns no error: the Parquet reader's buffered streams and
// io.ReadFull ask again for the rest, so its read-ahead never fetches the
// pruned pages that follow a wanted one. Reads that must be whole (the
// footer, the page index) fall inside one cached range or none.
func (c *readCache) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].end() > off })
	if i < len(c.ranges) && c.ranges[i].off <= off {
		n := copy(p, c.ranges[i].data[off-c.ranges[i].off:])
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	n, err := c.obj.ReadAt(p, off)
	c.count(int64(n))
	return n, err
}

func (c *readCache) count(n int64) {
	c.mu.Lock()
	c.fetched += n
	c.mu.Unlock()
}

// Fetched is the number of bytes read from the object so far.
func (c *readCache) Fetched() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched
}

// covered reports whether [off, end) lies inside one cached range.
func (c *readCache) covered(off, end int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].end() > off })
	return i < len(c.ranges) && c.ranges[i].off <= off && c.ranges[i].end() >= end
}

// fetch reads the given ranges (sorted, disjoint) from the object, merging
// those less than gap apart, and caches them; pinned ones stay until the
// Reader closes. Bytes already cached are fetched again only when they sit
// inside a merged range.
func (c *readCache) fetch(want []byteRange, gap int64, pinned bool) error {
	merged := coalesce(want, gap)
	got := make([]*cachedRange, len(merged))
	errs := make([]error, len(merged))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchParallelism)
	for i, br := range merged {
		if c.covered(br.off, br.end) {
			continue
		}
		read := func() {
			var data []byte
			if pinned {
				data = make([]byte, br.end-br.off)
			} else {
				data = poolBytes(int(br.end - br.off))
			}
			n, err := c.obj.ReadAt(data, br.off)
			c.count(int64(n))
			if err != nil && !(err == io.EOF && n == len(data)) {
				if !pinned {
					readPool.Free(data)
				}
				errs[i] = fmt.Errorf("read bytes %d-%d: %w", br.off, br.end, err)
				return
			}
			got[i] = &cachedRange{off: br.off, data: data, pinned: pinned}
		}
		if len(merged) == 1 {
			read() // nothing to overlap it with
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			read()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, cr := range got {
				c.drop(cr)
			}
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cr := range got {
		if cr != nil {
			c.insert(cr)
		}
	}
	return nil
}

// insert adds a range, dropping the cached ranges it overlaps: it holds
// the bytes where they overlap, and what else they held is read again if
// ever needed. Data ranges never overlap the page index, so a pinned range
// only ever gives way to another pinned one.
func (c *readCache) insert(cr *cachedRange) {
	out := make([]*cachedRange, 0, len(c.ranges)+1)
	for _, r := range c.ranges {
		if r.end() <= cr.off || r.off >= cr.end() {
			out = append(out, r)
		} else {
			if r.pinned {
				cr.pinned = true
			}
			c.drop(r)
		}
	}
	out = append(out, cr)
	sort.Slice(out, func(i, j int) bool { return out[i].off < out[j].off })
	c.ranges = out
}

// release drops every range that is not pinned.
func (c *readCache) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.ranges[:0]
	for _, r := range c.ranges {
		if r.pinned {
			kept = append(kept, r)
		} else {
			c.drop(r)
		}
	}
	clear(c.ranges[len(kept):])
	c.ranges = kept
}

// poolBytes returns n bytes from the pool for a range that release drops.
// They are overwritten whole, so a reused buffer is not cleared.
func poolBytes(n int) []byte { return readPool.allocate(n) }

// drop hands a dropped range's bytes back to the pool; no read holds them,
// as ReadAt copies out under the lock. Pinned ranges, made by Go's
// allocator, are left to the collector.
func (c *readCache) drop(r *cachedRange) {
	if r != nil && !r.pinned {
		readPool.Free(r.data)
		r.data = nil
	}
}

// coalesce merges sorted ranges that overlap or lie less than gap apart.
func coalesce(in []byteRange, gap int64) []byteRange {
	var out []byteRange
	for _, r := range in {
		if r.end <= r.off {
			continue
		}
		if n := len(out); n > 0 && r.off-out[n-1].end <= gap {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}
