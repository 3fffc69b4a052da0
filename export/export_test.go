package export_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestRoundTrip exports a table of every type, split in four partitions,
// in both formats, to a local directory and to S3: one file or more per
// partition, a manifest that adds up, and files that give back exactly the
// table's rows — imported again by COPY FROM, and read by pyarrow and
// DuckDB (through its httpfs extension on S3).
func TestRoundTrip(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, store objstore.Store) {
		ctx := context.Background()
		_, s := session(t, store, sql.Config{})
		const n = 3000
		allTypes(t, s, "src", n)
		want := canonical(t, s, "SELECT * FROM src")
		leaves := leafIDs(t, s, "src")
		if len(leaves) != 4 {
			t.Fatalf("%d leaves, want 4", len(leaves))
		}
		for _, format := range []string{"parquet", "csv"} {
			t.Run(format, func(t *testing.T) {
				dir := target(t, store, format)
				with := "FORMAT " + format
				if format == "csv" {
					with += ", HEADER"
				}
				if tag := mustRun(t, s, fmt.Sprintf("COPY src TO '%s' WITH (%s)", dir, with)).Tag; tag != fmt.Sprintf("COPY %d", n) {
					t.Fatalf("tag %q", tag)
				}
				m := manifestOf(t, dir)
				checkManifest(t, ctx, dir, m, n)
				perPart := map[string]int{}
				for _, f := range m.Files {
					perPart[f.Partition]++
					if !strings.HasPrefix(f.Name, "part-"+f.Partition+"-") || !strings.HasSuffix(f.Name, "."+format) {
						t.Fatalf("file %s of partition %s", f.Name, f.Partition)
					}
				}
				for _, id := range leaves {
					if perPart[id] == 0 {
						t.Fatalf("no file for partition %s: %v", id, perPart)
					}
				}

				dst := "dst_" + format
				allTypes(t, s, dst, 0)
				if tag := mustRun(t, s, fmt.Sprintf("COPY %s FROM '%s' WITH (%s)", dst, dir, with)).Tag; tag != fmt.Sprintf("COPY %d", n) {
					t.Fatalf("import tag %q", tag)
				}
				equalLines(t, "re-imported", canonical(t, s, "SELECT * FROM "+dst), want)

				if format != "parquet" {
					return
				}
				checkParquetMeta(t, ctx, dir, m)
				if strings.HasPrefix(dir, "s3://") {
					equalLines(t, "duckdb over S3", python(t, "duckdb", dir, os.Getenv("AWS_ENDPOINT_URL_S3")), want)
					return
				}
				equalLines(t, "pyarrow", python(t, "pyarrow", dir), want)
				equalLines(t, "duckdb", python(t, "duckdb", dir), want)
			})
		}
	})
}

// TestQueries exports queries of several shapes: per-partition ones give
// one task per leaf they read, others one task, and the files of every
// export hold exactly the query's rows, each file in key order and no
// larger than MAX_FILE_ROWS.
func TestQueries(t *testing.T) {
	ctx := context.Background()
	store := storagetest.LocalStore(t)
	_, s := session(t, store, sql.Config{})
	allTypes(t, s, "src", 5000)
	cases := []struct {
		query string
		tasks int
		with  string
	}{
		{"SELECT k, n, s FROM src WHERE k >= 'h'", 3, "MAX_FILE_ROWS 300"},
		{"SELECT k, count(*) AS c, sum(n) AS total FROM src GROUP BY k", 4, "COMPRESSION snappy"},
		{"SELECT b, count(*) AS c FROM src GROUP BY b", 1, "COMPRESSION none"},
		{"SELECT k, n FROM src ORDER BY n DESC LIMIT 10", 1, "FORMAT csv"},
		{"SELECT * FROM src WHERE k = 'zzz'", 1, "FORMAT parquet"},
	}
	for i, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), fmt.Sprint(i)) + "/"
			mustRun(t, s, fmt.Sprintf("COPY (%s) TO '%s' WITH (%s)", c.query, dir, c.with))
			m := manifestOf(t, dir)
			var tasks []string
			seen := map[string]bool{}
			for _, f := range m.Files {
				if !seen[f.Partition] {
					seen[f.Partition] = true
					tasks = append(tasks, f.Partition)
				}
			}
			want := canonical(t, s, c.query)
			checkManifest(t, ctx, dir, m, int64(len(want)))
			if len(tasks) > c.tasks || (len(want) > 0 && len(tasks) < 1) {
				t.Fatalf("files of %d tasks %v, want %d", len(tasks), tasks, c.tasks)
			}
			if m.Format == "csv" {
				return
			}
			var got []string
			for _, f := range m.Files {
				rows := readParquet(t, ctx, dir, f.Name)
				if strings.Contains(c.with, "MAX_FILE_ROWS") && int64(len(rows)) > 300 {
					t.Fatalf("%s has %d rows, more than MAX_FILE_ROWS", f.Name, len(rows))
				}
				if len(m.SortedBy) > 0 {
					for r := 1; r < len(rows); r++ {
						if strings.SplitN(rows[r-1], "|", 2)[0] > strings.SplitN(rows[r], "|", 2)[0] {
							t.Fatalf("%s is not in key order at row %d", f.Name, r)
						}
					}
				}
				got = append(got, rows...)
			}
			equalLines(t, "files", sortedCopy(got), want)
		})
	}
}

func leafIDs(t *testing.T, s *sql.Session, table string) []string {
	res := mustRun(t, s, "SELECT partition_id FROM dormouse.partitions WHERE is_leaf AND table_name = '"+table+"' ORDER BY 1")
	var out []string
	for _, r := range res.Rows {
		out = append(out, *r[0])
	}
	return out
}

func openTarget(t *testing.T, ctx context.Context, dir string) objstore.Store {
	t.Helper()
	tg, err := export.ParseTarget(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tg.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func manifestOf(t *testing.T, dir string) *export.Manifest {
	t.Helper()
	m, err := export.ReadManifest(context.Background(), openTarget(t, context.Background(), dir))
	if err != nil {
		t.Fatalf("manifest of %s: %v", dir, err)
	}
	return m
}

// checkManifest checks that the manifest's files add up to rows and that
// the target holds exactly them (and the manifest).
func checkManifest(t *testing.T, ctx context.Context, dir string, m *export.Manifest, rows int64) {
	t.Helper()
	st := openTarget(t, ctx, dir)
	var sum, bytes int64
	names := map[string]bool{export.ManifestName: true}
	for _, f := range m.Files {
		sum += f.Rows
		bytes += f.Bytes
		names[f.Name] = true
		info, err := st.Stat(ctx, f.Name)
		if err != nil || info.Size != f.Bytes {
			t.Fatalf("file %s: %v, size %d, manifest says %d", f.Name, err, info.Size, f.Bytes)
		}
	}
	if sum != rows || m.Rows != rows || m.Bytes != bytes || len(m.Files) == 0 {
		t.Fatalf("manifest: %d files, rows %d (files add to %d), bytes %d (%d); want %d rows", len(m.Files), m.Rows, sum, m.Bytes, bytes, rows)
	}
	infos, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if !names[in.Key] {
			t.Fatalf("target holds %s, which the manifest does not name", in.Key)
		}
	}
}

// readParquet reads one exported file with arrow-go's own Parquet reader
// and renders its rows canonically, in file order.
func readParquet(t *testing.T, ctx context.Context, dir, name string) []string {
	t.Helper()
	st := openTarget(t, ctx, dir)
	obj, err := st.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	pf, err := file.NewParquetReader(readerAtSeeker(obj))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1<<16)
	defer tr.Release()
	var out []string
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			parts := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				parts[c] = canonicalValue(col, r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

// checkParquetMeta checks what other engines rely on in every file:
// statistics and page indexes on every column, the sorting columns, and
// the Arrow schema in the footer.
func checkParquetMeta(t *testing.T, ctx context.Context, dir string, m *export.Manifest) {
	t.Helper()
	st := openTarget(t, ctx, dir)
	for _, f := range m.Files {
		obj, err := st.Open(ctx, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(readerAtSeeker(obj))
		if err != nil {
			t.Fatal(err)
		}
		md := pf.MetaData()
		if md.KeyValueMetadata().FindValue("ARROW:schema") == nil {
			t.Fatalf("%s: no Arrow schema in the footer", f.Name)
		}
		for g := 0; g < md.NumRowGroups(); g++ {
			rg := md.RowGroup(g)
			sorting := rg.SortingColumns()
			if len(sorting) == 0 || len(m.SortedBy) == 0 || m.SortedBy[0] != "k" {
				t.Fatalf("%s row group %d: sorting columns %v, manifest says %v", f.Name, g, sorting, m.SortedBy)
			}
			for c := 0; c < rg.NumColumns(); c++ {
				cc, err := rg.ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := cc.StatsSet(); !ok || err != nil {
					t.Fatalf("%s row group %d column %d: no statistics", f.Name, g, c)
				}
				if cc.GetColumnIndexLocation() == nil || cc.GetOffsetIndexLocation() == nil {
					t.Fatalf("%s row group %d column %d: no page index", f.Name, g, c)
				}
			}
		}
		pf.Close()
		obj.Close()
	}
}

// readerAtSeeker gives an object's bytes to the Parquet reader.
func readerAtSeeker(obj objstore.Object) *io.SectionReader {
	return io.NewSectionReader(obj, 0, obj.Size())
}

func sortedCopy(lines []string) []string {
	out := append([]string(nil), lines...)
	sort.Strings(out)
	return out
}
