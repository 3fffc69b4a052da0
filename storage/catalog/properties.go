package catalog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dormousedb/dormouse/storage/schema"
)

// Property describes one table property: its name, default and meaning.
type Property struct {
	Name    string
	Default string
	Doc     string
	check   func(string) error
}

// Properties are a table's settings by name. Only values that differ from
// the defaults need be present; Get fills in the rest.
type Properties map[string]string

// Known lists every table property. The defaults follow Sleeper's where it
// has one.
var Known = []Property{
	{Name: "split_threshold", Default: "1000000000", check: positiveInt,
		Doc: "a leaf partition holding more rows than this is split at its median"},
	{Name: "split_dimensions", Default: "", check: nameList,
		Doc: "row keys a split may divide, comma-separated, tried in order when the median does not divide the one before; empty means every row key in order"},
	{Name: "compaction_strategy", Default: "sizeratio", check: oneOf("sizeratio", "basic"),
		Doc: "how compaction jobs are chosen: sizeratio (Sleeper's) or basic"},
	{Name: "compaction_files_batch_size", Default: "12", check: positiveInt,
		Doc: "the most files one compaction job merges"},
	{Name: "size_ratio", Default: "3", check: positiveInt,
		Doc: "size-ratio strategy: compact a group when the smaller files add up to ratio times the largest"},
	{Name: "gc_delay", Default: "15m", check: duration,
		Doc: "how long a file with no references is kept before it is deleted"},
	{Name: "row_group_rows", Default: "1048576", check: positiveInt,
		Doc: "rows per Parquet row group in data files"},
	{Name: "page_size_bytes", Default: "1048576", check: positiveInt,
		Doc: "target size of a Parquet data page"},
	{Name: "compression_codec", Default: "zstd", check: oneOf("zstd", "snappy", "lz4_raw", "none"),
		Doc: "compression of data file pages: zstd (smallest), snappy, lz4_raw (faster to write and read, about 1.5x the bytes) or none"},
	{Name: "snapshot_every", Default: "100", check: positiveInt,
		Doc: "write a state snapshot after this many log entries"},
	{Name: "aggregations", Default: "", check: anything,
		Doc: "how rows with equal keys combine, e.g. 'sum(v), max(ts)'"},
	{Name: "age_off", Default: "", check: anything,
		Doc: "drop rows older than a bound, e.g. 'ts 30d'"},
}

// Lookup returns the named property (case-insensitive).
func Lookup(name string) (Property, bool) {
	name = strings.ToLower(name)
	for _, p := range Known {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// With returns a copy of p with name set to value, after checking both.
func (p Properties) With(name, value string) (Properties, error) {
	prop, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown table property %q (known: %s)", name, knownNames())
	}
	if err := prop.check(value); err != nil {
		return nil, fmt.Errorf("table property %s: %w", prop.Name, err)
	}
	out := make(Properties, len(p)+1)
	for k, v := range p {
		out[k] = v
	}
	out[prop.Name] = value
	return out, nil
}

// Validate checks every property in p.
func (p Properties) Validate() error {
	for k, v := range p {
		if _, err := (Properties{}).With(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the value of a property, or its default.
func (p Properties) Get(name string) string {
	if v, ok := p[name]; ok {
		return v
	}
	prop, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("catalog: unknown property %q", name))
	}
	return prop.Default
}

// Int returns an integer property.
func (p Properties) Int(name string) int64 {
	v, err := strconv.ParseInt(p.Get(name), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("catalog: property %s=%q is not an integer", name, p.Get(name)))
	}
	return v
}

// Duration returns a duration property.
func (p Properties) Duration(name string) time.Duration {
	d, err := ParseDuration(p.Get(name))
	if err != nil {
		panic(fmt.Sprintf("catalog: property %s: %v", name, err))
	}
	return d
}

// All returns every property with its effective value, sorted by name.
func (p Properties) All() [][2]string {
	out := make([][2]string, 0, len(Known))
	for _, prop := range Known {
		out = append(out, [2]string{prop.Name, p.Get(prop.Name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// SplitDimensions returns the row key dimensions (indexes into sch.RowKeys)
// that the split_dimensions property names, in its order: every row key in
// schema order when it is empty.
func (p Properties) SplitDimensions(sch *schema.Schema) ([]int, error) {
	v := strings.TrimSpace(p.Get("split_dimensions"))
	if v == "" {
		dims := make([]int, len(sch.RowKeys))
		for i := range dims {
			dims[i] = i
		}
		return dims, nil
	}
	var dims []int
	seen := map[int]bool{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		d := -1
		for i, c := range sch.RowKeys {
			if strings.EqualFold(c.Name, name) {
				d = i
			}
		}
		if d < 0 {
			return nil, fmt.Errorf("split_dimensions names %q, which is not a row key", name)
		}
		if seen[d] {
			return nil, fmt.Errorf("split_dimensions names %q twice", name)
		}
		seen[d] = true
		dims = append(dims, d)
	}
	return dims, nil
}

// ParseDuration reads Go durations ("90s", "15m") and also days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 90s, 15m, 2h, 30d)", s)
	}
	return v, nil
}

func knownNames() string {
	names := make([]string, len(Known))
	for i, p := range Known {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func positiveInt(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a positive integer, got %q", s)
	}
	return nil
}

func duration(s string) error {
	_, err := ParseDuration(s)
	return err
}

func anything(string) error { return nil }

// nameList accepts a comma-separated list of non-empty names (or nothing);
// whether they name columns is checked against the schema (TableDef.Validate).
func nameList(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	for _, n := range strings.Split(s, ",") {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("want comma-separated column names, got %q", s)
		}
	}
	return nil
}

func oneOf(vals ...string) func(string) error {
	return func(s string) error {
		for _, v := range vals {
			if s == v {
				return nil
			}
		}
		return fmt.Errorf("want one of %s, got %q", strings.Join(vals, ", "), s)
	}
}
