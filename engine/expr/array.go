package expr

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Arrays and records. A PostgreSQL array (one-dimensional, lower bound 1)
// is an Arrow LIST of its element type; a record (a composite value, what
// information_schema._pg_expandarray returns) is an Arrow STRUCT. Both
// are mostly met in catalog queries — current_schemas(true),
// pg_index.indkey, ARRAY(SELECT …), x = ANY(a) — so their operations are
// written for clarity over whole arrays rather than tuned per type: the
// element work is delegated to the scalar kernels (casts, comparisons,
// gather) on the flattened element arrays.
//
// As Go values (Lit, ValueAt) an array is []any of its elements' Go
// values and a record []any of its fields'.

// IsList reports whether t is an array type.
func IsList(t arrow.DataType) bool { return t != nil && t.ID() == arrow.LIST }

// isNested reports whether t is an array or record type.
func isNested(t arrow.DataType) bool {
	return t != nil && (t.ID() == arrow.LIST || t.ID() == arrow.STRUCT)
}

// ListOf is the array type whose elements are of type elem.
func ListOf(elem arrow.DataType) arrow.DataType { return arrow.ListOf(storage(elem)) }

// ElemType is the element type of an array type.
func ElemType(t arrow.DataType) arrow.DataType { return t.(*arrow.ListType).Elem() }

// nestedTypeName names an array or record type: integer[], record.
func nestedTypeName(t arrow.DataType) string {
	if IsList(t) {
		return TypeName(ElemType(t)) + "[]"
	}
	return "record"
}

// ValueAt returns row i of a as a Go value: nil for NULL, otherwise the
// Go value Lit takes for the type ([]any for arrays and records). Strings
// and bytes are copied.
func ValueAt(a arrow.Array, i int) any { return valueAt(a, i) }

func nestedValue(a arrow.Array, i int) any {
	switch x := a.(type) {
	case *array.List:
		s, e := x.ValueOffsets(i)
		vals := x.ListValues()
		out := make([]any, 0, e-s)
		for j := s; j < e; j++ {
			out = append(out, valueAt(vals, int(j)))
		}
		return out
	case *array.Struct:
		out := make([]any, x.NumField())
		for j := range out {
			out[j] = valueAt(x.Field(j), i)
		}
		return out
	}
	panic(fmt.Sprintf("expr: no value for %s", a.DataType()))
}

// nestedScalar is the Arrow scalar of an array or record Go value.
func nestedScalar(v []any, t arrow.DataType) scalar.Scalar {
	switch tt := t.(type) {
	case *arrow.ListType:
		vals, err := BuildArray(constAlloc, tt.Elem(), v)
		if err != nil {
			panic(fmt.Sprintf("expr: array constant of %s: %v", t, err))
		}
		defer vals.Release()
		return scalar.NewListScalar(vals)
	case *arrow.StructType:
		fs := make([]scalar.Scalar, len(v))
		for i, f := range v {
			fs[i] = scalarOf(f, tt.Field(i).Type)
		}
		return scalar.NewStructScalar(fs, t)
	}
	panic(fmt.Sprintf("expr: no scalar for []any of %s", t))
}

// BuildArray makes an array of type dt from Go values (see ValueAt); nil
// is NULL. The caller releases the result.
func BuildArray(alloc memory.Allocator, dt arrow.DataType, vals []any) (arrow.Array, error) {
	b := array.NewBuilder(alloc, dt)
	defer b.Release()
	b.Reserve(len(vals))
	for _, v := range vals {
		if err := appendGo(b, v); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// AppendGo appends a Go value (see ValueAt; any Go integer for an integer
// type) to a builder of its type; nil appends NULL.
func AppendGo(b array.Builder, v any) error { return appendGo(b, v) }

// appendGo appends a Go value to a builder of its type.
func appendGo(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.NullBuilder:
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Int16Builder:
		if x, ok := toInt64(v); ok && x == int64(int16(x)) {
			b.Append(int16(x))
			return nil
		}
	case *array.Int32Builder:
		if x, ok := toInt64(v); ok && x == int64(int32(x)) {
			b.Append(int32(x))
			return nil
		}
	case *array.Int64Builder:
		if x, ok := toInt64(v); ok {
			b.Append(x)
			return nil
		}
	case *array.Float32Builder:
		switch x := v.(type) {
		case float32:
			b.Append(x)
			return nil
		case float64:
			b.Append(float32(x))
			return nil
		}
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			b.Append(x)
			return nil
		case float32:
			b.Append(float64(x))
			return nil
		}
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.BinaryBuilder:
		if x, ok := v.([]byte); ok {
			b.Append(x)
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(arrow.Date32); ok {
			b.Append(x)
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(arrow.Timestamp); ok {
			b.Append(x)
			return nil
		}
	case *array.MonthDayNanoIntervalBuilder:
		if x, ok := v.(arrow.MonthDayNanoInterval); ok {
			b.Append(x)
			return nil
		}
	case *array.ListBuilder:
		if x, ok := v.([]any); ok {
			b.Append(true)
			for _, e := range x {
				if err := appendGo(b.ValueBuilder(), e); err != nil {
					return err
				}
			}
			return nil
		}
	case *array.StructBuilder:
		if x, ok := v.([]any); ok && len(x) == b.NumField() {
			b.Append(true)
			for i, e := range x {
				if err := appendGo(b.FieldBuilder(i), e); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return fmt.Errorf("expr: cannot append Go %T to %s", v, b.Type())
}

// arrayCast converts arrays and records: to and from text, and arrays to
// arrays of another element type.
type arrayCast struct {
	X  Expr
	To arrow.DataType
}

// coerceNested is coerce where x or the target is an array or a record.
func coerceNested(x Expr, to arrow.DataType, cc castContext) (Expr, error) {
	from := x.Type()
	if l, ok := x.(*Literal); ok && l.untyped {
		if l.Value == nil {
			return Null(to), nil
		}
		if !IsList(to) {
			return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type unknown to %s", TypeName(to))
		}
		return evalConstant(&Context{Alloc: constAlloc}, &arrayCast{X: x, To: to})
	}
	if p, ok := x.(*Parameter); ok && kindOf(p.Typ) == kUnknown {
		return &Parameter{Index: p.Index, Typ: to}, nil
	}
	ok := false
	switch {
	case IsList(from) && IsList(to):
		ef, et := ElemType(from), ElemType(to)
		if isNested(ef) || isNested(et) {
			ok = arrow.TypeEqual(ef, et)
			break
		}
		switch cc {
		case castImplicit:
			ok = implicitCastable(kindOf(ef), kindOf(et))
		case castAssign:
			ok = assignCastable(kindOf(ef), kindOf(et))
		default:
			ok = explicitCastable(kindOf(ef), kindOf(et))
		}
	case isNested(from) && kindOf(to) == kText:
		ok = cc != castImplicit
	case kindOf(from) == kText && IsList(to):
		ok = cc == castExplicit
	}
	if !ok {
		if cc == castExplicit {
			return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", TypeName(from), TypeName(to))
		}
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "expression of type %s cannot be used as %s", TypeName(from), TypeName(to)).
			WithHint("You will need to rewrite or cast the expression.")
	}
	c := &arrayCast{X: x, To: to}
	if _, isLit := x.(*Literal); isLit {
		return evalConstant(&Context{Alloc: constAlloc}, c)
	}
	return c, nil
}

func (c *arrayCast) Type() arrow.DataType        { return c.To }
func (c *arrayCast) Nullable() bool              { return c.X.Nullable() }
func (c *arrayCast) Children() []Expr            { return []Expr{c.X} }
func (c *arrayCast) WithChildren(ch []Expr) Expr { return &arrayCast{X: ch[0], To: c.To} }
func (c *arrayCast) String() string              { return wrap(c.X) + "::" + TypeName(c.To) }
func (c *arrayCast) mayFail() bool               { return true }

func (c *arrayCast) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	a, err := c.X.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return castAny(ctx, a, c.To)
}

// castAny converts a to type to, nested or not.
func castAny(ctx *Context, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	from := a.DataType()
	switch {
	case arrow.TypeEqual(from, to):
		a.Retain()
		return a, nil
	case isNested(from) && kindOf(to) == kText:
		return nestedText(ctx, a)
	case kindOf(from) == kText && IsList(to):
		return parseArrays(ctx, a, to)
	case IsList(from) && IsList(to):
		l := a.(*array.List)
		vals, err := castAny(ctx, l.ListValues(), ElemType(to))
		if err != nil {
			return nil, err
		}
		defer vals.Release()
		d := a.Data()
		data := array.NewData(to, d.Len(), d.Buffers(), []arrow.ArrayData{vals.Data()}, d.NullN(), d.Offset())
		defer data.Release()
		return array.MakeFromData(data), nil
	case a.NullN() == a.Len() && !isNested(to):
		return allNull(ctx.Alloc, to, a.Len()), nil
	case !isNested(from) && !isNested(to):
		fk, tk := kindOf(from), kindOf(to)
		if fk.isNumeric() && tk.isNumeric() && fk != tk {
			return castNumeric(ctx, a, fk, tk, false)
		}
		return castArray(ctx, a, fk, tk)
	}
	return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", TypeName(from), TypeName(to))
}

// elemTexts formats the values of a as the elements of an array or the
// fields of a record are written: booleans as t and f.
func elemTexts(ctx *Context, a arrow.Array) (arrow.Array, error) {
	if isNested(a.DataType()) {
		return nestedText(ctx, a)
	}
	k := kindOf(a.DataType())
	if k == kUnknown || a.NullN() == a.Len() {
		return allNull(ctx.Alloc, TextType, a.Len()), nil
	}
	if k == kOther {
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to text", TypeName(a.DataType()))
	}
	return toText(ctx, a, k, true), nil
}

// nestedText formats arrays ({1,2,NULL}) and records ((1,"a b",)) as
// PostgreSQL's array_out and record_out do.
func nestedText(ctx *Context, a arrow.Array) (arrow.Array, error) {
	n := a.Len()
	b := newTextBuilder(ctx.Alloc, TextType, n, n*16)
	switch x := a.(type) {
	case *array.List:
		texts, err := elemTexts(ctx, x.ListValues())
		if err != nil {
			return nil, err
		}
		defer texts.Release()
		ts := texts.(*array.String)
		for i := 0; i < n; i++ {
			if x.IsNull(i) {
				b.appendNull()
				continue
			}
			s, e := x.ValueOffsets(i)
			b.data = append(b.data, '{')
			for j := s; j < e; j++ {
				if j > s {
					b.data = append(b.data, ',')
				}
				if ts.IsNull(int(j)) {
					b.data = append(b.data, "NULL"...)
					continue
				}
				b.data = appendArrayElem(b.data, ts.Value(int(j)))
			}
			b.data = append(b.data, '}')
			b.offs = append(b.offs, int32(len(b.data)))
		}
	case *array.Struct:
		fields := make([]*array.String, x.NumField())
		for f := range fields {
			t, err := elemTexts(ctx, x.Field(f))
			if err != nil {
				return nil, err
			}
			defer t.Release()
			fields[f] = t.(*array.String)
		}
		for i := 0; i < n; i++ {
			if x.IsNull(i) {
				b.appendNull()
				continue
			}
			b.data = append(b.data, '(')
			for f, t := range fields {
				if f > 0 {
					b.data = append(b.data, ',')
				}
				if !t.IsNull(i) {
					b.data = appendRecordField(b.data, t.Value(i))
				}
			}
			b.data = append(b.data, ')')
			b.offs = append(b.offs, int32(len(b.data)))
		}
	default:
		return nil, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to text", TypeName(a.DataType()))
	}
	return b.finish(), nil
}

// appendArrayElem writes an array element, double-quoted when array_out
// would quote it.
func appendArrayElem(dst []byte, s string) []byte {
	if s != "" && !strings.EqualFold(s, "NULL") && !strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendRecordField writes a record field, double-quoted when record_out
// would quote it.
func appendRecordField(dst []byte, s string) []byte {
	if s != "" && !strings.ContainsAny(s, "(),\"\\ \t\n\r\v\f") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, s[i])
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// parseArrays reads array literals ('{1,2,NULL}') of type to.
func parseArrays(ctx *Context, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	strs := a.(*array.String)
	n := a.Len()
	var elems []*string
	offs := make([]int32, 1, n+1)
	valid := make([]bool, n)
	for i := 0; i < n; i++ {
		if strs.IsValid(i) {
			es, err := parseArrayText(strs.Value(i))
			if err != nil {
				return nil, err
			}
			elems = append(elems, es...)
			valid[i] = true
		}
		offs = append(offs, int32(len(elems)))
	}
	eb := array.NewStringBuilder(ctx.Alloc)
	defer eb.Release()
	for _, e := range elems {
		if e == nil {
			eb.AppendNull()
		} else {
			eb.Append(*e)
		}
	}
	texts := eb.NewArray()
	defer texts.Release()
	vals, err := castAny(ctx, texts, ElemType(to))
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	return listFrom(ctx.Alloc, to, offs, valid, vals), nil
}

// listFrom assembles an array column from offsets into vals and row
// validity (nil: all valid).
func listFrom(alloc memory.Allocator, to arrow.DataType, offs []int32, valid []bool, vals arrow.Array) arrow.Array {
	n := len(offs) - 1
	ob := memory.NewResizableBuffer(alloc)
	ob.Resize(len(offs) * 4)
	copy(ob.Bytes(), arrow.Int32Traits.CastToBytes(offs))
	var vb *memory.Buffer
	nulls := 0
	if valid != nil {
		var bits []byte
		vb, bits = newBitmap(alloc, n)
		for i, ok := range valid {
			if ok {
				bits[i>>3] |= 1 << (i & 7)
			} else {
				nulls++
			}
		}
		if nulls == 0 {
			vb.Release()
			vb = nil
		}
	}
	data := array.NewData(to, n, []*memory.Buffer{vb, ob}, []arrow.ArrayData{vals.Data()}, nulls, 0)
	defer data.Release()
	ob.Release()
	if vb != nil {
		vb.Release()
	}
	return array.MakeFromData(data)
}

func malformedArray(s, detail string) error {
	e := sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed array literal: %q", s)
	e.Detail = detail
	return e
}

// parseArrayText splits a one-dimensional array literal into its element
// texts (nil for NULL), with array_in's quoting and escaping.
func parseArrayText(s string) ([]*string, error) {
	t := strings.Trim(s, spaces)
	if strings.HasPrefix(t, "[") {
		if i := strings.Index(t, "="); i > 0 {
			t = strings.TrimLeft(t[i+1:], spaces) // explicit bounds: [1:2]={...}
		}
	}
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return nil, malformedArray(s, "Array value must start with \"{\" or dimension information.")
	}
	body := t[1 : len(t)-1]
	if strings.Trim(body, spaces) == "" {
		return []*string{}, nil
	}
	var out []*string
	i := 0
	for {
		for i < len(body) && strings.IndexByte(spaces, body[i]) >= 0 {
			i++
		}
		var elem []byte
		quoted, escaped := false, false
		if i < len(body) && body[i] == '{' {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "multidimensional arrays are not supported")
		}
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				elem = append(elem, body[i])
			}
			if i >= len(body) {
				return nil, malformedArray(s, "Unexpected end of input.")
			}
			i++ // closing quote
			for i < len(body) && strings.IndexByte(spaces, body[i]) >= 0 {
				i++
			}
		} else {
			trailing := 0 // unescaped trailing blanks, dropped
			for ; i < len(body) && body[i] != ','; i++ {
				switch c := body[i]; {
				case c == '\\' && i+1 < len(body):
					i++
					elem = append(elem, body[i])
					escaped, trailing = true, 0
				case c == '"' || c == '{' || c == '}':
					return nil, malformedArray(s, "Unexpected array element.")
				case strings.IndexByte(spaces, c) >= 0:
					elem = append(elem, c)
					trailing++
				default:
					elem = append(elem, c)
					trailing = 0
				}
			}
			elem = elem[:len(elem)-trailing]
			if len(elem) == 0 {
				return nil, malformedArray(s, "Unexpected \",\" character.")
			}
		}
		if i < len(body) && body[i] != ',' {
			return nil, malformedArray(s, "Unexpected array element.")
		}
		if !quoted && !escaped && strings.EqualFold(string(elem), "NULL") {
			out = append(out, nil)
		} else {
			e := string(elem)
			out = append(out, &e)
		}
		if i >= len(body) {
			return out, nil
		}
		i++ // the comma
	}
}

// nestedLiteralText is a constant array or record as text, for EXPLAIN.
func nestedLiteralText(v any, t arrow.DataType) string {
	vals, err := BuildArray(constAlloc, t, []any{v})
	if err != nil {
		return "?"
	}
	defer vals.Release()
	txt, err := nestedText(&Context{Alloc: constAlloc}, vals)
	if err != nil {
		return "?"
	}
	defer txt.Release()
	return txt.(*array.String).Value(0)
}
