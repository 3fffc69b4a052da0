package compactor

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/storage/catalog"
)

// sized makes candidates named by the given names with the given rows, in
// that order (their age order), whole.
func sized(spec string) []Candidate {
	var out []Candidate
	for i, f := range strings.Fields(spec) {
		var name string
		var rows int64
		if _, err := fmt.Sscanf(strings.Replace(f, "=", " ", 1), "%s %d", &name, &rows); err != nil {
			panic(f)
		}
		out = append(out, Candidate{File: name, Rows: rows, Whole: true, Seq: uint64(i + 1)})
	}
	return out
}

// render writes groups as "a b c | d e", each group in the order given.
func render(groups [][]Candidate) string {
	var parts []string
	for _, g := range groups {
		var names []string
		for _, c := range g {
			names = append(names, c.File)
		}
		parts = append(parts, strings.Join(names, " "))
	}
	return strings.Join(parts, " | ")
}

func TestStrategies(t *testing.T) {
	// Sleeper's SizeRatioCompactionStrategyTest examples, files given in
	// its shuffled order.
	shuffled := "B1=90 A1=9 A2=9 B5=100 B2=90 B3=90 A3=9 A5=10 B4=90 A4=9"
	shuffled3 := "B1=90 A1=9 C1=200 A2=9 B5=100 B2=90 B3=90 A3=9 A5=10 C2=200 B4=90 C3=200 A4=9"
	cases := []struct {
		name       string
		strategy   Strategy
		files      string
		contiguous bool
		want       string
	}{
		{"sleeper: one job when the files meet the test", SizeRatio{3, 11},
			"f0=50 f1=50 f2=50 f3=50 f4=50 f5=50 f6=50 f7=100", false, "f0 f1 f2 f3 f4 f5 f6 f7"},
		{"sleeper: no job when sizes double", SizeRatio{3, 11},
			"f0=2 f1=4 f2=8 f3=16 f4=32 f5=64 f6=128 f7=256", false, ""},
		{"sleeper: batches of the qualifying files", SizeRatio{3, 5}, shuffled, false,
			"A1 A2 A3 A4 A5 | B1 B2 B3 B4 B5"},
		{"sleeper: a last batch smaller than the batch size", SizeRatio{2, 5}, shuffled3, false,
			"A1 A2 A3 A4 A5 | B1 B2 B3 B4 B5 | C1 C2 C3"},
		{"sleeper: one file is never a job", SizeRatio{3, 5}, "f=123", false, ""},
		{"size ratio drops the large file that fails the test", SizeRatio{3, 12},
			"big=1000 a=10 b=10 c=10 d=10", false, "a b c d"},
		{"size ratio: a batch failing the test moves one file on", SizeRatio{2, 3},
			"a=1 b=1 c=5 d=5 e=5 f=5", false, "c d e"},
		{"size ratio, contiguous: longest run meeting the test", SizeRatio{3, 12},
			"big=1000 a=10 b=10 c=10 d=10", true, "a b c d"},
		{"size ratio, contiguous: never across a file that does not fit", SizeRatio{2, 12},
			"a=10 b=10 c=10 big=1000 d=10 e=10 f=10", true, "a b c | d e f"},
		{"size ratio, contiguous: batches", SizeRatio{1, 2},
			"a=1 b=1 c=1 d=1 e=1", true, "a b | c d"},
		{"basic: full batches, smallest first", Basic{3},
			"a=5 b=1 c=4 d=2 e=3 f=9 g=7", false, "b d e | c a g"},
		{"basic, contiguous: full batches in age order", Basic{3},
			"a=5 b=1 c=4 d=2 e=3 f=9 g=7", true, "a b c | d e f"},
		{"basic: fewer files than a batch", Basic{12}, "a=1 b=1", false, ""},
		{"basic: a batch size of one still merges two", Basic{1}, "a=1 b=1 c=1", false, "a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := sized(c.files)
			before := slices.Clone(files)
			got := c.strategy.Groups(files, c.contiguous)
			if r := render(got); r != c.want {
				t.Fatalf("got %q, want %q", r, c.want)
			}
			if !slices.Equal(files, before) {
				t.Fatal("Groups changed its input")
			}
			if c.contiguous {
				checkContiguous(t, files, got)
			}
		})
	}
}

// checkContiguous fails unless every group is a run of consecutive files.
func checkContiguous(t *testing.T, files []Candidate, groups [][]Candidate) {
	t.Helper()
	pos := map[string]int{}
	for i, f := range files {
		pos[f.File] = i
	}
	for _, g := range groups {
		for i := 1; i < len(g); i++ {
			if pos[g[i].File] != pos[g[i-1].File]+1 {
				t.Fatalf("group %s is not contiguous", render([][]Candidate{g}))
			}
		}
	}
}

func TestStrategyFor(t *testing.T) {
	for _, c := range []struct {
		props catalog.Properties
		want  Strategy
	}{
		{nil, SizeRatio{Ratio: 3, BatchSize: 12}},
		{catalog.Properties{"size_ratio": "5", "compaction_files_batch_size": "4"}, SizeRatio{Ratio: 5, BatchSize: 4}},
		{catalog.Properties{"compaction_strategy": "basic", "compaction_files_batch_size": "7"}, Basic{BatchSize: 7}},
	} {
		got, err := StrategyFor(&catalog.TableDef{Name: "t", Properties: c.props})
		if err != nil || got != c.want {
			t.Fatalf("%v: got %#v, %v; want %#v", c.props, got, err, c.want)
		}
	}
	if _, err := StrategyFor(&catalog.TableDef{Name: "t", Properties: catalog.Properties{"compaction_strategy": "tiered"}}); err == nil {
		t.Fatal("unknown strategy accepted")
	}
}
