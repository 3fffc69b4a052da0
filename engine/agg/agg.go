package agg

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Skip, as the group of a row, hides the row from every accumulator.
const Skip = ^uint32(0)

// Func is one aggregate function resolved for its argument types.
type Func struct {
	Name string
	// Args are the argument types it was resolved for.
	Args []arrow.DataType
	// Result is the type of the result; ResultNullable is false only for
	// count.
	Result         arrow.DataType
	ResultNullable bool
	// State are the columns of the partial state (State, Merge).
	State    []arrow.Field
	new      func() Accumulator
	newAlloc func(memory.Allocator) Accumulator
}

// New returns an accumulator with no groups, which allocates the Arrow
// memory it keeps (if any) from alloc.
func (f *Func) New(alloc memory.Allocator) Accumulator {
	if f.newAlloc != nil {
		return f.newAlloc(alloc)
	}
	return f.new()
}

// Accumulator holds the states of one aggregate over many groups.
type Accumulator interface {
	// Grow makes groups 0..n-1 exist; new groups start with no rows.
	Grow(n int)
	// Update folds the rows of one batch into their groups: row i of args
	// into group groups[i], skipping rows whose group is Skip. A nil groups
	// sends every row to group 0. args are the argument arrays, each of
	// length rows (count(*) has none).
	Update(rows int, args []arrow.Array, groups []uint32) error
	// Merge folds partial states, columns as produced by State, into the
	// groups given per row (as for Update).
	Merge(states []arrow.Array, groups []uint32) error
	// State returns the partial states of groups lo..hi-1, one array per
	// field of Func.State; the caller releases them.
	State(alloc memory.Allocator, lo, hi int) ([]arrow.Array, error)
	// Result returns the results of groups lo..hi-1; the caller releases it.
	Result(alloc memory.Allocator, lo, hi int) (arrow.Array, error)
	// Size is the approximate number of bytes the states hold.
	Size() int64
	// Release frees Arrow memory the accumulator holds (array_agg keeps
	// copies of its values); it is called once, when the operator is done.
	Release()
}

// resolver builds a Func for argument types, or reports that it does not
// apply to them (nil, nil).
type resolver func(args []arrow.DataType) (*Func, error)

var registry = map[string]resolver{
	"count":       resolveCount,
	"sum":         resolveSum,
	"avg":         resolveAvg,
	"min":         resolveMinMax(false),
	"max":         resolveMinMax(true),
	"stddev":      resolveVariance(varSamp, true),
	"stddev_samp": resolveVariance(varSamp, true),
	"stddev_pop":  resolveVariance(varPop, true),
	"variance":    resolveVariance(varSamp, false),
	"var_samp":    resolveVariance(varSamp, false),
	"var_pop":     resolveVariance(varPop, false),
	"bool_and":    resolveBool(true),
	"every":       resolveBool(true),
	"bool_or":     resolveBool(false),
	"string_agg":  resolveStringAgg,
	"array_agg":   resolveArrayAgg,
}

// Exists reports whether name is an aggregate function.
func Exists(name string) bool {
	_, ok := registry[strings.ToLower(name)]
	return ok
}

// Resolve returns the aggregate function name (case-insensitive) for
// arguments of the given types; count(*) has no arguments. It returns a
// 42883 error when there is no such function for those types.
func Resolve(name string, args []arrow.DataType) (*Func, error) {
	name = strings.ToLower(name)
	r, ok := registry[name]
	if ok {
		f, err := r(args)
		if err != nil {
			return nil, err
		}
		if f != nil {
			f.Name, f.Args = name, args
			return f, nil
		}
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", signature(name, args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func signature(name string, args []arrow.DataType) string {
	if name == "count" && len(args) == 0 {
		return "count(*)"
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return fmt.Sprintf("%s(%s)", name, strings.Join(parts, ", "))
}

func state(name string, dt arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: dt, Nullable: true}
}

// groupOf is the group of row i.
func groupOf(groups []uint32, i int) uint32 {
	if groups == nil {
		return 0
	}
	return groups[i]
}

// grow extends s to n elements.
func grow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	return append(s, make([]T, n-len(s))...)
}

func isInteger(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func isFloat(dt arrow.DataType) bool {
	return dt.ID() == arrow.FLOAT32 || dt.ID() == arrow.FLOAT64
}
