package compact

import "encoding/binary"

// The compact protocol's wire types, as they appear in field headers and
// list headers.
const (
	BoolTrue  = 1
	BoolFalse = 2
	Byte      = 3
	I16       = 4
	I32       = 5
	I64       = 6
	Double    = 7
	Binary    = 8
	List      = 9
	Set       = 10
	Map       = 11
	Struct    = 12
)

// Writer appends a Thrift struct in the compact protocol to a byte slice.
// Fields must be written in increasing id order within a struct (the
// protocol encodes each id as a delta from the previous one); Begin and
// End bracket a nested struct, Stop ends the top-level one.
type Writer struct {
	b    []byte
	last []int16 // per open struct: the id of its last field
}

// Reset starts a new top-level struct, appended to b.
func (w *Writer) Reset(b []byte) {
	w.b = b
	w.last = append(w.last[:0], 0)
}

// Bytes returns b as Reset got it with the struct appended.
func (w *Writer) Bytes() []byte { return w.b }

func (w *Writer) top() *int16 {
	if len(w.last) == 0 {
		w.last = append(w.last, 0)
	}
	return &w.last[len(w.last)-1]
}

// field writes the header of field id of wire type typ.
func (w *Writer) field(id int16, typ byte) {
	last := w.top()
	if d := id - *last; d > 0 && d <= 15 {
		w.b = append(w.b, byte(d)<<4|typ)
	} else {
		w.b = append(w.b, typ)
		w.b = binary.AppendVarint(w.b, int64(id))
	}
	*last = id
}

// Bool writes a bool field.
func (w *Writer) Bool(id int16, v bool) {
	if v {
		w.field(id, BoolTrue)
	} else {
		w.field(id, BoolFalse)
	}
}

// I8 writes a byte field.
func (w *Writer) I8(id int16, v int8) {
	w.field(id, Byte)
	w.b = append(w.b, byte(v))
}

// I16 writes an i16 field.
func (w *Writer) I16(id int16, v int16) {
	w.field(id, I16)
	w.b = binary.AppendVarint(w.b, int64(v))
}

// I32 writes an i32 field (and Thrift enums).
func (w *Writer) I32(id int16, v int32) {
	w.field(id, I32)
	w.b = binary.AppendVarint(w.b, int64(v))
}

// I64 writes an i64 field.
func (w *Writer) I64(id int16, v int64) {
	w.field(id, I64)
	w.b = binary.AppendVarint(w.b, v)
}

// Binary writes a binary (or string) field.
func (w *Writer) Binary(id int16, v []byte) {
	w.field(id, Binary)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// String writes a string field.
func (w *Writer) String(id int16, v string) {
	w.field(id, Binary)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// Begin opens a struct field; its fields follow, then End.
func (w *Writer) Begin(id int16) {
	w.field(id, Struct)
	w.last = append(w.last, 0)
}

// End closes the struct opened last (by Begin or BeginStruct).
func (w *Writer) End() {
	w.b = append(w.b, 0)
	w.last = w.last[:len(w.last)-1]
}

// ListBegin opens a list field of n elements of wire type elem. Elements
// follow: structs by BeginStruct/End, scalars by the List* methods.
func (w *Writer) ListBegin(id int16, elem byte, n int) {
	w.field(id, List)
	if n < 15 {
		w.b = append(w.b, byte(n)<<4|elem)
		return
	}
	w.b = append(w.b, 0xf0|elem)
	w.b = binary.AppendUvarint(w.b, uint64(n))
}

// BeginStruct opens a struct that is a list element.
func (w *Writer) BeginStruct() { w.last = append(w.last, 0) }

// ListI32 writes an i32 list element.
func (w *Writer) ListI32(v int32) { w.b = binary.AppendVarint(w.b, int64(v)) }

// ListI64 writes an i64 list element.
func (w *Writer) ListI64(v int64) { w.b = binary.AppendVarint(w.b, v) }

// ListBinary writes a binary (or string) list element.
func (w *Writer) ListBinary(v []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// ListString writes a string list element.
func (w *Writer) ListString(v string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// ListBool writes a bool list element (a list of element type
// BoolTrue): a byte, 1 for true and 2 for false, as Thrift's own
// implementations write it.
func (w *Writer) ListBool(v bool) {
	if v {
		w.b = append(w.b, BoolTrue)
	} else {
		w.b = append(w.b, BoolFalse)
	}
}

// Stop ends the top-level struct.
func (w *Writer) Stop() { w.b = append(w.b, 0) }
