// Package thrifttest is test support, imported only by tests: it decodes
// Thrift compact-protocol structs generically, with Apache Thrift's own
// protocol, so that what the compact writer and pqwrite write is checked
// by a decoder that shares no code with them (nor with arrow-go's
// generated Parquet types).
package thrifttest

import (
	"context"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

// Struct is a Thrift struct read generically: field id to value. A value
// is a bool, int8, int16, int32, int64, string (strings and binaries
// alike), Struct or []any (a list, never nil).
type Struct map[int16]any

// I64 returns integer field id widened to int64, or -1 when it is absent
// or not an integer of 16 bits or more.
func (s Struct) I64(id int16) int64 {
	switch v := s[id].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	}
	return -1
}

// Has says whether the struct holds field id.
func (s Struct) Has(id int16) bool { _, ok := s[id]; return ok }

// Sub returns struct field id, or nil.
func (s Struct) Sub(id int16) Struct {
	v, _ := s[id].(Struct)
	return v
}

// List returns list field id, or nil.
func (s Struct) List(id int16) []any { v, _ := s[id].([]any); return v }

// Decode decodes one compact-protocol struct from the start of b and
// returns it with the number of bytes it took.
func Decode(b []byte) (Struct, int, error) {
	buf := thrift.NewTMemoryBuffer()
	buf.Write(b)
	s, err := readStruct(context.Background(), thrift.NewTCompactProtocolConf(buf, nil))
	return s, len(b) - buf.Len(), err
}

func readStruct(ctx context.Context, p thrift.TProtocol) (Struct, error) {
	out := Struct{}
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return nil, err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return nil, err
		}
		if typ == thrift.STOP {
			break
		}
		if out[id], err = readValue(ctx, p, typ); err != nil {
			return nil, fmt.Errorf("field %d: %w", id, err)
		}
	}
	return out, p.ReadStructEnd(ctx)
}

func readValue(ctx context.Context, p thrift.TProtocol, typ thrift.TType) (any, error) {
	switch typ {
	case thrift.BOOL:
		return p.ReadBool(ctx)
	case thrift.BYTE:
		return p.ReadByte(ctx)
	case thrift.I16:
		return p.ReadI16(ctx)
	case thrift.I32:
		return p.ReadI32(ctx)
	case thrift.I64:
		return p.ReadI64(ctx)
	case thrift.STRING:
		return p.ReadString(ctx)
	case thrift.STRUCT:
		return readStruct(ctx, p)
	case thrift.LIST:
		elem, n, err := p.ReadListBegin(ctx)
		if err != nil {
			return nil, err
		}
		l := []any{}
		for range n {
			v, err := readValue(ctx, p, elem)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, p.ReadListEnd(ctx)
	}
	return nil, fmt.Errorf("unexpected thrift type %v", typ)
}
