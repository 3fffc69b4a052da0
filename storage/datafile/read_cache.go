package datafile

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

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
//
// A read of whole row groups (a full scan, a compaction's merge) does not
// fetch a big column chunk whole: that would hold the row group's
// compressed bytes (tens of MiB) for as long as it is decoded, per open
// file, and a k-way merge keeps k files open. It streams each chunk
// larger than the fetch window instead, a window at a time (stream): the
// first window of every chunk is fetched up front, with the small chunks,
// and the next one when the decoder reaches it. Where fetching is slow (an
// object store: tens of milliseconds before the first byte) the next
// window is read ahead in the background while the current one is
// decoded, so that the latency is hidden and each request still brings a
// MiB or so; where it is fast (a local file in the page cache) a read
// ahead would only double the memory. A Reader then holds at most two
// windows per column chunk whatever the size of its row groups. A chunk
// whose pages the page cache holds is fetched nothing of up front, only
// the windows of the pages found missing (Reader.cachedChunk).
// Page-pruned reads (selections with rows) fetch just the wanted pages up
// front, as before.

// DefaultCoalesceGap is the largest hole between two wanted byte ranges
// that is read anyway so that they are fetched in one request. Object
// stores charge per request and answer the first byte slowly; a few KiB
// more in a response cost less than another request.
const DefaultCoalesceGap = 8 << 10

// fetchParallelism is how many ranges are fetched at once.
const fetchParallelism = 4

// DefaultFetchWindow is how much of a column chunk a read of whole row
// groups fetches at a time (WithFetchWindow). With the next window read
// ahead (on slow stores), a Reader holds at most twice this per column
// being read. A MiB per request keeps an object store's per-request cost
// and first-byte latency small beside the transfer; local files are read
// with pread, for which any size is cheap.
const DefaultFetchWindow = 1 << 20

// slowFetch is how long a fetch of a window may take before the cache
// reads windows ahead: a pread of a MiB from the page cache takes a
// fraction of it, a request to an object store many times it.
const slowFetch = 5 * time.Millisecond

// WithFetchWindow sets how much of a column chunk a read of whole row
// groups fetches at a time (DefaultFetchWindow): a chunk larger than n is
// read n bytes at a time as it is decoded, with the next n bytes read
// ahead where fetches are slow, so that the Reader holds at most 2n bytes
// per column rather than the whole row group.
func WithFetchWindow(n int64) ReaderOption {
	return func(c *readerConfig) {
		if n > 0 {
			c.fetchWindow = n
		}
	}
}

// window is the fetch window in force.
func (c *readerConfig) window() int64 {
	if c.fetchWindow > 0 {
		return c.fetchWindow
	}
	return DefaultFetchWindow
}

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
	// streams are the column chunks being read a window at a time,
	// sorted by off, disjoint; release ends them.
	streams []*stream
	// held is the size of the unpinned ranges and of the windows being
	// read ahead; peak is its highest value (tests check the bound).
	held, peak int64
	// fetched counts the bytes read from the object, for tests and stats.
	fetched atomic.Int64
	// slow is set once a fetch took longer than slowFetch: from then on
	// streams read their next window ahead.
	slow atomic.Bool
	// aheads counts the windows read ahead (tests).
	aheads atomic.Int64
}

// stream reads one column chunk [off, end) a window at a time: cur is the
// window the decoder is in (also in ranges), ahead the next one, being
// fetched. mu orders the moves of the window.
type stream struct {
	off, end int64
	window   int64

	mu    sync.Mutex
	cur   *cachedRange
	ahead *readAhead
}

// readAhead is a window being fetched in the background; done closes when
// data and err are set.
type readAhead struct {
	off  int64
	data []byte
	err  error
	done chan struct{}
}

func newReadCache(obj objstore.Object) *readCache { return &readCache{obj: obj} }

// ReadAt reads from the cached range that holds off, stopping at its end,
// or else from the object. A read stopped at the end of a cached range is
// short and returns no error: the Parquet reader's buffered streams and
// io.ReadFull ask again for the rest, so its read-ahead never fetches the
// pruned pages that follow a wanted one. Reads that must be whole (the
// footer, the page index) fall inside one cached range or none.
//
// A read in a streamed chunk outside its current window moves the window
// there (readStream).
func (c *readCache) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	if n, ok := c.copyCached(p, off); ok {
		c.mu.Unlock()
		return n, nil
	}
	s := c.streamAt(off)
	c.mu.Unlock()
	if s != nil {
		return c.readStream(s, p, off)
	}
	n, err := c.obj.ReadAt(p, off)
	c.fetched.Add(int64(n))
	return n, err
}

// copyCached copies into p from the cached range that holds off, if one
// does, stopping at its end. c.mu must be held.
func (c *readCache) copyCached(p []byte, off int64) (int, bool) {
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].end() > off })
	if i < len(c.ranges) && c.ranges[i].off <= off {
		return copy(p, c.ranges[i].data[off-c.ranges[i].off:]), true
	}
	return 0, false
}

// streamAt returns the stream whose chunk holds off, or nil. c.mu must be
// held.
func (c *readCache) streamAt(off int64) *stream {
	i := sort.Search(len(c.streams), func(i int) bool { return c.streams[i].end > off })
	if i < len(c.streams) && c.streams[i].off <= off {
		return c.streams[i]
	}
	return nil
}

// Fetched is the number of bytes read from the object so far.
func (c *readCache) Fetched() int64 { return c.fetched.Load() }

// peakHeld is the most bytes of fetched data (not pinned) held at once.
func (c *readCache) peakHeld() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

// hold counts n bytes more (or fewer) held. c.mu must be held.
func (c *readCache) hold(n int64) {
	c.held += n
	c.peak = max(c.peak, c.held)
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
	got, err := c.read(coalesce(want, gap), pinned)
	if err != nil {
		return err
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

// read fetches the given ranges, several at once, skipping those already
// cached (nil in the result). On error it keeps nothing.
func (c *readCache) read(merged []byteRange, pinned bool) ([]*cachedRange, error) {
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
			n, err := c.timedReadAt(data, br.off)
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
				c.free(cr)
			}
			return nil, err
		}
	}
	return got, nil
}

// stream prepares a read of whole column chunks (want, sorted, one range
// per chunk): chunks no larger than window are fetched now, merged as
// fetch merges them; of each larger one only its first window is fetched
// now, and the rest as ReadAt reaches it, the next window read ahead.
//
// A chunk for which lazy (when not nil) says yes is fetched nothing of
// now, whatever its size: it is streamed from the first read that reaches
// it, if one does. A scan takes it for a chunk whose pages the page cache
// holds, where the first window would be read and copied for nothing.
func (c *readCache) stream(want []byteRange, gap, window int64, lazy func(byteRange) bool) error {
	var small []byteRange
	var streams, later []*stream
	for _, r := range want {
		switch {
		case lazy != nil && lazy(r):
			later = append(later, &stream{off: r.off, end: r.end, window: window})
		case r.end-r.off <= window:
			small = append(small, r)
		default:
			streams = append(streams, &stream{off: r.off, end: r.end, window: window})
		}
	}
	ranges := coalesce(small, gap)
	for _, s := range streams {
		// A window of its own, not merged with a neighbour: it is dropped
		// when the decoder moves past it.
		ranges = append(ranges, byteRange{s.off, s.off + window})
	}
	got, err := c.read(ranges, false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	for i, cr := range got {
		if cr == nil {
			continue
		}
		c.insert(cr)
		if j := i - (len(ranges) - len(streams)); j >= 0 {
			streams[j].cur = cr
		}
	}
	c.streams = append(append(c.streams, streams...), later...)
	sort.Slice(c.streams, func(i, j int) bool { return c.streams[i].off < c.streams[j].off })
	c.mu.Unlock()
	for _, s := range streams {
		s.mu.Lock()
		c.readAhead(s)
		s.mu.Unlock()
	}
	return nil
}

// readStream serves a read at off, in stream s but outside any cached
// range: it makes the window at off current, taking the window read
// ahead if that is the one, else fetching it, drops the window it
// replaces, and starts reading the next one ahead.
func (c *readCache) readStream(s *stream, p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	if n, ok := c.copyCached(p, off); ok { // another read moved the window here
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	cr, err := c.takeWindow(s, off)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if s.cur != nil {
		c.remove(s.cur)
	}
	s.cur = cr
	c.insert(cr)
	n := copy(p, cr.data[off-cr.off:])
	c.mu.Unlock()
	c.readAhead(s)
	return n, nil
}

// takeWindow returns a window of s that holds off: the one read ahead if
// it does, else a fresh fetch from off. s.mu must be held.
func (c *readCache) takeWindow(s *stream, off int64) (*cachedRange, error) {
	if a := s.ahead; a != nil {
		s.ahead = nil
		<-a.done
		c.mu.Lock()
		c.hold(-int64(len(a.data))) // counted again when inserted
		c.mu.Unlock()
		if a.err == nil && a.off <= off && off < a.off+int64(len(a.data)) {
			return &cachedRange{off: a.off, data: a.data}, nil
		}
		readPool.Free(a.data)
	}
	end := min(off+s.window, s.end)
	data := poolBytes(int(end - off))
	n, err := c.timedReadAt(data, off)
	if err != nil && !(err == io.EOF && n == len(data)) {
		readPool.Free(data)
		return nil, fmt.Errorf("read bytes %d-%d: %w", off, end, err)
	}
	return &cachedRange{off: off, data: data}, nil
}

// timedReadAt reads from the object, counting the bytes and noting a
// slow store.
func (c *readCache) timedReadAt(p []byte, off int64) (int, error) {
	start := time.Now()
	n, err := c.obj.ReadAt(p, off)
	c.fetched.Add(int64(n))
	if time.Since(start) > slowFetch {
		c.slow.Store(true)
	}
	return n, err
}

// readAhead starts fetching the window after s's current one, if fetches
// are slow, unless the chunk ends there or a read ahead is under way.
// s.mu must be held.
func (c *readCache) readAhead(s *stream) {
	if !c.slow.Load() || s.cur == nil || s.ahead != nil || s.cur.end() >= s.end {
		return
	}
	off := s.cur.end()
	a := &readAhead{off: off, data: poolBytes(int(min(off+s.window, s.end) - off)), done: make(chan struct{})}
	c.mu.Lock()
	c.hold(int64(len(a.data)))
	c.mu.Unlock()
	s.ahead = a
	c.aheads.Add(1)
	go func() {
		defer close(a.done)
		n, err := c.obj.ReadAt(a.data, a.off)
		c.fetched.Add(int64(n))
		if err != nil && !(err == io.EOF && n == len(a.data)) {
			a.err = err
		}
	}()
}

// endStreams stops every stream: it waits for the windows being read
// ahead and drops them. The current windows are dropped with the other
// ranges.
func (c *readCache) endStreams() {
	c.mu.Lock()
	streams := c.streams
	c.streams = nil
	c.mu.Unlock()
	for _, s := range streams {
		s.mu.Lock()
		if a := s.ahead; a != nil {
			s.ahead = nil
			<-a.done
			c.mu.Lock()
			c.hold(-int64(len(a.data)))
			c.mu.Unlock()
			readPool.Free(a.data)
		}
		s.cur = nil
		s.mu.Unlock()
	}
}

// insert adds a range, dropping the cached ranges it overlaps: it holds
// the bytes where they overlap, and what else they held is read again if
// ever needed. Data ranges never overlap the page index, so a pinned range
// only ever gives way to another pinned one.
func (c *readCache) insert(cr *cachedRange) {
	if !cr.pinned {
		c.hold(int64(len(cr.data)))
	}
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

// remove drops one range. c.mu must be held.
func (c *readCache) remove(cr *cachedRange) {
	if i := slices.Index(c.ranges, cr); i >= 0 {
		c.ranges = slices.Delete(c.ranges, i, i+1)
	}
	c.drop(cr)
}

// release ends the streams and drops every range that is not pinned.
func (c *readCache) release() {
	c.endStreams()
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
// allocator, are left to the collector. c.mu must be held.
func (c *readCache) drop(r *cachedRange) {
	if r != nil && !r.pinned && r.data != nil {
		c.hold(-int64(len(r.data)))
		c.free(r)
	}
}

// free hands the bytes of a range never inserted back to the pool.
func (c *readCache) free(r *cachedRange) {
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
