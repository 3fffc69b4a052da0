package ingest

import (
	"errors"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// Batch is a batch of sorted rows: Rec has the table's storage-order
// schema and Keys[i] is the sort key of its row i.
type Batch struct {
	Rec  arrow.RecordBatch
	Keys [][]byte
}

// Sorted streams the rows of a Sorter in key order. It is not safe for
// concurrent use.
//
// A goroutine decodes the batch after the one the caller holds, so that
// decoding overlaps with whatever the caller does with its batch. It starts
// at the first Next and stops at Close.
type Sorted struct {
	dec       *rowDecoder
	batchRows int
	outBytes  int64
	stats     SortStats

	// Rows sorted in memory: all of them, or those that join the merge.
	mem  *sortedRows
	rows [][]byte

	// Rows merged from spilled runs.
	merge *merger
	runs  []*runFile
	dir   string

	started bool
	out     chan *sortedBatch
	free    chan *sortedBatch
	stop    chan struct{}
	wg      sync.WaitGroup
	prev    *sortedBatch // what the caller holds, until its next call
	err     error
	closed  bool
}

// sortedBatch is a batch on its way from the decoding goroutine to Next,
// with the buffers its keys live in; the buffers are reused once the caller
// is done with the batch.
type sortedBatch struct {
	rec     arrow.RecordBatch
	keys    [][]byte
	kbuf    []byte   // the keys' bytes
	kends   []int    // where each key ends in kbuf
	scratch [][]byte // keys of the last rows decoded, not yet in kbuf
	held    int64    // bytes the sorter held when it was made
	err     error
}

// Next returns the next batch of rows in key order, or io.EOF after the
// last. The caller owns b.Rec and releases it; b.Keys is valid until the
// next call of Next or Close.
func (s *Sorted) Next() (Batch, error) {
	if s.closed {
		return Batch{}, ErrClosed
	}
	if s.err != nil {
		return Batch{}, s.err
	}
	if !s.started {
		s.start()
	}
	if s.prev != nil {
		s.free <- s.prev // never blocks: free holds every batch there is
		s.prev = nil
	}
	b, ok := <-s.out
	switch {
	case !ok:
		s.err = io.EOF
	case b.err != nil:
		s.err = b.err
	}
	if s.err != nil {
		return Batch{}, s.err
	}
	s.prev = b
	s.stats.PeakMemory = max(s.stats.PeakMemory, b.held+(inFlight+1)*recordBytes(b.rec))
	return Batch{Rec: b.rec, Keys: b.keys}, nil
}

// inFlight is how many batches exist at once: the caller's, one waiting
// in s.out, one being decoded.
const inFlight = 3

func (s *Sorted) start() {
	s.started = true
	s.out = make(chan *sortedBatch, inFlight-2)
	s.free = make(chan *sortedBatch, inFlight)
	s.stop = make(chan struct{})
	for range inFlight {
		s.free <- &sortedBatch{}
	}
	s.wg.Add(1)
	go s.produce()
}

func (s *Sorted) produce() {
	defer s.wg.Done()
	defer close(s.out)
	for {
		var b *sortedBatch
		select {
		case b = <-s.free:
		case <-s.stop:
			return
		}
		b.rec, b.err = nil, nil
		b.err = s.decodeNext(b)
		if b.rec == nil && b.err == nil {
			return
		}
		select {
		case s.out <- b:
		case <-s.stop:
			if b.rec != nil {
				b.rec.Release()
			}
			return
		}
		if b.err != nil {
			return
		}
	}
}

// decodeNext decodes the next batch of rows into b; it leaves b.rec nil at
// the end.
func (s *Sorted) decodeNext(b *sortedBatch) error {
	b.held = 0
	b.keys, b.kbuf, b.kends = b.keys[:0], b.kbuf[:0], b.kends[:0]
	if s.merge != nil {
		rows, err := s.merge.next(s.batchRows, s.outBytes)
		if err != nil {
			return err
		}
		b.held = s.merge.held
		if len(rows) > 0 {
			b.rec = s.dec.decode(rows, b.scratchKeys(len(rows)))
			b.keepKeys()
		}
	} else if s.mem != nil {
		s.mem.releaseRead()
		s.dec.reset()
		// A few rows at a time, so that they are still in the cache when
		// decoded (see sortedRows.read).
		for n := 0; n < s.batchRows; {
			s.rows = s.mem.read(s.rows[:0], min(decodeBlock, s.batchRows-n))
			if len(s.rows) == 0 {
				break
			}
			s.dec.add(s.rows, b.scratchKeys(len(s.rows)))
			b.keepKeys()
			n += len(s.rows)
		}
		if len(b.kends) > 0 {
			b.rec = s.dec.finish()
		}
	}
	if s.mem != nil {
		b.held += s.mem.size
	}
	if b.rec == nil {
		return nil
	}
	// The keys point into blocks and buckets that the next step may
	// release: they were copied to kbuf.
	b.keys = slices.Grow(b.keys[:0], len(b.kends))[:len(b.kends)]
	start := 0
	for i, end := range b.kends {
		b.keys[i] = b.kbuf[start:end:end]
		start = end
	}
	return nil
}

// scratchKeys returns room for the keys of n rows, which keepKeys then
// copies: keys copied while their rows are still in the cache cost little.
func (b *sortedBatch) scratchKeys(n int) [][]byte {
	b.scratch = slices.Grow(b.scratch[:0], n)[:n]
	return b.scratch
}

func (b *sortedBatch) keepKeys() {
	for _, k := range b.scratch {
		b.kbuf = append(b.kbuf, k...)
		b.kends = append(b.kends, len(b.kbuf))
	}
	clear(b.scratch)
}

// Stats reports what the sort did, PeakMemory counting the output so far.
func (s *Sorted) Stats() SortStats { return s.stats }

// Close stops decoding, releases everything and removes the spill files.
// Batches already returned stay valid.
func (s *Sorted) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.started {
		close(s.stop)
		for b := range s.out {
			if b.rec != nil {
				b.rec.Release()
			}
		}
		s.wg.Wait()
	}
	var errs []error
	if s.merge != nil {
		errs = append(errs, s.merge.close())
	}
	if s.mem != nil {
		s.mem.release()
	}
	for _, r := range s.runs {
		errs = append(errs, r.remove())
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}
