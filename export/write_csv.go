package export

import (
	"errors"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/sql/pgtypes"
)

// csvWriter writes CSV as PostgreSQL's COPY … TO (FORMAT csv) does: values
// in PostgreSQL's text output (timestamps in UTC), quoted when they hold
// the delimiter, a quote or a newline, or equal the NULL string; NULL as
// the NULL string (empty by default).
type csvWriter struct {
	sink   *countingWriter
	opts   Options
	schema *arrow.Schema
	header bool // the header is still to be written

	line  []byte
	field []byte
	encs  []pgtypes.Encoder
}

func newCSVWriter(c *writerConfig, sink *countingWriter) *csvWriter {
	return &csvWriter{sink: sink, opts: c.opts, schema: c.schema, header: c.opts.Header,
		encs: make([]pgtypes.Encoder, c.schema.NumFields())}
}

func (w *csvWriter) writeHeader() error {
	w.header = false
	w.line = w.line[:0]
	for i, f := range w.schema.Fields() {
		if i > 0 {
			w.line = append(w.line, w.opts.Delimiter)
		}
		w.line = pgtypes.AppendCSVField(w.line, []byte(f.Name), w.opts.Delimiter, w.opts.Null)
	}
	w.line = append(w.line, '\n')
	_, err := w.sink.Write(w.line)
	return err
}

func (w *csvWriter) Write(rec arrow.RecordBatch) error {
	if w.header {
		if err := w.writeHeader(); err != nil {
			return err
		}
	}
	cols := rec.Columns()
	for i, a := range cols {
		w.encs[i] = pgtypes.NewEncoder(a, 0, pgtypes.TextFormat, time.UTC)
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		w.line = w.line[:0]
		for i, a := range cols {
			if i > 0 {
				w.line = append(w.line, w.opts.Delimiter)
			}
			if a.IsNull(r) || a.DataType().ID() == arrow.NULL {
				w.line = append(w.line, w.opts.Null...)
				continue
			}
			w.field = w.encs[i](w.field[:0], r)
			w.line = pgtypes.AppendCSVField(w.line, w.field, w.opts.Delimiter, w.opts.Null)
		}
		w.line = append(w.line, '\n')
		if _, err := w.sink.Write(w.line); err != nil {
			return err
		}
	}
	return nil
}

func (w *csvWriter) Close() (int64, error) {
	if w.header {
		if err := w.writeHeader(); err != nil {
			return 0, errors.Join(err, w.sink.abort())
		}
	}
	return w.sink.finish()
}

func (w *csvWriter) Abort() error { return w.sink.abort() }
