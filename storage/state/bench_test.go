package state

import (
	"fmt"
	"testing"

	"github.com/dormousedb/dormouse/storage/partition"
	"github.com/dormousedb/dormouse/storage/txlog"
)

// BenchmarkCommitOnLargeState measures what the log pays per entry — a
// clone and one small transaction — on tables of growing size. It should
// not grow with the number of files.
func BenchmarkCommitOnLargeState(b *testing.B) {
	for _, files := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprint(files), func(b *testing.B) {
			m := Machine{Initial: partition.New(1)}
			s := m.New()
			at := txlog.Meta{Time: t0}
			for i := range files {
				if err := m.Apply(s, add(fmt.Sprint("seed", i), file(fmt.Sprint("s", i), 10, 0, 9), partition.RootID), at); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				next := m.Clone(s)
				if err := m.Apply(next, add(fmt.Sprint("t", i), file(fmt.Sprint("f", i), 10, 0, 9), partition.RootID), at); err != nil {
					b.Fatal(err)
				}
				s = next
			}
		})
	}
}
