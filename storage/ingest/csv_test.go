package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dormousedb/dormouse/storage/schema"
)

const allTypes = "k:varchar:key, ts:timestamp:sort, a:bigint, i:integer, d:double, b:boolean, s:varchar, bin:bytea, day:date"

func readCSV(t *testing.T, text, sch string, opts CSVOptions) ([]string, error) {
	t.Helper()
	alloc := newPeakAllocator()
	defer alloc.AssertSize(t, 0)
	opts.Allocator = alloc
	s := mustSchema(t, sch)
	r, err := NewCSVReader(strings.NewReader(text), "data.csv", s, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAll(t, r, s.Arrow())
}

func TestCSVRead(t *testing.T) {
	tests := []struct {
		name string
		sch  string
		opts CSVOptions
		text string
		want []string
	}{{
		name: "all types",
		sch:  allTypes,
		text: "k,ts,a,i,d,b,s,bin,day\n" +
			"x,2024-01-02 03:04:05.123456,-9223372036854775808,2147483647,1.5,true,hello,\\x00ff,2024-02-29\n" +
			"y,2024-01-02T03:04:05Z,42,-7,-0.25e3,f,\"\",raw,1970-01-01\n" +
			"z,2024-01-02,,,,,,,\n" +
			"w,2024-01-02 00:00:00+02:00, 17 ,0, NaN ,YES,\"a,b\",\"\",0001-01-01\n",
		want: []string{
			"x|2024-01-02 03:04:05.123456|-9223372036854775808|2147483647|1.5|true|hello|00ff|2024-02-29",
			"y|2024-01-02 03:04:05|42|-7|-250|false||726177|1970-01-01",
			"z|2024-01-02 00:00:00|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
			"w|2024-01-01 22:00:00|17|0|NaN|true|a,b||0001-01-01",
		},
	}, {
		name: "header in another order, any case",
		sch:  "k:varchar:key, a:bigint, s:varchar",
		text: "S,K,A\nhello,k1,1\n,k2,2\n",
		want: []string{"k1|1|hello", "k2|2|NULL"},
	}, {
		name: "missing nullable column",
		sch:  "k:varchar:key, a:bigint, s:varchar",
		text: "a,k\n1,k1\n2,k2\n",
		want: []string{"k1|1|NULL", "k2|2|NULL"},
	}, {
		name: "no header",
		sch:  "k:varchar:key, a:bigint, s:varchar",
		opts: CSVOptions{NoHeader: true},
		text: "k1,1,x\nk2,2,\n",
		want: []string{"k1|1|x", "k2|2|NULL"},
	}, {
		name: "quotes, delimiters and newlines in fields",
		sch:  "k:varchar:key, s:varchar, a:bigint",
		text: "k,s,a\n" +
			"\"a,b\",\"say \"\"hi\"\"\",1\n" +
			"\"multi\nline\",\"x\r\ny\",\"2\"\n" +
			"half\"quoted, stuff\"here,\"\",3\n" +
			"\"\"\"\",\"\"\"\"\"\",4\n",
		want: []string{"a,b|say \"hi\"|1", "multi\nline|x\r\ny|2", "half" + "quoted, stuffhere||3", "\"|\"\"|4"},
	}, {
		name: "CRLF, BOM, blank lines, no final newline",
		sch:  "k:varchar:key, a:bigint",
		text: "\xEF\xBB\xBFk,a\r\nx,1\r\n\r\n\"y\",2\r\n\nz,3",
		want: []string{"x|1", "y|2", "z|3"},
	}, {
		name: "tab delimiter and NULL text",
		sch:  "k:varchar:key, a:bigint, s:varchar",
		opts: CSVOptions{Delimiter: '\t', Null: `\N`},
		text: "k\ta\ts\nx\t\\N\t\ny\t2\t\\N\n",
		want: []string{"x|NULL|", "y|2|NULL"},
	}, {
		name: "header only",
		sch:  "k:varchar:key, a:bigint",
		text: "k,a\n",
	}, {
		name: "empty without header",
		sch:  "k:varchar:key, a:bigint",
		opts: CSVOptions{NoHeader: true},
		text: "",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, batch := range []int{0, 1, 2} {
				opts := tt.opts
				opts.BatchRows = batch
				got, err := readCSV(t, tt.text, tt.sch, opts)
				if err != nil {
					t.Fatalf("batch rows %d: %v", batch, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("batch rows %d: got\n%q\nwant\n%q", batch, got, tt.want)
				}
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	const kav = "k:varchar:key, a:bigint, v:bigint"
	tests := []struct {
		name string
		sch  string
		opts CSVOptions
		text string
		want string
	}{
		{"bad bigint", kav, CSVOptions{}, "k,a,v\nx,1,2\ny,2,abc\n", `data.csv:3: column "v": invalid input syntax for type bigint: "abc"`},
		{"bad value after a multi-line field", kav, CSVOptions{}, "k,a,v\n\"x\n\ny\",1,2\nz,2,3\nw,3,4.5\n", `data.csv:6: column "v": invalid input syntax for type bigint: "4.5"`},
		{"bad value on the last line of a multi-line record", "k:varchar:key, s:varchar, v:bigint", CSVOptions{}, "k,s,v\nx,\"a\nb\nc\",oops\n", `data.csv:4: column "v": invalid input syntax for type bigint: "oops"`},
		{"bigint overflow", kav, CSVOptions{}, "k,a,v\nx,9223372036854775808,1\n", `data.csv:2: column "a": value "9223372036854775808" is out of range for type bigint`},
		{"integer range", "k:varchar:key, i:integer", CSVOptions{}, "k,i\nx,2147483648\n", `data.csv:2: column "i": value "2147483648" is out of range for type integer`},
		{"bad double", "k:varchar:key, d:double", CSVOptions{}, "k,d\nx,1.2.3\n", `data.csv:2: column "d": invalid input syntax for type double precision: "1.2.3"`},
		{"bad boolean", "k:varchar:key, b:boolean", CSVOptions{}, "k,b\nx,maybe\n", `data.csv:2: column "b": invalid input syntax for type boolean: "maybe"`},
		{"bad timestamp", "k:varchar:key, t:timestamp", CSVOptions{}, "k,t\nx,2024-02-30 00:00:00\n", `data.csv:2: column "t": invalid input syntax for type timestamp: "2024-02-30 00:00:00"`},
		{"bad date", "k:varchar:key, d:date", CSVOptions{}, "k,d\nx,2023-02-29\n", `data.csv:2: column "d": invalid input syntax for type date: "2023-02-29"`},
		{"bad hex", "k:varchar:key, b:bytea", CSVOptions{}, "k,b\nx,\\x0g\n", `data.csv:2: column "b": invalid hexadecimal digit: "g"`},
		{"odd hex", "k:varchar:key, b:bytea", CSVOptions{}, "k,b\nx,\\x0\n", `data.csv:2: column "b": invalid hexadecimal data: odd number of digits`},
		{"bad UTF-8", kav, CSVOptions{}, "k,a,v\n\xff,1,2\n", `data.csv:2: column "k": invalid byte sequence for encoding "UTF8": "\xff"`},
		{"NULL key", kav, CSVOptions{}, "k,a,v\nx,1,2\n,2,3\n", `data.csv:3: column "k": NULL in key column`},
		{"NULL in NOT NULL", "k:varchar:key, a:bigint:notnull", CSVOptions{}, "k,a\nx,\n", `data.csv:2: column "a": NULL in NOT NULL column`},
		{"too few fields", kav, CSVOptions{}, "k,a,v\nx,1,2\ny,2\n", `data.csv:3: record has 2 fields, want 3 (missing data for column "v")`},
		{"too many fields", kav, CSVOptions{}, "k,a,v\nx,1,2,3\n", `data.csv:2: record has 4 fields, want 3 (extra data after last expected column)`},
		{"too many quoted fields", kav, CSVOptions{}, "k,a,v\n\"x\",1,2,3\n", `data.csv:2: record has 4 fields, want 3 (extra data after last expected column)`},
		{"unterminated quote", kav, CSVOptions{}, "k,a,v\nx,1,2\ny,\"2,3\n\n", `data.csv:3: column "a": unterminated quoted field`},
		{"extra header column", kav, CSVOptions{}, "k,a,v,w\n", `data.csv: header column "w" is not in the table (k VARCHAR ROW KEY, a BIGINT, v BIGINT)`},
		{"missing key column", kav, CSVOptions{}, "a,v\n", `data.csv: header lacks key column "k"`},
		{"missing NOT NULL column", "k:varchar:key, a:bigint:notnull", CSVOptions{}, "k\n", `data.csv: header lacks NOT NULL column "a"`},
		{"duplicate header column", kav, CSVOptions{}, "k,a,A\n", `data.csv: header names column "a" twice`},
		{"empty file", kav, CSVOptions{}, "", `data.csv: empty file: no header line`},
		{"no header, wrong count", kav, CSVOptions{NoHeader: true}, "x,1\n", `data.csv:1: record has 2 fields, want 3 (missing data for column "v")`},
		{"bad delimiter", kav, CSVOptions{Delimiter: '"'}, "", `data.csv: CSV delimiter '"' must be a one-byte character other than quote and newline`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, batch := range []int{0, 1} {
				opts := tt.opts
				opts.BatchRows = batch
				_, err := readCSV(t, tt.text, tt.sch, opts)
				if err == nil || err.Error() != tt.want {
					t.Errorf("batch rows %d: error\n%v\nwant\n%s", batch, err, tt.want)
				}
			}
		})
	}
}

func TestCSVValueErrorFields(t *testing.T) {
	_, err := readCSV(t, "k,a,v\nx,1,zz\n", "k:varchar:key, a:bigint, v:bigint", CSVOptions{})
	var ve *ValueError
	if !errors.As(err, &ve) || ve.File != "data.csv" || ve.Line != 2 || ve.Column != "v" {
		t.Fatalf("error %#v, want a ValueError at data.csv:2 column v", err)
	}
}

// randomCSV writes rows of (k VARCHAR, n BIGINT, s VARCHAR) with quotes,
// delimiters and newlines, and returns the text and the rows as rowsOf
// renders them.
func randomCSV(rng *rand.Rand, rows int) (string, []string) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"k", "n", "s"})
	want := make([]string, rows)
	alphabet := []string{"a", "b", ",", "\"", "\n", "x y", "é", "\r\n"}
	word := func() string {
		var s strings.Builder
		for range rng.IntN(6) + 1 {
			s.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return s.String()
	}
	for i := range rows {
		k, s := fmt.Sprintf("k%d", i), word()
		if rng.IntN(3) == 0 {
			k = word() + k
		}
		n := rng.Int64() - rng.Int64()
		w.Write([]string{k, strconv.FormatInt(n, 10), s})
		want[i] = fmt.Sprintf("%s|%d|%s", k, n, s)
	}
	w.Flush()
	return b.String(), want
}

func TestCSVRandomAgainstEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text, want := randomCSV(rng, 3000)
	sch := mustSchema(t, "k:varchar:key, n:bigint, s:varchar")
	for _, tc := range []struct {
		batch, workers int
		reader         func(io.Reader) io.Reader
	}{
		{0, 0, nil},
		{7, 3, nil},
		{1, 2, iotest.OneByteReader},
		{100, 4, iotest.HalfReader},
	} {
		t.Run(fmt.Sprintf("batch=%d,workers=%d", tc.batch, tc.workers), func(t *testing.T) {
			alloc := newPeakAllocator()
			defer alloc.AssertSize(t, 0)
			var r io.Reader = strings.NewReader(text)
			if tc.reader != nil {
				r = tc.reader(r)
			}
			cr, err := NewCSVReader(r, "random.csv", sch, CSVOptions{BatchRows: tc.batch, Workers: tc.workers, Allocator: alloc})
			if err != nil {
				t.Fatal(err)
			}
			defer cr.Close()
			got, err := readAll(t, cr, sch.Arrow())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("row %d: got %q want %q", i, got[i], want[i])
					}
				}
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
		})
	}
}

// TestCSVErrorLineDeep checks line numbers across many chunks, after
// quoted newlines in earlier chunks.
func TestCSVErrorLineDeep(t *testing.T) {
	var b strings.Builder
	b.WriteString("k,n\n")
	line := 2
	for i := range 5000 {
		if i%7 == 0 {
			fmt.Fprintf(&b, "\"a\nb%d\",%d\n", i, i)
			line += 2
		} else {
			fmt.Fprintf(&b, "k%d,%d\n", i, i)
			line++
		}
	}
	fmt.Fprintf(&b, "bad,x\n")
	for _, batch := range []int{0, 3, 64} {
		_, err := readCSV(t, b.String(), "k:varchar:key, n:bigint", CSVOptions{BatchRows: batch, Workers: 3})
		want := fmt.Sprintf(`data.csv:%d: column "n": invalid input syntax for type bigint: "x"`, line)
		if err == nil || err.Error() != want {
			t.Errorf("batch %d: error %v, want %s", batch, err, want)
		}
	}
}

// TestCSVCloseEarly closes a reader that is still parsing ahead.
func TestCSVCloseEarly(t *testing.T) {
	alloc := newPeakAllocator()
	defer alloc.AssertSize(t, 0)
	text, _ := randomCSV(rand.New(rand.NewPCG(3, 4)), 5000)
	sch := mustSchema(t, "k:varchar:key, n:bigint, s:varchar")
	cr, err := NewCSVReader(strings.NewReader(text), "x.csv", sch, CSVOptions{BatchRows: 10, Allocator: alloc})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cr.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := cr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Next(); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestFastTimestampMatchesSchema(t *testing.T) {
	inputs := []string{
		"2024-01-02", "2024-01-02 03:04:05", "2024-01-02T03:04:05", "2024-01-02 03:04:05.1",
		"2024-01-02 03:04:05.123456789", "2024-01-02 03:04:05.1234567891", "2024-02-29 00:00:00",
		"2023-02-29 00:00:00", "2024-13-01", "2024-00-10", "2024-01-00", "0000-01-01", "9999-12-31 23:59:59.999999",
		"1969-12-31 23:59:59.999999", "1900-02-29", "2000-02-29", "2024-01-02 24:00:00", "2024-01-02 23:60:00",
		"2024-01-02 23:59:60", "2024-01-02 03:04:05.", "2024-01-02 03:04:05.x", "2024-1-02", "2024-01-02 3:04:05",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		inputs = append(inputs, fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%0*d", rng.IntN(10000), rng.IntN(14), rng.IntN(33),
			rng.IntN(25), rng.IntN(61), rng.IntN(61), rng.IntN(9)+1, rng.IntN(1000)))
	}
	for _, in := range inputs {
		got, ok := fastTimestamp([]byte(in))
		want, err := schema.ParseTimestamp(in)
		if ok && (err != nil || got != want) {
			t.Errorf("fastTimestamp(%q) = %d, schema says %d, %v", in, got, want, err)
		}
		if len(in) == 10 {
			d, ok := fastDate([]byte(in))
			wd, err := schema.ParseDate(in)
			if ok && (err != nil || d != int64(wd)) {
				t.Errorf("fastDate(%q) = %d, schema says %d, %v", in, d, wd, err)
			}
			if !ok && err == nil {
				t.Errorf("fastDate(%q) refused a valid date", in)
			}
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("x,1,a\ny,2,\"b\nc\"\n"), false)
	f.Add([]byte("k,n,s\n\"x\"\"\",1,\n"), true)
	f.Add([]byte("\"unterminated,1,2\n"), false)
	f.Add([]byte("a,b\r\n\r\n,,\n"), false)
	sch := mustSchema(f, "k:varchar:key, n:bigint, s:varchar")
	f.Fuzz(func(t *testing.T, data []byte, header bool) {
		alloc := newPeakAllocator()
		defer alloc.AssertSize(t, 0)
		r, err := NewCSVReader(bytes.NewReader(data), "f.csv", sch, CSVOptions{NoHeader: !header, BatchRows: 2, Allocator: alloc})
		if err != nil {
			if !header {
				t.Fatalf("no-header reader failed to start: %v", err)
			}
			return
		}
		defer r.Close()
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var ve *ValueError
				if !errors.As(err, &ve) || ve.Line < 1 || ve.Line > lines {
					t.Fatalf("error %v has no line in 1..%d", err, lines)
				}
				return
			}
			rec.Release()
		}
	})
}

func TestFastFloatMatchesStrconv(t *testing.T) {
	inputs := []string{"0", "-0", "+1", "1.", ".5", "-.5", ".", "-", "", "1.2.3", "123456789012345", "1234567890123456",
		"0.1", "0.3", "-999.9999", "1e5", "0.000000000000001", "9007199254740993", "3.14159265358979"}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		digits := rng.IntN(16) + 1
		s := strconv.FormatUint(rng.Uint64N(1e16), 10)
		if len(s) > digits {
			s = s[:digits]
		}
		if p := rng.IntN(len(s) + 1); p < len(s) {
			s = s[:p] + "." + s[p:]
		}
		if rng.IntN(2) == 0 {
			s = "-" + s
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		got, ok := fastFloat([]byte(in))
		want, err := strconv.ParseFloat(in, 64)
		if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("fastFloat(%q) = %v, strconv says %v, %v", in, got, want, err)
		}
	}
}
