package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetFile writes the JSON rows as a Parquet file of the given Arrow
// schema, in row groups of 2 rows.
func parquetFile(t *testing.T, sch *arrow.Schema, rowsJSON string) []byte {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sch, bytes.NewReader([]byte(rowsJSON)))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sch, &buf, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(2)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readParquet(t *testing.T, data []byte, sch string, batchRows int) ([]string, error) {
	t.Helper()
	alloc := newPeakAllocator()
	defer alloc.AssertSize(t, 0)
	s := mustSchema(t, sch)
	r, err := NewParquetReader(context.Background(), bytes.NewReader(data), "data.parquet", s, ParquetOptions{BatchRows: batchRows, Allocator: alloc})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAll(t, r, s.Arrow())
}

func field(name string, dt arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: dt, Nullable: true}
}

func TestParquetRead(t *testing.T) {
	tests := []struct {
		name   string
		fields []arrow.Field
		json   string
		sch    string
		want   []string
	}{{
		name: "same types, other order, other case",
		fields: []arrow.Field{field("V", arrow.PrimitiveTypes.Int64), field("K", arrow.BinaryTypes.String),
			field("ts", arrow.FixedWidthTypes.Timestamp_us), field("b", arrow.FixedWidthTypes.Boolean),
			field("bin", arrow.BinaryTypes.Binary), field("day", arrow.FixedWidthTypes.Date32),
			field("d", arrow.PrimitiveTypes.Float64), field("i", arrow.PrimitiveTypes.Int32)},
		json: `[{"V": 1, "K": "a", "ts": "2024-01-02T03:04:05.123456Z", "b": true, "bin": "AP8=", "day": "2024-02-29", "d": 1.5, "i": 7},
		        {"V": null, "K": "b", "ts": null, "b": null, "bin": null, "day": null, "d": null, "i": null},
		        {"V": -3, "K": "c", "ts": "1969-12-31T23:59:59Z", "b": false, "bin": "", "day": "1970-01-01", "d": -0.25, "i": -7}]`,
		sch: "k:varchar:key, v:bigint, ts:timestamp, b:boolean, bin:bytea, day:date, d:double, i:integer",
		want: []string{
			"a|1|2024-01-02 03:04:05.123456|true|00ff|2024-02-29|1.5|7",
			"b|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
			"c|-3|1969-12-31 23:59:59|false||1970-01-01|-0.25|-7",
		},
	}, {
		name: "widening casts",
		fields: []arrow.Field{field("k", arrow.BinaryTypes.LargeString), field("a", arrow.PrimitiveTypes.Int32),
			field("u", arrow.PrimitiveTypes.Uint32), field("i", arrow.PrimitiveTypes.Int16), field("d", arrow.PrimitiveTypes.Float32),
			field("ts", &arrow.TimestampType{Unit: arrow.Millisecond}), field("ns", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}),
			field("s", arrow.BinaryTypes.String), field("lb", arrow.BinaryTypes.LargeBinary)},
		json: `[{"k": "x", "a": -5, "u": 4000000000, "i": 300, "d": 0.5, "ts": 1704164645678, "ns": "2024-01-02T03:04:05.123456789Z", "s": "hi", "lb": "AQI="},
		        {"k": "y", "a": null, "u": null, "i": null, "d": null, "ts": null, "ns": null, "s": null, "lb": null}]`,
		sch: "k:varchar:key, a:bigint, u:bigint, i:integer, d:double, ts:timestamp, ns:timestamp, s:bytea, lb:bytea",
		want: []string{
			"x|-5|4000000000|300|0.5|2024-01-02 03:04:05.678|2024-01-02 03:04:05.123456|6869|0102",
			"y|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
		},
	}, {
		name: "dictionary-encoded strings",
		fields: []arrow.Field{field("k", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}),
			field("v", arrow.PrimitiveTypes.Int64)},
		json: `[{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}]`,
		sch:  "k:varchar:key, v:bigint",
		want: []string{"a|1", "b|2", "a|3"},
	}, {
		name:   "missing nullable columns",
		fields: []arrow.Field{field("k", arrow.BinaryTypes.String)},
		json:   `[{"k": "a"}, {"k": "b"}, {"k": "c"}]`,
		sch:    "k:varchar:key, v:bigint, s:varchar",
		want:   []string{"a|NULL|NULL", "b|NULL|NULL", "c|NULL|NULL"},
	}, {
		name:   "no rows",
		fields: []arrow.Field{field("k", arrow.BinaryTypes.String)},
		json:   `[]`,
		sch:    "k:varchar:key",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parquetFile(t, arrow.NewSchema(tt.fields, nil), tt.json)
			for _, batch := range []int{0, 1, 2} {
				got, err := readParquet(t, data, tt.sch, batch)
				if err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("batch %d: got\n%q\nwant\n%q", batch, got, tt.want)
				}
			}
		})
	}
}

func TestParquetErrors(t *testing.T) {
	kv := []arrow.Field{field("k", arrow.BinaryTypes.String), field("v", arrow.PrimitiveTypes.Int64)}
	tests := []struct {
		name   string
		fields []arrow.Field
		json   string
		sch    string
		want   string
	}{
		{"extra columns", append(slices.Clone(kv), field("x", arrow.PrimitiveTypes.Int64), field("y", arrow.BinaryTypes.String)),
			`[]`, "k:varchar:key, v:bigint", `data.parquet: the file has columns that are not in the table: "x", "y"`},
		{"type mismatch", kv, `[]`, "k:varchar:key, v:varchar",
			`data.parquet: column "v" has type int64 in the file but VARCHAR in the table`},
		{"narrowing is not allowed", kv, `[]`, "k:varchar:key, v:integer",
			`data.parquet: column "v" has type int64 in the file but INTEGER in the table`},
		{"string is not a number", []arrow.Field{field("k", arrow.PrimitiveTypes.Int64)}, `[]`, "k:double:key",
			`data.parquet: column "k" has type int64 in the file but DOUBLE in the table`},
		{"missing key", kv[1:], `[]`, "k:varchar:key, v:bigint",
			`data.parquet: the file lacks key column "k"`},
		{"missing NOT NULL value", kv[:1], `[]`, "k:varchar:key, v:bigint:notnull",
			`data.parquet: the file lacks NOT NULL column "v"`},
		{"NULL key", kv, `[{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": null, "v": 3}]`, "k:varchar:key, v:bigint",
			`data.parquet: row 3: column "k": NULL in key column`},
		{"NULL in NOT NULL", kv, `[{"k": "a", "v": null}]`, "k:varchar:key, v:bigint:notnull",
			`data.parquet: row 1: column "v": NULL in NOT NULL column`},
		{"overflowing cast", []arrow.Field{field("k", arrow.BinaryTypes.String), field("t", &arrow.TimestampType{Unit: arrow.Second})},
			`[{"k": "a", "t": 9000000000000000}]`, "k:varchar:key, t:timestamp", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := parquetFile(t, arrow.NewSchema(tt.fields, nil), tt.json)
			_, err := readParquet(t, data, tt.sch, 0)
			if tt.want == "?" {
				t.Logf("error: %v", err)
				if err == nil {
					t.Error("no error")
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	sch := mustSchema(t, "k:varchar:key, v:bigint")
	files := map[string][]byte{
		"a.csv":     []byte("k,v\nx,1\n"),
		"a.tsv":     []byte("k\tv\nx\t1\n"),
		"a.parquet": parquetFile(t, arrow.NewSchema([]arrow.Field{field("k", arrow.BinaryTypes.String), field("v", arrow.PrimitiveTypes.Int32)}, nil), `[{"k": "x", "v": 1}]`),
		"a.csv.gz":  gzipped(t, "k,v\nx,1\n"),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			alloc := newPeakAllocator()
			defer alloc.AssertSize(t, 0)
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(context.Background(), path, sch, OpenOptions{CSV: CSVOptions{Allocator: alloc}, Parquet: ParquetOptions{Allocator: alloc}})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := readAll(t, r, sch.Arrow())
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows, []string{"x|1"}) {
				t.Errorf("rows %q", rows)
			}
		})
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "a.json"), sch, OpenOptions{}); err == nil {
		t.Error("Open of a .json file succeeded")
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "missing.csv"), sch, OpenOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}
