package sql

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/table"
)

var (
	tText   = arrow.BinaryTypes.String
	tInt8   = arrow.PrimitiveTypes.Int64
	tInt4   = arrow.PrimitiveTypes.Int32
	tBool   = arrow.FixedWidthTypes.Boolean
	tTSTZ   = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	tFloat8 = arrow.PrimitiveTypes.Float64
)

func cols(spec ...any) []virtualColumn {
	out := make([]virtualColumn, 0, len(spec)/2)
	for i := 0; i < len(spec); i += 2 {
		out = append(out, virtualColumn{name: spec[i].(string), typ: spec[i+1].(arrow.DataType)})
	}
	return out
}

// systemTables are the dormouse.* views of the store: tables, partitions,
// files and the transaction log, queryable like any table.
func systemTables() []*virtualTable {
	return []*virtualTable{
		{schema: "dormouse", name: "tables", cols: cols(
			"table_name", tText, "table_id", tText, "columns", tText, "row_keys", tText, "sort_keys", tText,
			"rows", tInt8, "files", tInt8, "bytes", tInt8, "partitions", tInt8, "leaf_partitions", tInt8,
			"log_seq", tInt8, "created", tTSTZ, "properties", tText),
			rows: tablesRows},
		{schema: "dormouse", name: "partitions", cols: cols(
			"table_name", tText, "partition_id", tText, "parent_id", tText, "is_leaf", tBool,
			"split_column", tText, "min_key", tText, "max_key", tText, "region", tText, "rows", tInt8, "files", tInt8),
			rows: partitionsRows},
		{schema: "dormouse", name: "files", cols: cols(
			"table_name", tText, "file", tText, "partition_id", tText, "rows", tInt8, "file_rows", tInt8,
			"bytes", tInt8, "min_key", tText, "max_key", tText, "whole", tBool, "job_id", tText,
			"unreferenced_since", tTSTZ),
			rows: filesRows},
		{schema: "dormouse", name: "jobs", cols: cols(
			"table_name", tText, "job_id", tText, "partition_id", tText, "kind", tText, "status", tText,
			"worker", tText, "input_files", tInt8, "input_rows", tInt8, "output_rows", tInt8,
			"created", tTSTZ, "started", tTSTZ, "finished", tTSTZ, "seconds", tFloat8, "rows_per_second", tFloat8,
			"attempts", tInt8, "error", tText),
			rows: jobsRows},
		{schema: "dormouse", name: "transactions", cols: cols(
			"table_name", tText, "seq", tInt8, "entry_id", tText, "txn_id", tText, "kind", tText,
			"committed", tTSTZ, "detail", tText),
			rows: transactionsRows},
		exportsView, exportTasksView,
	}
}

// perTable builds a virtual table's rows from every table of the
// snapshot, one table at a time.
func perTable(rows func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error)) func(context.Context, *snapshot) ([][]any, error) {
	return func(ctx context.Context, snap *snapshot) ([][]any, error) {
		tables, err := snap.all(ctx)
		if err != nil {
			return nil, err
		}
		var out [][]any
		for _, ts := range tables {
			if out, err = rows(ctx, ts, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func columnNames(cs []schema.Column) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

var tablesRows = perTable(func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error) {
	d, s := ts.t.Def, ts.state
	var bytes int64
	for _, f := range s.SortedFiles() {
		bytes += f.Bytes
	}
	props, _ := json.Marshal(d.Properties.All())
	out = append(out, []any{d.Name, d.ID, d.Schema.String(), columnNames(d.Schema.RowKeys), columnNames(d.Schema.SortKeys),
		s.TotalRows(), s.NumFiles(), bytes, s.Partitions.Len(), len(s.Partitions.Leaves()),
		ts.seq, d.Created, string(props)})
	return out, nil
})

func keyTypes(s *schema.Schema) []schema.Type {
	out := make([]schema.Type, len(s.RowKeys))
	for i, c := range s.RowKeys {
		out[i] = c.Type
	}
	return out
}

func formatKey(types []schema.Type, key [][]byte) any {
	if len(key) == 0 {
		return nil
	}
	parts := make([]string, len(key))
	for i := range key {
		parts[i] = schema.FormatValue(types[i], key[i])
	}
	return strings.Join(parts, ", ")
}

var partitionsRows = perTable(func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error) {
	d, s := ts.t.Def, ts.state
	types := keyTypes(d.Schema)
	s.Partitions.Walk(func(p *partition.Partition) {
		rows, files := s.PartitionRows(p.ID), int64(s.NumRefs(p.ID))
		var split, parent any
		if !p.IsLeaf() {
			split = d.Schema.RowKeys[p.Dim].Name
			for _, leaf := range s.Partitions.Descendants(p.ID) {
				rows += s.PartitionRows(leaf.ID)
				files += int64(s.NumRefs(leaf.ID))
			}
		}
		if p.Parent != "" {
			parent = p.Parent
		}
		r := p.Region[0]
		var lo, hi any
		if len(r.Min) > 0 {
			lo = schema.FormatValue(types[0], r.Min)
		}
		if len(r.Max) > 0 {
			hi = schema.FormatValue(types[0], r.Max)
		}
		out = append(out, []any{d.Name, p.ID, parent, p.IsLeaf(), split, lo, hi,
			partition.Describe(types, p.Region), rows, files})
	})
	return out, nil
})

var filesRows = perTable(func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error) {
	d, s := ts.t.Def, ts.state
	types := keyTypes(d.Schema)
	for _, f := range s.SortedFiles() {
		var since any
		if f.UnreferencedSince != nil {
			since = *f.UnreferencedSince
		}
		base := func(part any, rows int64, whole bool, job any) []any {
			return []any{d.Name, f.Key, part, rows, f.Rows, f.Bytes, formatKey(types, f.MinKey), formatKey(types, f.MaxKey), whole, job, since}
		}
		if f.Refs == 0 {
			out = append(out, base(nil, 0, false, nil))
			continue
		}
		for _, leaf := range s.Partitions.Leaves() {
			if r, ok := s.Ref(leaf.ID, f.Key); ok {
				var job any
				if r.Job != "" {
					job = r.Job
				}
				out = append(out, base(leaf.ID, r.Rows, r.Whole, job))
			}
		}
	}
	return out, nil
})

var jobsRows = perTable(func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error) {
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	timeOrNil := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	for _, j := range table.JobsReport(ts.state, time.Now()) {
		var secs, rate any
		if j.Duration > 0 {
			secs = j.Duration.Seconds()
		}
		if j.RowsPerSec > 0 {
			rate = j.RowsPerSec
		}
		out = append(out, []any{ts.t.Def.Name, j.ID, j.Partition, j.Kind, j.Status, orNil(j.Worker),
			int64(j.Files), j.InputRows, j.OutputRows, j.Created, timeOrNil(j.Started), timeOrNil(j.Finished),
			secs, rate, int64(j.Attempts), orNil(j.Error)})
	}
	return out, nil
})

var transactionsRows = perTable(func(ctx context.Context, ts *tableSnapshot, out [][]any) ([][]any, error) {
	if ts.seq == 0 {
		return out, nil
	}
	entries, err := ts.t.Entries(ctx, 1, ts.seq)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		for _, txn := range e.Txns {
			detail, _ := json.Marshal(txn)
			out = append(out, []any{ts.t.Def.Name, e.Seq, e.ID, txn.ID, txn.Kind(), e.Time, string(detail)})
		}
	}
	return out, nil
})

// informationSchema holds the standard views client tools read.
func informationSchema() []*virtualTable {
	return []*virtualTable{
		{schema: "information_schema", name: "schemata", cols: cols(
			"catalog_name", tText, "schema_name", tText, "schema_owner", tText),
			rows: func(context.Context, *snapshot) ([][]any, error) {
				var out [][]any
				for _, s := range []string{"public", "dormouse", "information_schema", "pg_catalog"} {
					out = append(out, []any{"dormouse", s, "dormouse"})
				}
				return out, nil
			}},
		{schema: "information_schema", name: "tables", cols: cols(
			"table_catalog", tText, "table_schema", tText, "table_name", tText, "table_type", tText),
			rows: func(_ context.Context, snap *snapshot) ([][]any, error) {
				var out [][]any
				for _, d := range snap.defs {
					out = append(out, []any{"dormouse", "public", d.Name, "BASE TABLE"})
				}
				for _, v := range append(systemTables(), informationSchemaNames()...) {
					out = append(out, []any{"dormouse", v.schema, v.name, "VIEW"})
				}
				return out, nil
			}},
		// PostgreSQL's columns of information_schema.columns up to
		// udt_name (less interval and character set ones), then how the
		// column orders rows.
		{schema: "information_schema", name: "columns", cols: cols(
			"table_catalog", tText, "table_schema", tText, "table_name", tText, "column_name", tText,
			"ordinal_position", tInt4, "column_default", tText, "is_nullable", tText, "data_type", tText,
			"character_maximum_length", tInt4, "character_octet_length", tInt4, "numeric_precision", tInt4,
			"numeric_precision_radix", tInt4, "numeric_scale", tInt4, "datetime_precision", tInt4,
			"udt_catalog", tText, "udt_schema", tText, "udt_name", tText, "is_updatable", tText, "dormouse_key", tText),
			rows: infoSchemaColumns},
	}
}

// informationSchemaNames lists the information_schema views by name only
// (to list them without recursion).
func informationSchemaNames() []*virtualTable {
	return []*virtualTable{
		{schema: "information_schema", name: "schemata"},
		{schema: "information_schema", name: "tables"},
		{schema: "information_schema", name: "columns"},
	}
}

// infoSchemaColumns are the rows of information_schema.columns: each
// table's columns in declared order, typed as pg_attribute types them.
func infoSchemaColumns(_ context.Context, snap *snapshot) ([][]any, error) {
	var out [][]any
	for _, d := range snap.defs {
		all := d.Schema.Columns()
		for pos, i := range d.DeclaredColumns() {
			c := all[i]
			null, role := "YES", any(nil)
			if !c.Nullable {
				null = "NO"
			}
			switch {
			case i < len(d.Schema.RowKeys):
				role = "row key"
			case i < d.Schema.NumKeys():
				role = "sort key"
			}
			oid := columnTypeOID(c)
			var maxLen, octets, prec, radix, scale, dtPrec any
			switch c.Type {
			case schema.Varchar:
				octets = int32(1 << 30) // PostgreSQL's for text and unbounded varchar
				if c.Length > 0 {
					maxLen, octets = int32(c.Length), int32(4*c.Length) // UTF8: up to 4 bytes a character
				}
			case schema.BigInt:
				prec, radix, scale = int32(64), int32(2), int32(0)
			case schema.Integer:
				prec, radix, scale = int32(32), int32(2), int32(0)
			case schema.Double:
				prec, radix = int32(53), int32(2)
			case schema.Timestamp:
				dtPrec = int32(6)
			case schema.Date:
				dtPrec = int32(0)
			}
			out = append(out, []any{"dormouse", "public", d.Name, c.Name, pos + 1, nil, null, formatType(oid, -1, nil),
				maxLen, octets, prec, radix, scale, dtPrec, "dormouse", "pg_catalog", pgTypeByOID[oid].name, "YES", role})
		}
	}
	return out, nil
}
