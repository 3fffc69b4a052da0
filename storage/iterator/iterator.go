package iterator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Func is an aggregation function.
type Func uint8

// The aggregation functions. Each is associative, so combining rows file by
// file (compaction) and then across files (a query) gives what combining
// them all at once gives; Last depends on the order of rows as well, which
// is why a partition's files are merged oldest first (state.File.Seq).
const (
	// Sum adds the non-NULL values (NULL when there are none), failing on
	// integer overflow, as SQL's sum does.
	Sum Func = iota + 1
	// Min keeps the least non-NULL value.
	Min
	// Max keeps the greatest non-NULL value.
	Max
	// Last keeps the value of the last row, NULL included.
	Last
)

var funcNames = map[Func]string{Sum: "sum", Min: "min", Max: "max", Last: "last"}

func (f Func) String() string {
	if n, ok := funcNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// Agg is how one value column combines.
type Agg struct {
	Func   Func
	Column int    // storage index of the column
	Name   string // the column's name, as the schema spells it
}

func (a Agg) String() string { return fmt.Sprintf("%s(%s)", a.Func, a.Name) }

// AgeOff drops rows whose column holds a value older than Age before now.
// A NULL never ages off.
type AgeOff struct {
	Column int
	Name   string
	Type   schema.Type // TIMESTAMP or DATE
	Age    time.Duration
	text   string // the age as written, e.g. "30d"
}

// CutoffMicros is the oldest instant kept at now, in microseconds since
// the Unix epoch: a row is dropped when its value (a DATE at its midnight,
// UTC) is before it.
func (a *AgeOff) CutoffMicros(now time.Time) int64 { return now.Add(-a.Age).UnixMicro() }

func (a *AgeOff) String() string { return fmt.Sprintf("age_off(%s %s)", a.Name, a.text) }

// Spec is a table's iterators. A nil Spec (what FromDef returns for a
// table without iterators) means none; its methods accept nil.
type Spec struct {
	// Aggs has one entry per value column, in storage order, when rows
	// with equal row and sort keys combine; empty when they are kept as
	// they are.
	Aggs []Agg
	// AgeOff is nil unless old rows are dropped. It is applied to each row
	// before rows combine.
	AgeOff *AgeOff
}

// Empty reports whether s changes nothing.
func (s *Spec) Empty() bool { return s == nil || (len(s.Aggs) == 0 && s.AgeOff == nil) }

// Aggregates reports whether rows with equal keys combine.
func (s *Spec) Aggregates() bool { return s != nil && len(s.Aggs) > 0 }

// Agg returns the aggregation of storage column col, if it has one.
func (s *Spec) Agg(col int) (Agg, bool) {
	if s == nil {
		return Agg{}, false
	}
	for _, a := range s.Aggs {
		if a.Column == col {
			return a, true
		}
	}
	return Agg{}, false
}

// OrderDependent reports whether the result depends on the order of rows
// with equal keys (last): files must then be merged oldest first, and a
// compaction job must take files adjacent in that order.
func (s *Spec) OrderDependent() bool {
	if s == nil {
		return false
	}
	for _, a := range s.Aggs {
		if a.Func == Last {
			return true
		}
	}
	return false
}

// Columns returns the storage columns the iterators read besides the
// keys: the age-off column.
func (s *Spec) Columns() []int {
	if s == nil || s.AgeOff == nil {
		return nil
	}
	return []int{s.AgeOff.Column}
}

// String renders the iterators for EXPLAIN and reports, e.g.
// "sum(n), max(hi), age_off(ts 30d)".
func (s *Spec) String() string {
	if s.Empty() {
		return ""
	}
	parts := make([]string, 0, len(s.Aggs)+1)
	for _, a := range s.Aggs {
		parts = append(parts, a.String())
	}
	if s.AgeOff != nil {
		parts = append(parts, s.AgeOff.String())
	}
	return strings.Join(parts, ", ")
}

// Error is a property that does not fit the table. It wraps ErrInvalid.
type Error struct {
	Property string // "aggregations" or "age_off"
	Msg      string
}

func (e *Error) Error() string { return "table property " + e.Property + ": " + e.Msg }

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

func errorf(prop, format string, args ...any) error {
	return &Error{Property: prop, Msg: fmt.Sprintf(format, args...)}
}

// FromDef returns the iterators of a table, nil when it has none.
func FromDef(def *catalog.TableDef) (*Spec, error) {
	if def == nil || def.Schema == nil {
		return nil, fmt.Errorf("table has no schema")
	}
	return Parse(def.Properties.Get("aggregations"), def.Properties.Get("age_off"), def.Schema)
}

// Parse reads the aggregations and age_off properties against a schema,
// returning nil when both are empty.
//
// aggregations is a comma-separated list of function(column) with the
// functions sum, min, max and last; it must name every value column
// exactly once (a column to keep as it is takes last), never a row or sort
// key (keys decide which rows combine), and sum only numeric columns.
//
// age_off is "column age": a TIMESTAMP or DATE column and a positive whole
// number of seconds, minutes, hours or days ("30d", "12h", "90m", "45s").
// On an aggregated table the column must be a key: a row-level age-off on
// a combined value cannot be undone once rows have combined, so answers
// would depend on when compaction ran.
func Parse(aggregations, ageOff string, sch *schema.Schema) (*Spec, error) {
	if strings.TrimSpace(aggregations) == "" && strings.TrimSpace(ageOff) == "" {
		return nil, nil // most tables: every scan asks
	}
	spec := &Spec{}
	var err error
	if strings.TrimSpace(aggregations) != "" {
		if spec.Aggs, err = parseAggs(aggregations, sch); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(ageOff) != "" {
		if spec.AgeOff, err = parseAgeOff(ageOff, sch); err != nil {
			return nil, err
		}
		if spec.Aggregates() && spec.AgeOff.Column >= sch.NumKeys() {
			return nil, errorf("age_off", "column %q is a value column, which combines under aggregations; "+
				"on an aggregated table age_off must name a row key or sort key column, so that the rows "+
				"that combine age off together", spec.AgeOff.Name)
		}
	}
	if spec.Empty() {
		return nil, nil
	}
	return spec, nil
}

func parseAggs(text string, sch *schema.Schema) ([]Agg, error) {
	cols := sch.Columns()
	byCol := map[int]Agg{}
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		open := strings.IndexByte(item, '(')
		if open <= 0 || !strings.HasSuffix(item, ")") {
			return nil, errorf("aggregations", "cannot read %q: want function(column), e.g. sum(n)", item)
		}
		name := strings.ToLower(strings.TrimSpace(item[:open]))
		col := unquote(strings.TrimSpace(item[open+1 : len(item)-1]))
		var fn Func
		for f, n := range funcNames {
			if n == name {
				fn = f
			}
		}
		if fn == 0 {
			return nil, errorf("aggregations", "unknown function %q in %q (want sum, min, max or last)", name, item)
		}
		i := sch.Index(col)
		switch {
		case col == "":
			return nil, errorf("aggregations", "%q names no column", item)
		case i < 0:
			return nil, errorf("aggregations", "column %q does not exist", col)
		case i < len(sch.RowKeys):
			return nil, errorf("aggregations", "column %q is a row key: rows with equal row and sort keys combine, so keys cannot be aggregated", cols[i].Name)
		case i < sch.NumKeys():
			return nil, errorf("aggregations", "column %q is a sort key: rows with equal row and sort keys combine, so keys cannot be aggregated", cols[i].Name)
		}
		if _, dup := byCol[i]; dup {
			return nil, errorf("aggregations", "column %q is aggregated twice", cols[i].Name)
		}
		if fn == Sum && !numeric(cols[i].Type) {
			return nil, errorf("aggregations", "sum(%s): column %q is %s; sum needs BIGINT, INTEGER or DOUBLE (use min, max or last)", cols[i].Name, cols[i].Name, cols[i].Type)
		}
		byCol[i] = Agg{Func: fn, Column: i, Name: cols[i].Name}
	}
	out := make([]Agg, 0, len(byCol))
	for i := sch.NumKeys(); i < len(cols); i++ {
		a, ok := byCol[i]
		if !ok {
			return nil, errorf("aggregations", "value column %q is not aggregated: name every value column once (to keep the newest value, write last(%s))", cols[i].Name, cols[i].Name)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseAgeOff(text string, sch *schema.Schema) (*AgeOff, error) {
	fields := strings.Fields(text)
	if len(fields) != 2 {
		return nil, errorf("age_off", "cannot read %q: want a column and an age, e.g. 'ts 30d'", text)
	}
	name := unquote(fields[0])
	i := sch.Index(name)
	if i < 0 {
		return nil, errorf("age_off", "column %q does not exist", name)
	}
	c := sch.Columns()[i]
	if c.Type != schema.Timestamp && c.Type != schema.Date {
		return nil, errorf("age_off", "column %q is %s; want a TIMESTAMP or DATE column", c.Name, c.Type)
	}
	age, err := parseAge(fields[1])
	if err != nil {
		return nil, errorf("age_off", "%v", err)
	}
	return &AgeOff{Column: i, Name: c.Name, Type: c.Type, Age: age, text: fields[1]}, nil
}

var ageUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}

// parseAge reads a positive whole number of s, m, h or d.
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("age %q: want a positive whole number of s, m, h or d, e.g. 30d", s)
	if len(s) < 2 {
		return 0, bad
	}
	unit, ok := ageUnits[s[len(s)-1]]
	if !ok {
		return 0, bad
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 || n > int64((1<<63-1)/unit) {
		return 0, bad
	}
	return time.Duration(n) * unit, nil
}

func numeric(t schema.Type) bool {
	return t == schema.BigInt || t == schema.Integer || t == schema.Double
}

// unquote strips the double quotes of a quoted identifier.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
