package schema

import "testing"

func TestFitLength(t *testing.T) {
	for _, tt := range []struct {
		v    string
		n    int
		keep int
		err  bool
	}{
		{"abc", 3, 3, false},
		{"ab", 3, 2, false},
		{"", 1, 0, false},
		{"éèê", 3, 6, false},
		{"éèê ", 3, 6, false},
		{"abc   ", 3, 3, false},
		{"abcd", 3, 0, true},
		{"abc d", 3, 0, true},
		{"éèêë", 3, 0, true},
		{"a\u00a0\u00a0", 1, 0, true}, // only ASCII spaces are cut
	} {
		keep, err := FitLength(tt.v, tt.n)
		if (err != nil) != tt.err || (err == nil && keep != tt.keep) {
			t.Errorf("FitLength(%q, %d) = %d, %v; want %d, error %v", tt.v, tt.n, keep, err, tt.keep, tt.err)
		}
	}
}

// TestColumnAt checks Column and NumColumns against Columns, over schemas
// with and without sort keys and values.
func TestColumnAt(t *testing.T) {
	c := func(n string) Column { return Column{Name: n, Type: BigInt} }
	for _, s := range []*Schema{
		{RowKeys: []Column{c("k")}},
		{RowKeys: []Column{c("k"), c("g")}, Values: []Column{c("v")}},
		{RowKeys: []Column{c("k")}, SortKeys: []Column{c("s"), c("t")}, Values: []Column{c("v"), c("w")}},
	} {
		all := s.Columns()
		if s.NumColumns() != len(all) {
			t.Fatalf("NumColumns %d, want %d", s.NumColumns(), len(all))
		}
		for i, want := range all {
			if got := s.Column(i); got != want {
				t.Errorf("Column(%d) = %v, want %v", i, got, want)
			}
		}
	}
}

// TestIntegerLike lists the types whose values are EncodeInt's.
func TestIntegerLike(t *testing.T) {
	for typ, want := range map[Type]bool{BigInt: true, Integer: true, Timestamp: true, Date: true,
		Double: false, Boolean: false, Varchar: false, Varbinary: false, Invalid: false} {
		if typ.IntegerLike() != want {
			t.Errorf("%s: IntegerLike %v, want %v", typ, !want, want)
		}
	}
}
