package ingest

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/schema"
)

// DefaultBatchRows is the number of rows in a batch when an option leaves it
// unset.
const DefaultBatchRows = 64 << 10

// CSVOptions configures a CSVReader. The zero value reads comma-separated
// text with a header line, treats unquoted empty fields as NULL, and makes
// batches of DefaultBatchRows rows from memory.DefaultAllocator.
type CSVOptions struct {
	// NoHeader says that the first line is data. Fields are then in storage
	// order and every record has one field per schema column. With a header
	// (the default), fields are matched to columns by name, ignoring case,
	// in any order; a nullable value column may be absent (it is all NULL).
	NoHeader bool
	// Delimiter separates fields; 0 means ','. It must be a one-byte
	// character other than '"', '\r' and '\n'.
	Delimiter rune
	// Null is the text of NULL: an unquoted field equal to it is NULL, as in
	// PostgreSQL's COPY ... CSV. With the default "", an unquoted empty field
	// is NULL and a quoted "" is the empty string.
	Null string
	// BatchRows bounds the rows of a batch; 0 means DefaultBatchRows.
	BatchRows int
	// Workers is the number of parsing goroutines; 0 means cores.N(), at
	// most 8.
	Workers int
	// Allocator allocates the batches; nil means memory.DefaultAllocator.
	Allocator memory.Allocator
}

func (o CSVOptions) withDefaults() (CSVOptions, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if o.Delimiter >= 0x80 || o.Delimiter == '"' || o.Delimiter == '\n' || o.Delimiter == '\r' {
		return o, fmt.Errorf("CSV delimiter %q must be a one-byte character other than quote and newline", o.Delimiter)
	}
	if strings.ContainsAny(o.Null, "\"\r\n") || strings.ContainsRune(o.Null, o.Delimiter) {
		return o, fmt.Errorf("CSV null string %q must not hold the delimiter, a quote or a newline", o.Null)
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.Workers <= 0 {
		o.Workers = min(cores.N(), 8)
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	return o, nil
}

// CSVReader reads CSV text as record batches in the table's storage order.
// It is a RecordReader; it is not safe for concurrent use.
//
// Parsing runs ahead of Next in background goroutines, a few batches deep.
// The reader reads r from one of them until Close; Close does not close r.
type CSVReader struct {
	name   string
	order  chan *csvChunk
	done   chan struct{}
	wg     sync.WaitGroup
	err    error
	closed bool
}

// csvChunk is a run of whole records on its way through a parser. done is
// closed when rec or err is set.
type csvChunk struct {
	buf  *[]byte
	data []byte
	line int
	rec  arrow.RecordBatch
	err  error
	done chan struct{}
}

// NewCSVReader reads the header (unless opts.NoHeader), matches it to sch and
// starts parsing in the background. name is used in error messages. Errors
// about the header are returned here; errors in the data come from Next.
func NewCSVReader(r io.Reader, name string, sch *schema.Schema, opts CSVOptions) (*CSVReader, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sp := newSplitter(r, opts.BatchRows)
	plan, err := newCSVPlan(sp, name, sch, opts)
	if err != nil {
		return nil, err
	}
	cr := &CSVReader{
		name:  name,
		order: make(chan *csvChunk, 2*opts.Workers),
		done:  make(chan struct{}),
	}
	work := make(chan *csvChunk, opts.Workers)
	// Chunk buffers are recycled through a free list rather than a
	// sync.Pool, which drops them at every garbage collection.
	pool := make(chan *[]byte, cap(cr.order)+cap(work)+opts.Workers+1)
	cr.wg.Add(1 + opts.Workers)
	go cr.split(sp, work, pool)
	for range opts.Workers {
		go cr.parse(newCSVParser(plan), work, pool)
	}
	return cr, nil
}

// split cuts the input into chunks and hands each to a parser and, in the
// same order, to Next.
func (cr *CSVReader) split(sp *splitter, work chan<- *csvChunk, pool chan *[]byte) {
	defer cr.wg.Done()
	defer close(work)
	defer close(cr.order)
	for {
		c := &csvChunk{done: make(chan struct{})}
		select {
		case c.buf = <-pool:
		default:
			c.buf = new([]byte)
		}
		var err error
		c.data, c.line, err = sp.next(c.buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			c.err = fmt.Errorf("read %s: %w", cr.name, err)
			close(c.done)
		}
		select {
		case cr.order <- c:
		case <-cr.done:
			return
		}
		if err != nil {
			return
		}
		select {
		case work <- c:
		case <-cr.done:
			return
		}
	}
}

func (cr *CSVReader) parse(p *csvParser, work <-chan *csvChunk, pool chan *[]byte) {
	defer cr.wg.Done()
	for c := range work {
		select {
		case <-cr.done:
		default:
			c.rec, c.err = p.parseChunk(c.data, c.line)
		}
		c.data = nil
		select {
		case pool <- c.buf:
		default:
		}
		close(c.done)
	}
}

// Next returns the next batch in input order, or io.EOF after the last. The
// caller owns the batch. A bad value ends the stream with a *ValueError.
func (cr *CSVReader) Next() (arrow.RecordBatch, error) {
	if cr.closed {
		return nil, ErrClosed
	}
	for cr.err == nil {
		c, ok := <-cr.order
		if !ok {
			cr.err = io.EOF
			break
		}
		<-c.done
		if c.err != nil {
			cr.err = c.err
			break
		}
		if c.rec != nil && c.rec.NumRows() > 0 {
			return c.rec, nil
		}
		if c.rec != nil {
			c.rec.Release()
		}
	}
	return nil, cr.err
}

// Close stops the background parsing and releases the batches it made. It
// waits for a read of the input in progress to return.
func (cr *CSVReader) Close() error {
	if cr.closed {
		return nil
	}
	cr.closed = true
	close(cr.done)
	cr.wg.Wait()
	for c := range cr.order {
		select {
		case <-c.done:
			if c.rec != nil {
				c.rec.Release()
			}
		default: // never reached a parser
		}
	}
	return nil
}
