package expr

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestLikeMatcherAgainstRegexp checks the wildcard matcher and the fast
// kinds against a regular expression built from the same pattern.
func TestLikeMatcherAgainstRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	pick := func(alphabet []string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		p := pick([]string{"a", "b", "%", "_", "ä", `\%`, `\_`}, r.IntN(6))
		s := pick([]string{"a", "b", "ä", "%", "_"}, r.IntN(7))
		m, err := compileLike(p, false)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		var re strings.Builder
		re.WriteString("^(?s)")
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case '\\':
				j++
				re.WriteString(regexp.QuoteMeta(p[j : j+1]))
			case '%':
				re.WriteString(".*")
			case '_':
				re.WriteString(".")
			default:
				re.WriteByte(c)
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := m.match([]byte(s)); got != want {
			t.Fatalf("%q LIKE %q = %v, want %v (kind %d)", s, p, got, want, m.kind)
		}
	}
}
