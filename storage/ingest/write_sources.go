package ingest

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
)

// The sources of a Write: goroutines that read inputs ahead of the merge
// and check the order of their rows.
//
// The merge orders rows by (leaf index, row key), as the Sorter does. When
// the partition tree splits on the first row key only (the usual tree: a
// leaf is a range of the first row key), a row's leaf follows from its row
// key and that order is the order of the row keys alone. The sources then
// check the order in place, column by column, and keys are encoded only
// for the rows the merge compares (its heads and the probes of its binary
// searches), leaves looked up only where runs start and end. Otherwise
// (rowOrder false) every row's key, leaf index first, is encoded as the
// Sorter's are.

// rowOrderTree says whether the order of row keys is the order of (leaf,
// row key) in t: every split is on the first row key.
func rowOrderTree(t *partition.Tree) bool {
	ok := true
	t.Walk(func(p *partition.Partition) {
		if !p.IsLeaf() && p.Dim != 0 {
			ok = false
		}
	})
	return ok
}

// newKey returns a KeyFunc for one goroutine (a Router is not safe for
// concurrent use): the leaf index, big-endian, then the row key.
func (iw *inputWriter) newKey() KeyFunc {
	router := partition.NewRouter(iw.tree)
	nkeys := iw.sch.NumKeys()
	return func(dst []byte, rec arrow.RecordBatch, row int) []byte {
		dst = binary.BigEndian.AppendUint32(dst, uint32(router.Leaf(rec, row)))
		return schema.AppendRowKey(dst, rec, nkeys, row)
	}
}

// next releases the source's current batch and takes the next one; at the
// end, or on an error (which it returns and keeps in s.err), s.cur is nil.
func (iw *inputWriter) next(s *source) error {
	if s.cur != nil {
		s.cur.rec.Release()
		s.cur.rec = nil
		s.free <- s.cur
		s.cur = nil
	}
	if s.err != nil {
		return s.err
	}
	if err := iw.ctx.Err(); err != nil {
		s.err = err
		return err
	}
	if s.done {
		return nil
	}
	b, ok := <-s.ch
	if !ok {
		s.done = true
		return nil
	}
	if b.err != nil {
		s.err = b.err
		s.free <- b
		return s.err
	}
	s.cur = b
	s.seek(0)
	iw.p.RowsRead += b.rec.NumRows()
	return nil
}

// newSource makes a source reading inputs in turn; start starts it.
func (iw *inputWriter) newSource(inputs ...RecordReader) *source {
	s := &source{inputs: inputs, nkeys: iw.sch.NumKeys(), ch: make(chan *sourceBatch), free: make(chan *sourceBatch, 2)}
	for range cap(s.free) {
		s.free <- &sourceBatch{}
	}
	return s
}

// start starts the source's goroutine, unless it runs already.
func (iw *inputWriter) start(s *source) {
	if s.started {
		return
	}
	s.started = true
	iw.wg.Add(1)
	go func() {
		defer iw.wg.Done()
		defer close(s.ch)
		iw.produce(s)
	}()
}

// stopSources stops every source's goroutine, waits for them and releases
// what they read ahead: after Write returns, its caller may close the
// inputs.
func (iw *inputWriter) stopSources() {
	close(iw.stop)
	iw.wg.Wait()
	for _, s := range iw.sources {
		if !s.started {
			continue
		}
		if s.cur != nil {
			s.cur.rec.Release()
			s.cur = nil
		}
		for b := range s.ch {
			if b.rec != nil {
				b.rec.Release()
			}
		}
	}
}

// source reads its inputs in turn, in its own goroutine, one batch ahead
// of the merge; while the merge runs it checks the order of the rows.
type source struct {
	inputs  []RecordReader
	nkeys   int
	bound   []byte // a lower bound of its row keys, if bounded (KeyBounder)
	bounded bool
	started bool
	ch      chan *sourceBatch // batches read; closed after the last
	free    chan *sourceBatch // batch structs to reuse

	// The merge's side.
	cur   *sourceBatch // the batch being merged; nil at the end
	pos   int          // its next row
	head  []byte       // the key of row pos
	probe []byte       // scratch for keyAt
	done  bool         // every batch was taken
	err   error
}

// sourceBatch is a batch read and whether its rows are in order.
type sourceBatch struct {
	rec    arrow.RecordBatch
	sorted bool // rows in key order, the first not before the last batch's last
	err    error
	// Every row's key, one after the other, when keyed (rowOrder false);
	// kends[i] is where row i's ends in kbuf.
	keyed bool
	kbuf  []byte
	kends []int32
}

// seek makes row pos the source's next row.
func (s *source) seek(pos int) {
	s.pos = pos
	if s.cur != nil && pos < int(s.cur.rec.NumRows()) {
		s.head = s.keyAt(s.head[:0], pos)
	}
}

// keyAt appends row i's key to dst: the encoded one, or the row key.
func (s *source) keyAt(dst []byte, i int) []byte {
	if b := s.cur; b.keyed {
		start := int32(0)
		if i > 0 {
			start = b.kends[i-1]
		}
		return append(dst, b.kbuf[start:b.kends[i]]...)
	}
	return schema.AppendRowKey(dst, s.cur.rec, s.nkeys, i)
}

// compareAt compares row i's key with key.
func (s *source) compareAt(i int, key []byte) int {
	s.probe = s.keyAt(s.probe[:0], i)
	return bytes.Compare(s.probe, key)
}

// produce reads s's inputs, sending each batch with its order checked,
// until the end, an error (sent as a batch) or iw.stop.
func (iw *inputWriter) produce(s *source) {
	var key KeyFunc
	if !iw.rowOrder {
		key = iw.newKey()
	}
	var last []byte // the key of the last row sent
	for _, in := range s.inputs {
		var rows int64 // rows read from in
		for {
			var b *sourceBatch
			select {
			case b = <-s.free:
			case <-iw.stop:
				return
			}
			rec, err := in.Next()
			if err == io.EOF {
				s.free <- b
				break
			}
			if err == nil {
				if err = checkLengths(rec, iw.limits, rows); err != nil {
					rec.Release()
				}
			}
			if err != nil {
				b.rec, b.err = nil, err
				select {
				case s.ch <- b:
				case <-iw.stop:
				}
				return
			}
			rows += rec.NumRows()
			b.rec, b.err, b.sorted, b.keyed = rec, nil, false, false
			switch {
			case !iw.merging.Load():
			case key != nil:
				last = b.encodeKeys(key, last)
			default:
				last = b.checkOrder(s.nkeys, last)
			}
			select {
			case s.ch <- b:
			case <-iw.stop:
				rec.Release()
				return
			}
		}
	}
}

// checkOrder sets b.sorted: whether b's rows are in order of their row
// keys after last, the row key of the row before (nil if none). It
// compares neighbours in place, column by column, and encodes only b's
// first and last row keys; it returns the last (reusing last's memory).
func (b *sourceBatch) checkOrder(nkeys int, last []byte) []byte {
	n := int(b.rec.NumRows())
	if n == 0 {
		b.sorted = true
		return last
	}
	first := schema.AppendRowKey(b.kbuf[:0], b.rec, nkeys, 0)
	b.kbuf = first[:0] // keep the memory; the batch keeps no keys
	sorted := last == nil || bytes.Compare(last, first) <= 0
	cmps := make([]func(int) int, nkeys)
	for c := range cmps {
		cmps[c] = schema.AdjacentOrder(b.rec.Column(c))
	}
rows:
	for r := 1; r < n && sorted; r++ {
		for _, order := range cmps {
			switch order(r) {
			case -1:
				continue rows
			case 1:
				sorted = false
				break rows
			}
		}
	}
	b.sorted = sorted
	return schema.AppendRowKey(last[:0], b.rec, nkeys, n-1)
}

// encodeKeys encodes the key of every row of b.rec (leaf index first) and
// sets b.sorted: whether they are in order after last, the key of the row
// before (nil if none). It returns the key of b's last row (reusing
// last's memory).
func (b *sourceBatch) encodeKeys(key KeyFunc, last []byte) []byte {
	n := int(b.rec.NumRows())
	b.kbuf, b.kends, b.keyed = b.kbuf[:0], b.kends[:0], true
	sorted := true
	prev := 0
	for row := range n {
		start := len(b.kbuf)
		b.kbuf = key(b.kbuf, b.rec, row)
		b.kends = append(b.kends, int32(len(b.kbuf)))
		k := b.kbuf[start:]
		switch {
		case row > 0:
			sorted = sorted && bytes.Compare(b.kbuf[prev:start], k) <= 0
		case last != nil:
			sorted = bytes.Compare(last, k) <= 0
		}
		prev = start
	}
	b.sorted = sorted
	if n == 0 {
		return last
	}
	return append(last[:0], b.kbuf[prev:]...)
}
