package schema

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestIntAndFloatOrder(t *testing.T) {
	ints := []int64{math.MinInt64, -1 << 40, -2, -1, 0, 1, 2, 1 << 40, math.MaxInt64}
	for i := 1; i < len(ints); i++ {
		if bytes.Compare(EncodeInt(ints[i-1]), EncodeInt(ints[i])) >= 0 {
			t.Fatalf("%d does not encode below %d", ints[i-1], ints[i])
		}
		if v, _ := DecodeInt(EncodeInt(ints[i])); v != ints[i] {
			t.Fatalf("%d decodes to %d", ints[i], v)
		}
	}
	floats := []float64{math.Inf(-1), -1e300, -1, -1e-300, 0, 1e-300, 1, 1e300, math.Inf(1)}
	for i := 1; i < len(floats); i++ {
		if bytes.Compare(EncodeFloat(floats[i-1]), EncodeFloat(floats[i])) >= 0 {
			t.Fatalf("%g does not encode below %g", floats[i-1], floats[i])
		}
		if v, _ := DecodeFloat(EncodeFloat(floats[i])); v != floats[i] {
			t.Fatalf("%g decodes to %g", floats[i], v)
		}
	}
	if !bytes.Equal(EncodeFloat(math.Copysign(0, -1)), EncodeFloat(0)) {
		t.Fatal("-0 and +0 must encode alike")
	}
}

// TestCompositeOrder checks that composite keys of (VARCHAR, BIGINT) sort
// as the tuples do, including strings holding NUL bytes and prefixes.
func TestCompositeOrder(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"", "\x00", "\x00\x00", "\x01", "a", "a\x00", "ab", "b", "\xff"}
	sb, ib := array.NewStringBuilder(alloc), array.NewInt64Builder(alloc)
	type tuple struct {
		s string
		i int64
	}
	var tuples []tuple
	for n := 0; n < 2000; n++ {
		s := alphabet[rng.IntN(len(alphabet))] + alphabet[rng.IntN(len(alphabet))]
		i := rng.Int64N(5) - 2
		sb.Append(s)
		ib.Append(i)
		tuples = append(tuples, tuple{s, i})
	}
	sa, ia := sb.NewArray(), ib.NewArray()
	sb.Release()
	ib.Release()
	sch := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}, {Name: "i", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(sch, []arrow.Array{sa, ia}, int64(len(tuples)))
	sa.Release()
	ia.Release()
	defer rec.Release()

	idx := make([]int, len(tuples))
	keys := make([][]byte, len(tuples))
	for i := range idx {
		idx[i] = i
		keys[i] = AppendRowKey(nil, rec, 2, i)
	}
	byKey := slices.Clone(idx)
	slices.SortStableFunc(byKey, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	byTuple := slices.Clone(idx)
	slices.SortStableFunc(byTuple, func(a, b int) int {
		if c := strings.Compare(tuples[a].s, tuples[b].s); c != 0 {
			return c
		}
		return int(tuples[a].i - tuples[b].i)
	})
	if !slices.Equal(byKey, byTuple) {
		t.Fatal("composite key order differs from tuple order")
	}
	for i := range tuples {
		parts, err := SplitComposite([]Type{Varchar, BigInt}, keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(parts[0]) != tuples[i].s {
			t.Fatalf("split %q gives %q", tuples[i].s, parts[0])
		}
		if v, _ := DecodeInt(parts[1]); v != tuples[i].i {
			t.Fatalf("split %d gives %d", tuples[i].i, v)
		}
	}
}

func TestParseFormatValue(t *testing.T) {
	cases := []struct {
		typ  Type
		in   string
		want string
	}{
		{BigInt, "-42", "-42"},
		{Integer, "7", "7"},
		{Double, "2.5", "2.5"},
		{Boolean, "yes", "true"},
		{Varchar, "héllo", "héllo"},
		{Varbinary, "\\x00ff", "\\x00ff"},
		{Timestamp, "2024-03-01 12:34:56.5", "2024-03-01 12:34:56.5"},
		{Timestamp, "2024-03-01T12:34:56Z", "2024-03-01 12:34:56"},
		{Date, "1999-12-31", "1999-12-31"},
	}
	for _, c := range cases {
		t.Run(c.typ.String()+"/"+c.in, func(t *testing.T) {
			enc, err := ParseValue(c.typ, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := FormatValue(c.typ, enc); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []struct {
		typ Type
		in  string
	}{{BigInt, "x"}, {Integer, "3000000000"}, {Double, "one"}, {Boolean, "maybe"}, {Timestamp, "noon"}, {Date, "2024-13-01"}} {
		if _, err := ParseValue(bad.typ, bad.in); err == nil {
			t.Errorf("%s %q: want an error", bad.typ, bad.in)
		}
	}
}

func TestParseSchema(t *testing.T) {
	s, err := Parse("k:varchar:key, ts:timestamp:sort, v:bigint, note:text:notnull")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "k VARCHAR ROW KEY, ts TIMESTAMP SORT KEY, v BIGINT, note VARCHAR NOT NULL"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"v:bigint", "k:varchar:key, K:bigint", "k:blob:key", "k:bigint:primary"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// TestHeadOrder checks Head.Cmp and Head.Before against bytes.Compare on
// every pair of keys around the 8- and 16-byte boundaries: a non-zero
// Cmp must agree with bytes.Compare, and be zero only when the padded
// first 16 bytes are equal; Before must be 1 exactly when Cmp is -1.
func TestHeadOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	keys := [][]byte{nil, {}, {0}, {0, 0}, {0xff}}
	stem := []byte("abcdefghijklmnopqrst")
	lengths := []int{0, 1, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 20}
	for range 400 {
		// A common stem cut around the boundaries, with bytes at them set
		// to 0x00, 0x01 or 0xff, and trailing NULs: keys that share heads,
		// differ only past them, are prefixes of each other, or differ
		// from their zero padding only by a real NUL.
		k := append([]byte(nil), stem[:lengths[rng.IntN(len(lengths))]]...)
		for _, pos := range []int{7, 8, 15, 16} {
			if pos < len(k) && rng.IntN(2) == 0 {
				k[pos] = []byte{0x00, 0x01, 0xff}[rng.IntN(3)]
			}
		}
		for range rng.IntN(3) {
			k = append(k, 0)
		}
		keys = append(keys, k)
	}
	padded := func(k []byte) []byte {
		return append(append([]byte{}, k[:min(16, len(k))]...), make([]byte, 16-min(16, len(k)))...)
	}
	for _, a := range keys {
		for _, b := range keys {
			hc := HeadOf(a).Cmp(HeadOf(b))
			bc := bytes.Compare(a, b)
			if hc != 0 && hc != bc {
				t.Fatalf("head order of %x and %x is %d, bytes.Compare %d", a, b, hc, bc)
			}
			if hc == 0 && !bytes.Equal(padded(a), padded(b)) {
				t.Fatalf("heads of %x and %x equal, their padded first 16 bytes are not", a, b)
			}
			if before := HeadOf(a).Before(HeadOf(b)); before != map[bool]uint64{true: 1, false: 0}[hc < 0] {
				t.Fatalf("Before(%x, %x) = %d, Cmp %d", a, b, before, hc)
			}
		}
	}
}
