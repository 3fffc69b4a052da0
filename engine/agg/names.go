package agg

import "sort"

// Names lists the aggregate functions, in name order (for the catalog).
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
