package engine

import (
	"container/list"
	"context"
	"errors"
	"sync"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
)

// ReaderPool keeps open data file readers between queries. Opening a file
// costs a store open, the footer and, on first use of a row group, its
// page index; a point lookup does little else, so reusing the open
// reader of the last query that read the file makes it several times
// faster. Data files never change once written, so an idle reader stays
// good for as long as its file exists; one whose file was deleted fails
// its next read, as a reader opened before the deletion would.
//
// A reader is used by one scan at a time: Get hands out an idle one or
// opens a new one, Put gives it back (idle readers hold only their
// footer and page indexes: a finished row group releases its data). At
// most Max idle readers are kept; the least recently used are closed.
// A ReaderPool is safe for concurrent use; the nil pool opens and closes
// a reader per scan.
//
// The pool's readers share one datafile.PageCache: the decompressed pages
// of point and narrow range reads, so that hot keys are answered from
// memory (the buffer pool of a database; see datafile.PageCache), and of
// scans where it has room to spare, which a scan never takes from the
// point reads' pages.
type ReaderPool struct {
	max   int
	pages *datafile.PageCache

	mu    sync.Mutex
	idle  map[readerKey][]*list.Element
	order *list.List // of *pooledReader, most recently put at the front
}

// DefaultReaderPoolSize is how many idle readers a pool keeps unless told.
const DefaultReaderPoolSize = 512

type readerKey struct {
	store     string // the store's URL
	key       string
	batchRows int
}

type pooledReader struct {
	k readerKey
	r *datafile.Reader
}

// DefaultPageCacheBytes is the size of a pool's page cache unless told.
const DefaultPageCacheBytes = 256 << 20

// NewReaderPool returns a pool keeping at most max idle readers
// (DefaultReaderPoolSize when max <= 0) and pageCacheBytes of decoded
// pages (DefaultPageCacheBytes when 0; none when negative).
func NewReaderPool(max int, pageCacheBytes int64) *ReaderPool {
	if max <= 0 {
		max = DefaultReaderPoolSize
	}
	if pageCacheBytes == 0 {
		pageCacheBytes = DefaultPageCacheBytes
	}
	p := &ReaderPool{max: max, idle: map[readerKey][]*list.Element{}, order: list.New()}
	if pageCacheBytes > 0 {
		p.pages = datafile.NewPageCache(pageCacheBytes)
	}
	return p
}

// PageCache returns the pool's page cache, nil if it has none.
func (p *ReaderPool) PageCache() *datafile.PageCache {
	if p == nil {
		return nil
	}
	return p.pages
}

// Get returns a reader of the data file key, idle or newly opened, whose
// batches have at most batchRows rows (0: the reader's default) and come
// from the reader's own pooled allocator. The caller gives it back with
// Put, or closes it.
func (p *ReaderPool) Get(ctx context.Context, store objstore.Store, key string, sch *schema.Schema, batchRows int) (*datafile.Reader, error) {
	if p != nil {
		k := readerKey{store: store.URL(), key: key, batchRows: batchRows}
		p.mu.Lock()
		if els := p.idle[k]; len(els) > 0 {
			el := els[len(els)-1]
			p.idle[k] = els[:len(els)-1]
			if len(p.idle[k]) == 0 {
				delete(p.idle, k)
			}
			p.order.Remove(el)
			p.mu.Unlock()
			return el.Value.(*pooledReader).r, nil
		}
		p.mu.Unlock()
	}
	if p != nil {
		// A pooled reader outlives this statement and reads with the
		// context it was opened with: not the statement's, which ends.
		ctx = context.WithoutCancel(ctx)
	}
	return datafile.Open(ctx, store, key, sch, datafile.WithBatchRows(batchRows), datafile.WithPageCache(p.PageCache()))
}

// Put gives back a reader Get returned, which the caller must not use
// afterwards: it becomes idle, and the least recently used idle reader is
// closed if the pool is full. Its record readers must be closed. The nil
// pool closes it.
func (p *ReaderPool) Put(store objstore.Store, key string, batchRows int, r *datafile.Reader) error {
	if p == nil {
		return r.Close()
	}
	k := readerKey{store: store.URL(), key: key, batchRows: batchRows}
	p.mu.Lock()
	el := p.order.PushFront(&pooledReader{k: k, r: r})
	p.idle[k] = append(p.idle[k], el)
	var evicted []*datafile.Reader
	for p.order.Len() > p.max {
		last := p.order.Back()
		pr := last.Value.(*pooledReader)
		p.order.Remove(last)
		els := p.idle[pr.k]
		for i, e := range els {
			if e == last {
				els = append(els[:i], els[i+1:]...)
				break
			}
		}
		if len(els) == 0 {
			delete(p.idle, pr.k)
		} else {
			p.idle[pr.k] = els
		}
		evicted = append(evicted, pr.r)
	}
	p.mu.Unlock()
	var err error
	for _, r := range evicted {
		err = errors.Join(err, r.Close())
	}
	return err
}

// Close closes every idle reader.
func (p *ReaderPool) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	var readers []*datafile.Reader
	for el := p.order.Front(); el != nil; el = el.Next() {
		readers = append(readers, el.Value.(*pooledReader).r)
	}
	p.order.Init()
	p.idle = map[readerKey][]*list.Element{}
	p.mu.Unlock()
	var err error
	for _, r := range readers {
		err = errors.Join(err, r.Close())
	}
	return err
}

// Idle is the number of idle readers the pool holds.
func (p *ReaderPool) Idle() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order.Len()
}
