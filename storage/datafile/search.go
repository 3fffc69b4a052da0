package datafile

// searchFrom is sort.Search over [lo, hi) started at a guess: it returns
// the least i in [lo, hi) for which f is true (hi if none), f being false
// and then true along the range. It probes the guess, then steps away
// from it doubling the step until it brackets the answer, then bisects
// the bracket. A good guess (rows spread evenly over pages, keys spread
// evenly over rows) finds the answer in a probe or two near the guess,
// where a bisection of the whole range takes log2 of it, each probe of a
// large cold array a miss of the CPU's caches: a point lookup makes
// several such searches over a cache of a gigabyte.
func searchFrom(lo, hi, guess int, f func(int) bool) int {
	if lo >= hi {
		return lo
	}
	guess = min(max(guess, lo), hi-1)
	a, b := lo, hi // the answer is in [a, b]
	if f(guess) {
		b = guess
		for step := 1; ; step *= 2 {
			i := guess - step
			if i < lo {
				break
			}
			if !f(i) {
				a = i + 1
				break
			}
			b = i
		}
	} else {
		a = guess + 1
		for step := 1; ; step *= 2 {
			i := guess + step
			if i >= hi {
				break
			}
			if f(i) {
				b = i
				break
			}
			a = i + 1
		}
	}
	for a < b {
		m := int(uint(a+b) >> 1)
		if f(m) {
			b = m
		} else {
			a = m + 1
		}
	}
	return a
}

// interpolate guesses where v lies in [lo, hi) between the values first
// (at lo) and last (at hi-1), as if evenly spread.
func interpolate(lo, hi int, first, last, v int64) int {
	if hi-lo < 2 || last <= first || v <= first {
		return lo
	}
	if v >= last {
		return hi - 1
	}
	// In float64: the differences may not even fit an int64.
	g := lo + int((float64(v)-float64(first))/(float64(last)-float64(first))*float64(hi-1-lo))
	return min(max(g, lo), hi-1)
}
