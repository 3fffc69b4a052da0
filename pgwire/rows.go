package pgwire

import (
	"encoding/binary"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/pgtypes"
)

// rowWriter writes the rows of record batches as DataRow messages, each
// column in the format the client asked for. It encodes straight from the
// Arrow columns into the connection's buffer: no value is boxed or copied
// on the way.
type rowWriter struct {
	cols    []sql.Column
	formats []int16 // per column
	loc     *time.Location

	rec  arrow.RecordBatch
	arrs []arrow.Array
	// Per column, a static encoder (pgtypes.StaticEncoder), else in encs
	// one made for the batch.
	statics []pgtypes.ColumnEncoder
	encs    []pgtypes.Encoder
}

// start makes the writer write rows of the given columns in the given
// formats, timestamps with time zone in timeZone. A connection reuses
// one writer from portal to portal, keeping its room.
func (rw *rowWriter) start(cols []sql.Column, formats []int16, timeZone string) {
	rw.cols, rw.formats, rw.loc = cols, formats, expr.Location(timeZone)
	clear(rw.encs) // they hold the last batch's arrays
	rw.rec, rw.arrs, rw.encs, rw.statics = nil, nil, rw.encs[:0], rw.statics[:0]
}

// reset makes the writer write rows of rec.
func (rw *rowWriter) reset(rec arrow.RecordBatch) {
	rw.rec = rec
	rw.arrs = rec.Columns()
	clear(rw.encs)
	rw.encs, rw.statics = rw.encs[:0], rw.statics[:0]
	for i, a := range rw.arrs {
		oid := pgtypes.Text
		if i < len(rw.cols) {
			oid = rw.cols[i].OID
		}
		st := pgtypes.StaticEncoder(a, oid, rw.format(i))
		var enc pgtypes.Encoder
		if st == nil {
			enc = pgtypes.NewEncoder(a, oid, rw.format(i), rw.loc)
		}
		rw.statics, rw.encs = append(rw.statics, st), append(rw.encs, enc)
	}
}

func (rw *rowWriter) format(i int) int16 {
	if i < len(rw.formats) {
		return rw.formats[i]
	}
	return pgtypes.TextFormat
}

// write appends row i of the current batch as a DataRow.
func (rw *rowWriter) write(w *writer, i int) {
	at := w.begin('D')
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(rw.arrs)))
	for c, a := range rw.arrs {
		if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
			w.buf = binary.BigEndian.AppendUint32(w.buf, 0xFFFFFFFF)
			continue
		}
		lenAt := len(w.buf)
		w.buf = append(w.buf, 0, 0, 0, 0)
		if st := rw.statics[c]; st != nil {
			w.buf = st(w.buf, a, i)
		} else {
			w.buf = rw.encs[c](w.buf, i)
		}
		binary.BigEndian.PutUint32(w.buf[lenAt:], uint32(len(w.buf)-lenAt-4))
	}
	w.end(at)
	w.maybeFlush()
}

// rowDescription describes columns in the given formats (nil: text).
func rowDescription(cols []sql.Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		f := pgtypes.TextFormat
		if i < len(formats) {
			f = formats[i]
		}
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(c.Name),
			DataTypeOID:  c.OID,
			DataTypeSize: c.TypeLen,
			TypeModifier: c.TypeMod,
			Format:       f,
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// resultFormats expands Bind's result format codes to one per column: none
// means text, one applies to every column.
func resultFormats(codes []int16, n int) ([]int16, error) {
	out := make([]int16, n)
	switch {
	case len(codes) == 0:
	case len(codes) == 1:
		for i := range out {
			out[i] = codes[0]
		}
	case len(codes) == n:
		copy(out, codes)
	default:
		return nil, errorf("08P01", "bind message has %d result formats but query has %d columns", len(codes), n)
	}
	for _, f := range out {
		if f != pgtypes.TextFormat && f != pgtypes.BinaryFormat {
			return nil, errorf("22023", "unsupported format code: %d", f)
		}
	}
	return out, nil
}
