package ast

import (
	"strconv"
	"strings"
)

// plain reports whether f is a bare call: no star, DISTINCT, ORDER BY,
// FILTER or OVER.
func (f *FuncCall) plain() bool {
	return !f.Star && !f.Distinct && len(f.OrderBy) == 0 && f.Filter == nil && f.Over == nil
}

// keywordFuncs are the SQL value functions written as bare keywords; the
// value says whether they take an optional precision.
var keywordFuncs = map[string]bool{
	"current_date": false, "current_time": true, "current_timestamp": true,
	"localtime": true, "localtimestamp": true, "current_role": false,
	"current_user": false, "session_user": false, "user": false,
	"current_catalog": false, "current_schema": false, "system_user": false,
}

// extractFields are the EXTRACT fields that may be written as bare words.
var extractFields = map[string]bool{
	"century": true, "day": true, "decade": true, "dow": true, "doy": true,
	"epoch": true, "hour": true, "isodow": true, "isoyear": true,
	"julian": true, "microseconds": true, "millennium": true,
	"milliseconds": true, "minute": true, "month": true, "quarter": true,
	"second": true, "timezone": true, "timezone_hour": true,
	"timezone_minute": true, "week": true, "year": true,
}

func (p *printer) funcCall(f *FuncCall) {
	if p.specialCall(f) {
		return
	}
	switch {
	case len(f.Name) == 1 && callableKeywords[f.Name[0]] && !f.Star && !f.Distinct && len(f.OrderBy) == 0:
		p.WriteString(f.Name[0])
	case len(f.Name) == 1:
		p.WriteString(quoteFuncName(f.Name[0]))
	default:
		p.WriteString(qualifiedName(f.Name, QuoteIdent))
	}
	p.WriteByte('(')
	if f.Star {
		p.WriteByte('*')
	} else {
		if f.Distinct {
			p.WriteString("DISTINCT ")
		}
		p.exprs(f.Args)
		if len(f.OrderBy) > 0 && !f.WithinGroup {
			p.WriteString(" ORDER BY ")
			p.orderItems(f.OrderBy)
		}
	}
	p.WriteByte(')')
	if f.WithinGroup {
		p.WriteString(" WITHIN GROUP (ORDER BY ")
		p.orderItems(f.OrderBy)
		p.WriteByte(')')
	}
	if f.Filter != nil {
		p.WriteString(" FILTER (WHERE ")
		p.expr(f.Filter)
		p.WriteByte(')')
	}
	if f.Over != nil {
		p.WriteString(" OVER ")
		p.over(f.Over)
	}
}

// specialCall prints the calls that have a grammar of their own and reports
// whether f was one.
func (p *printer) specialCall(f *FuncCall) bool {
	if !f.plain() {
		return false
	}
	if len(f.Name) == 2 && f.Name[0] == "pg_catalog" && f.Name[1] == "extract" && len(f.Args) == 2 {
		field, ok := f.Args[0].(*Literal)
		if !ok || field.Kind != LitString {
			return false
		}
		p.WriteString("EXTRACT(")
		if extractFields[field.Text] {
			p.WriteString(field.Text)
		} else {
			p.WriteString(QuoteString(field.Text))
		}
		p.WriteString(" FROM ")
		p.expr(f.Args[1])
		p.WriteByte(')')
		return true
	}
	if len(f.Name) != 1 {
		return false
	}
	name := f.Name[0]
	switch name {
	case "coalesce", "greatest", "least":
		if len(f.Args) == 0 {
			return false
		}
	case "nullif":
		if len(f.Args) != 2 {
			return false
		}
	default:
		precision, ok := keywordFuncs[name]
		if !ok || len(f.Args) > 1 {
			return false
		}
		if len(f.Args) == 0 {
			p.WriteString(strings.ToUpper(name))
			return true
		}
		l, isLit := f.Args[0].(*Literal)
		if !precision || !isLit || l.Kind != LitInt || l.Int < 0 || l.Int > 1<<31-1 {
			return false
		}
		p.WriteString(strings.ToUpper(name))
		p.WriteString("(" + strconv.FormatInt(l.Int, 10) + ")")
		return true
	}
	p.WriteString(name)
	p.WriteByte('(')
	p.exprs(f.Args)
	p.WriteByte(')')
	return true
}

// over prints the window of an OVER clause.
func (p *printer) over(w *WindowSpec) {
	if w.Name != "" && w.RefName == "" && len(w.PartitionBy) == 0 && len(w.OrderBy) == 0 && w.Frame == nil {
		p.WriteString(QuoteIdent(w.Name))
		return
	}
	p.windowSpec(w)
}

// windowSpec prints "(refname PARTITION BY ... ORDER BY ... frame)".
func (p *printer) windowSpec(w *WindowSpec) {
	p.WriteByte('(')
	sep := ""
	if w.RefName != "" {
		p.WriteString(QuoteIdent(w.RefName))
		sep = " "
	}
	if len(w.PartitionBy) > 0 {
		p.WriteString(sep + "PARTITION BY ")
		p.exprs(w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		p.WriteString(sep + "ORDER BY ")
		p.orderItems(w.OrderBy)
		sep = " "
	}
	if w.Frame != nil {
		p.WriteString(sep)
		p.frame(w.Frame)
	}
	p.WriteByte(')')
}

func (p *printer) frame(f *Frame) {
	switch f.Mode {
	case FrameRows:
		p.WriteString("ROWS BETWEEN ")
	case FrameGroups:
		p.WriteString("GROUPS BETWEEN ")
	default:
		p.WriteString("RANGE BETWEEN ")
	}
	p.frameBound(f.Start)
	p.WriteString(" AND ")
	p.frameBound(f.End)
	switch f.Exclude {
	case ExcludeCurrentRow:
		p.WriteString(" EXCLUDE CURRENT ROW")
	case ExcludeGroup:
		p.WriteString(" EXCLUDE GROUP")
	case ExcludeTies:
		p.WriteString(" EXCLUDE TIES")
	}
}

func (p *printer) frameBound(b FrameBound) {
	switch b.Kind {
	case UnboundedPreceding:
		p.WriteString("UNBOUNDED PRECEDING")
	case OffsetPreceding:
		p.operand(b.Offset, precUnary)
		p.WriteString(" PRECEDING")
	case OffsetFollowing:
		p.operand(b.Offset, precUnary)
		p.WriteString(" FOLLOWING")
	case UnboundedFollowing:
		p.WriteString("UNBOUNDED FOLLOWING")
	default:
		p.WriteString("CURRENT ROW")
	}
}

func (p *printer) orderItems(items []OrderItem) {
	for i, o := range items {
		if i > 0 {
			p.WriteString(", ")
		}
		p.expr(o.Expr)
		if o.Desc {
			p.WriteString(" DESC")
		}
		if o.NullsFirst != nil {
			if *o.NullsFirst {
				p.WriteString(" NULLS FIRST")
			} else {
				p.WriteString(" NULLS LAST")
			}
		}
	}
}

// sqlTypes maps pg_catalog type names to the SQL spellings that parse back
// into them; ok reports whether the spelling accepts Mods as (m, ...).
var sqlTypes = map[string]struct {
	name string
	mods bool
}{
	"int2": {"smallint", false}, "int4": {"integer", false}, "int8": {"bigint", false},
	"float4": {"real", false}, "float8": {"double precision", false},
	"numeric": {"numeric", true}, "bool": {"boolean", false},
	"varchar": {"varchar", true}, "bpchar": {"char", true}, "varbit": {"bit varying", true},
	"bit": {"bit", true}, "timestamp": {"timestamp", true}, "time": {"time", true},
	"timestamptz": {"timestamp", true}, "timetz": {"time", true},
}

// intervalFields maps an INTERVAL field mask (the first typmod) to its
// spelling.
var intervalFields = map[int]string{
	1 << 2: "year", 1 << 1: "month", 1 << 3: "day", 1 << 10: "hour", 1 << 11: "minute",
	1 << 12: "second", 1<<2 | 1<<1: "year to month", 1<<3 | 1<<10: "day to hour",
	1<<3 | 1<<10 | 1<<11: "day to minute", 1<<3 | 1<<10 | 1<<11 | 1<<12: "day to second",
	1<<10 | 1<<11: "hour to minute", 1<<10 | 1<<11 | 1<<12: "hour to second",
	1<<11 | 1<<12: "minute to second",
}

const intervalFullRange = 0x7FFF

func (p *printer) typeName(t *TypeName) {
	if t == nil {
		return
	}
	if !p.sqlTypeName(t) {
		if len(t.Names) == 1 {
			p.WriteString(quoteFuncName(t.Names[0]))
		} else {
			p.WriteString(qualifiedName(t.Names, QuoteIdent))
		}
		p.mods(t.Mods)
	}
	p.WriteString(strings.Repeat("[]", t.ArrayBounds))
}

// sqlTypeName prints the SQL spelling of a pg_catalog type when there is
// one that parses back into the same name and modifiers.
func (p *printer) sqlTypeName(t *TypeName) bool {
	if len(t.Names) != 2 || t.Names[0] != "pg_catalog" {
		return false
	}
	name := t.Names[1]
	if name == "interval" {
		return p.intervalType(t.Mods)
	}
	spelling, ok := sqlTypes[name]
	if !ok || (len(t.Mods) > 0 && !spelling.mods) {
		return false
	}
	switch name {
	case "bpchar", "bit":
		// Without a length these spellings mean length 1.
		if len(t.Mods) == 0 {
			return false
		}
	case "timestamp", "time", "timestamptz", "timetz":
		if len(t.Mods) > 1 {
			return false
		}
	}
	p.WriteString(spelling.name)
	p.mods(t.Mods)
	if name == "timestamptz" || name == "timetz" {
		p.WriteString(" with time zone")
	}
	return true
}

func (p *printer) intervalType(mods []int) bool {
	switch {
	case len(mods) == 0:
		p.WriteString("interval")
	case len(mods) == 2 && mods[0] == intervalFullRange:
		p.WriteString("interval(" + strconv.Itoa(mods[1]) + ")")
	case len(mods) <= 2 && intervalFields[mods[0]] != "":
		fields := intervalFields[mods[0]]
		if len(mods) == 2 && !strings.HasSuffix(fields, "second") {
			return false
		}
		p.WriteString("interval " + fields)
		if len(mods) == 2 {
			p.WriteString("(" + strconv.Itoa(mods[1]) + ")")
		}
	default:
		return false
	}
	return true
}

func (p *printer) mods(mods []int) {
	if len(mods) == 0 {
		return
	}
	p.WriteByte('(')
	for i, m := range mods {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString(strconv.Itoa(m))
	}
	p.WriteByte(')')
}
