package expr

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
)

// FuncSig is one signature of a scalar function, as the catalog
// (pg_proc) lists it.
type FuncSig struct {
	Name string
	// Args are the parameter types; nil stands for a parameter that takes
	// any type.
	Args     []arrow.DataType
	Variadic bool // the last parameter repeats
	Result   arrow.DataType
}

// Functions lists the signatures of the registered scalar functions, by
// name and then in registration order. Functions the binder builds as
// nodes of their own (coalesce, array functions) are not among them.
func Functions() []FuncSig {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []FuncSig
	for _, n := range names {
		for _, o := range registry[n] {
			sig := FuncSig{Name: n, Variadic: o.variadic, Result: o.ret.typ()}
			for _, p := range o.params {
				if p == kAny {
					sig.Args = append(sig.Args, nil)
				} else {
					sig.Args = append(sig.Args, p.typ())
				}
			}
			out = append(out, sig)
		}
	}
	return out
}
