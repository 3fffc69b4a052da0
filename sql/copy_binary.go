package sql

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/pgtypes"
	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/ingest"
)

// binarySignature opens every binary COPY file.
var binarySignature = []byte("PGCOPY\n\xff\r\n\x00")

// maxCopyField bounds one field of binary COPY data, so that a forged
// length cannot make the server allocate without bound.
const maxCopyField = 256 << 20

// binaryCopyReader reads binary COPY data (what pgx's CopyFrom sends) as
// record batches of the table's storage schema: the copied columns from
// the data, the others NULL.
type binaryCopyReader struct {
	r     *bufio.Reader
	def   *catalog.TableDef
	cols  []int    // storage position of each field
	oids  []uint32 // the type each field's bytes are in
	field []int    // per storage column: its field, or -1
	sch   *arrow.Schema
	bld   *array.RecordBuilder
	row   int64
	buf   []byte
	start bool
	done  bool
}

func newBinaryCopyReader(r io.Reader, def *catalog.TableDef, cols []int, alloc memory.Allocator) *binaryCopyReader {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	sch := def.Schema.Arrow()
	b := &binaryCopyReader{r: bufio.NewReaderSize(r, 64<<10), def: def, cols: cols, sch: sch,
		bld: array.NewRecordBuilder(alloc, sch), field: make([]int, sch.NumFields())}
	for i := range b.field {
		b.field[i] = -1
	}
	for f, c := range cols {
		b.field[c] = f
		pt, err := pgtypes.ForArrow(sch.Field(c).Type, false)
		if err != nil {
			pt.OID = pgtypes.Text
		}
		b.oids = append(b.oids, pt.OID)
	}
	return b
}

func (b *binaryCopyReader) Next() (arrow.RecordBatch, error) {
	if b.done {
		return nil, io.EOF
	}
	if !b.start {
		if err := b.readHeader(); err != nil {
			return nil, err
		}
		b.start = true
	}
	n := 0
	for n < ingest.DefaultBatchRows {
		more, err := b.readRow()
		if err != nil {
			return nil, err
		}
		if !more {
			b.done = true
			break
		}
		n++
	}
	if n == 0 {
		return nil, io.EOF
	}
	return b.bld.NewRecordBatch(), nil
}

func (b *binaryCopyReader) Close() error {
	b.bld.Release()
	return nil
}

func (b *binaryCopyReader) bad(format string, args ...any) error {
	return &sqlerr.Error{Code: badCopyFileFormat, Message: fmt.Sprintf(format, args...),
		Where: fmt.Sprintf("COPY %s, line %d", b.def.Name, b.row+1)}
}

func (b *binaryCopyReader) readHeader() error {
	head := make([]byte, len(binarySignature)+8)
	if _, err := io.ReadFull(b.r, head); err != nil {
		return b.readErr(err, "COPY file signature not recognized")
	}
	if !bytes.Equal(head[:len(binarySignature)], binarySignature) {
		return b.bad("COPY file signature not recognized")
	}
	flags := binary.BigEndian.Uint32(head[len(binarySignature):])
	if flags&(1<<16) != 0 {
		return b.bad("invalid COPY file header (WITH OIDS)")
	}
	if flags&0xFFFF0000&^(1<<16) != 0 {
		return b.bad("unrecognized critical flags in COPY file header")
	}
	ext := binary.BigEndian.Uint32(head[len(binarySignature)+4:])
	if ext > maxCopyField {
		return b.bad("invalid COPY file header (wrong length)")
	}
	if _, err := io.CopyN(io.Discard, b.r, int64(ext)); err != nil {
		return b.readErr(err, "invalid COPY file header (wrong length)")
	}
	return nil
}

// readErr reports a read failure: the client's own error (CopyFail) as
// is, an early end of the data as a format error.
func (b *binaryCopyReader) readErr(err error, msg string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return b.bad("%s", msg)
	}
	return err
}

// readRow reads one tuple into the builder; more is false at the trailer.
func (b *binaryCopyReader) readRow() (more bool, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(b.r, hdr[:2]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil // no trailer: accepted, as the data simply ended
		}
		return false, b.readErr(err, "unexpected EOF in COPY data")
	}
	count := int16(binary.BigEndian.Uint16(hdr[:2]))
	if count == -1 {
		return false, nil
	}
	if int(count) != len(b.cols) {
		return false, b.bad("row field count is %d, expected %d", count, len(b.cols))
	}
	cols := b.def.Schema.Columns()
	for c := range b.sch.Fields() {
		f := b.field[c]
		if f >= 0 {
			continue
		}
		if !cols[c].Nullable {
			return false, b.notNull(c)
		}
	}
	for f, c := range b.cols {
		if _, err := io.ReadFull(b.r, hdr[:4]); err != nil {
			return false, b.readErr(err, "unexpected EOF in COPY data")
		}
		size := int32(binary.BigEndian.Uint32(hdr[:4]))
		bld := b.bld.Field(c)
		if size == -1 {
			if !cols[c].Nullable {
				return false, b.notNull(c)
			}
			bld.AppendNull()
			continue
		}
		if size < 0 || size > maxCopyField {
			return false, b.bad("invalid field size")
		}
		if cap(b.buf) < int(size) {
			b.buf = make([]byte, size)
		}
		data := b.buf[:size]
		if _, err := io.ReadFull(b.r, data); err != nil {
			return false, b.readErr(err, "unexpected EOF in COPY data")
		}
		if err := pgtypes.AppendBinary(bld, b.oids[f], data); err != nil {
			e := sqlerr.As(err)
			e.Where = fmt.Sprintf("COPY %s, line %d, column %s", b.def.Name, b.row+1, cols[c].Name)
			return false, e
		}
	}
	for c := range b.sch.Fields() {
		if b.field[c] < 0 {
			b.bld.Field(c).AppendNull()
		}
	}
	b.row++
	return true, nil
}

func (b *binaryCopyReader) notNull(c int) error {
	name := b.def.Schema.Columns()[c].Name
	return &sqlerr.Error{Code: sqlerr.NullValueNotAllowed,
		Message: fmt.Sprintf("null value in column \"%s\" of relation \"%s\" violates not-null constraint", name, b.def.Name),
		Where:   fmt.Sprintf("COPY %s, line %d", b.def.Name, b.row+1)}
}
