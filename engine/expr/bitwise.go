package expr

// Bitwise is the integer operator op — & | # (xor) << >> — on l and r, or
// ~ (not) on l when r is nil. &, | and # meet in the wider operand type
// (an untyped literal takes the other's); shifts keep the left operand's
// type and take an integer count. pgJDBC's getIndexInfo reads index
// options with &.
func Bitwise(op string, l, r Expr) (Expr, error) {
	lk := typeOf(l)
	if r == nil {
		if lk == kUnknown {
			lk = kInt4
		}
		if !lk.isInt() || op != "~" {
			return nil, opNotExist(op, nil, l.Type())
		}
		return GoFunc(op, []Expr{l}, lk.typ(), true, func(_ *Context, a []any) (any, error) {
			v, _ := toInt64(a[0])
			return fitInt(^v, lk), nil
		}), nil
	}
	rk := typeOf(r)
	var lt, rt kind
	switch op {
	case "&", "|", "#":
		switch {
		case lk == kUnknown && rk == kUnknown:
			lt = kInt4
		case lk == kUnknown:
			lt = rk
		case rk == kUnknown:
			lt = lk
		case lk.isInt() && rk.isInt():
			lt = promote(lk, rk)
		default:
			return nil, opNotExist(op, l.Type(), r.Type())
		}
		rt = lt
	case "<<", ">>":
		if lk == kUnknown {
			lk = kInt4
		}
		lt, rt = lk, kInt4
	default:
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	if !lt.isInt() {
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	var err error
	if l, err = ImplicitCast(l, lt.typ()); err != nil {
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	if r, err = ImplicitCast(r, rt.typ()); err != nil {
		return nil, opNotExist(op, l.Type(), r.Type())
	}
	return GoFunc(op, []Expr{l, r}, lt.typ(), true, func(_ *Context, a []any) (any, error) {
		x, _ := toInt64(a[0])
		y, _ := toInt64(a[1])
		var v int64
		switch op {
		case "&":
			v = x & y
		case "|":
			v = x | y
		case "#":
			v = x ^ y
		case "<<":
			v = x << (uint64(y) & 63)
		case ">>":
			v = x >> (uint64(y) & 63)
		}
		return fitInt(v, lt), nil
	}), nil
}

// fitInt truncates v to the integer kind k, as PostgreSQL's shifts do.
func fitInt(v int64, k kind) any {
	switch k {
	case kInt2:
		return int16(v)
	case kInt4:
		return int32(v)
	}
	return v
}
