package expr

import (
	"bytes"
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// LikeExpr is X [NOT] LIKE / ILIKE Pattern with PostgreSQL's rules: % is
// any run of characters, _ one character, a backslash makes the next
// character literal (LIKE … ESCAPE e is rewritten by like_escape). A
// constant pattern is compiled once: no wildcard is an equality, 'abc%'
// a prefix test, '%abc' a suffix test, '%abc%' a substring search; other
// patterns run a wildcard matcher, and ILIKE a regular expression.
type LikeExpr struct {
	X, Pattern      Expr
	CaseInsensitive bool
	Not             bool
	m               *likeMatcher // for a constant pattern
}

// Like is x [NOT] LIKE pattern, or ILIKE when caseInsensitive.
func Like(x, pattern Expr, caseInsensitive, not bool) (Expr, error) {
	op := map[[2]bool]string{{false, false}: "~~", {false, true}: "!~~", {true, false}: "~~*", {true, true}: "!~~*"}[[2]bool{caseInsensitive, not}]
	x, pattern, err := textOperands(op, x, pattern)
	if err != nil {
		return nil, err
	}
	return newLike(x, pattern, caseInsensitive, not)
}

func newLike(x, pattern Expr, ci, not bool) (*LikeExpr, error) {
	l := &LikeExpr{X: x, Pattern: pattern, CaseInsensitive: ci, Not: not}
	if p, ok := pattern.(*Literal); ok && p.Value != nil {
		m, err := compileLike(p.Value.(string), ci)
		if err != nil {
			return nil, err
		}
		l.m = m
	}
	return l, nil
}

// textOperands coerces both operands of a text operator to text.
func textOperands(op string, x, y Expr) (Expr, Expr, error) {
	xk, yk := typeOf(x), typeOf(y)
	if (xk != kText && xk != kUnknown) || (yk != kText && yk != kUnknown) {
		return nil, nil, opNotExist(op, x.Type(), y.Type())
	}
	var err error
	if x, err = ImplicitCast(x, TextType); err != nil {
		return nil, nil, err
	}
	if y, err = ImplicitCast(y, TextType); err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// LikePrefix returns the literal prefix every match of a constant LIKE
// pattern starts with, and whether the pattern is exactly "prefix%" — for
// key-range push-down. ok is false for ILIKE and non-constant patterns.
func (l *LikeExpr) LikePrefix() (prefix string, exact bool, ok bool) {
	if l.m == nil || l.CaseInsensitive || l.Not {
		return "", false, false
	}
	return string(l.m.prefix), l.m.kind == likePrefix, true
}

func (l *LikeExpr) Type() arrow.DataType { return BoolType }
func (l *LikeExpr) Nullable() bool       { return l.X.Nullable() || l.Pattern.Nullable() }
func (l *LikeExpr) Children() []Expr     { return []Expr{l.X, l.Pattern} }
func (l *LikeExpr) WithChildren(ch []Expr) Expr {
	n, err := newLike(ch[0], ch[1], l.CaseInsensitive, l.Not)
	if err != nil {
		// A pattern folded into a constant that does not compile (a
		// parameter's value, 'a' || '\'): left uncompiled, so that
		// evaluating it reports the error as a pattern column does.
		return &LikeExpr{X: ch[0], Pattern: ch[1], CaseInsensitive: l.CaseInsensitive, Not: l.Not}
	}
	return n
}
func (l *LikeExpr) mayFail() bool { return l.m == nil }

func (l *LikeExpr) String() string {
	op := " LIKE "
	if l.CaseInsensitive {
		op = " ILIKE "
	}
	if l.Not {
		op = " NOT" + op
	}
	return wrap(l.X) + op + wrap(l.Pattern)
}

func (l *LikeExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	return evalMatch(ctx, rec, l.X, l.Pattern, l.m, l.Not, func(p string) (*likeMatcher, error) {
		return compileLike(p, l.CaseInsensitive)
	})
}

// evalMatch runs a matcher (m for a constant pattern, else compile per
// distinct pattern) over the rows of x.
func evalMatch(ctx *Context, rec arrow.RecordBatch, x, pattern Expr, m *likeMatcher, not bool, compile func(string) (*likeMatcher, error)) (arrow.Array, error) {
	n := int(rec.NumRows())
	if p, ok := pattern.(*Literal); ok && p.Value == nil {
		return allNull(ctx.Alloc, BoolType, n), nil
	}
	xa, err := x.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer xa.Release()
	buf, out := newBitmap(ctx.Alloc, n)
	if m != nil {
		m.matchAll(viewOf(xa), n, out, not)
		return boolArray(n, buf, copyValidity(ctx.Alloc, xa)), nil
	}
	pa, err := pattern.Eval(ctx, rec)
	if err != nil {
		buf.Release()
		return nil, err
	}
	defer pa.Release()
	xv, pv := viewOf(xa), viewOf(pa)
	validity := validityAnd(ctx.Alloc, n, xa, pa)
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	cache := map[string]*likeMatcher{}
	for i := 0; i < n; i++ {
		if !validAt(vb, 0, i) {
			continue
		}
		ps := pv.str(i)
		pm, ok := cache[ps]
		if !ok {
			if pm, err = compile(ps); err != nil {
				buf.Release()
				if validity != nil {
					validity.Release()
				}
				return nil, err
			}
			cache[strings.Clone(ps)] = pm
		}
		if pm.match(xv.at(i)) != not {
			bitutil.SetBit(out, i)
		}
	}
	return boolArray(n, buf, validity), nil
}

type likeKind uint8

const (
	likeExact likeKind = iota
	likePrefix
	likeSuffix
	likeContains
	likeAny // '%': every non-NULL value
	likeWild
	likeRegexp
)

// likeMatcher is a compiled pattern. prefix is the literal text every
// match begins with (for push-down), lit the literal of the fast kinds.
type likeMatcher struct {
	kind   likeKind
	lit    []byte
	prefix []byte
	re     *regexp.Regexp
	wild   []wildTok
}

// wildTok is one element of a LIKE pattern for the wildcard matcher: a
// literal run, _ (one character) or % (any run).
type wildTok struct {
	wild byte // '%', '_' or 0
	lit  []byte
}

// wildMatch matches s against a LIKE pattern by the greedy algorithm with
// backtracking to the last %, in linear time for most patterns.
func wildMatch(s []byte, p []wildTok) bool {
	si, pi := 0, 0
	star, starSi := -1, 0
	for {
		if pi < len(p) {
			t := p[pi]
			switch t.wild {
			case '%':
				star, starSi = pi, si
				pi++
				continue
			case '_':
				if si < len(s) {
					_, size := utf8.DecodeRune(s[si:])
					si += size
					pi++
					continue
				}
			default:
				if bytes.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if star < 0 || starSi >= len(s) {
			return false
		}
		_, size := utf8.DecodeRune(s[starSi:])
		starSi += size
		si, pi = starSi, star+1
	}
}

// compileLike compiles a LIKE pattern.
func compileLike(p string, ci bool) (*likeMatcher, error) {
	type tok struct {
		wild byte // '%', '_' or 0 for a literal
		lit  string
	}
	var toks []tok
	for i := 0; i < len(p); {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) {
				return nil, sqlerr.New(sqlerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
			}
			_, size := utf8.DecodeRuneInString(p[i+1:])
			toks = append(toks, tok{lit: p[i+1 : i+1+size]})
			i += 1 + size
		case '%', '_':
			if c == '%' && len(toks) > 0 && toks[len(toks)-1].wild == '%' {
				i++
				continue
			}
			toks = append(toks, tok{wild: c})
			i++
		default:
			_, size := utf8.DecodeRuneInString(p[i:])
			toks = append(toks, tok{lit: p[i : i+size]})
			i += size
		}
	}
	m := &likeMatcher{}
	var prefix strings.Builder
	for _, t := range toks {
		if t.wild != 0 {
			break
		}
		prefix.WriteString(t.lit)
	}
	m.prefix = []byte(prefix.String())
	// Classify: literals with % only at the ends.
	inner := toks
	lead, trail := false, false
	if len(inner) > 0 && inner[0].wild == '%' {
		lead, inner = true, inner[1:]
	}
	if len(inner) > 0 && inner[len(inner)-1].wild == '%' {
		trail, inner = true, inner[:len(inner)-1]
	}
	simple := !ci
	var lit strings.Builder
	for _, t := range inner {
		if t.wild != 0 {
			simple = false
			break
		}
		lit.WriteString(t.lit)
	}
	if simple {
		m.lit = []byte(lit.String())
		switch {
		case (lead || trail) && len(inner) == 0:
			m.kind = likeAny
		case lead && trail:
			m.kind = likeContains
		case lead:
			m.kind = likeSuffix
		case trail:
			m.kind = likePrefix
		default:
			m.kind = likeExact
		}
		return m, nil
	}
	if !ci {
		for _, t := range toks {
			if t.wild != 0 {
				m.wild = append(m.wild, wildTok{wild: t.wild})
				continue
			}
			if n := len(m.wild); n > 0 && m.wild[n-1].wild == 0 {
				m.wild[n-1].lit = append(m.wild[n-1].lit, t.lit...)
				continue
			}
			m.wild = append(m.wild, wildTok{lit: []byte(t.lit)})
		}
		m.kind = likeWild
		return m, nil
	}
	var re strings.Builder
	re.WriteString("^(?s")
	if ci {
		re.WriteString("i")
	}
	re.WriteString(")")
	for _, t := range toks {
		switch t.wild {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(t.lit))
		}
	}
	re.WriteString("$")
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return nil, sqlerr.New(sqlerr.InvalidRegularExpression, "invalid regular expression: %v", err)
	}
	m.kind, m.re = likeRegexp, rx
	return m, nil
}

func (m *likeMatcher) match(s []byte) bool {
	switch m.kind {
	case likeExact:
		return bytes.Equal(s, m.lit)
	case likePrefix:
		return bytes.HasPrefix(s, m.lit)
	case likeSuffix:
		return bytes.HasSuffix(s, m.lit)
	case likeContains:
		return bytes.Contains(s, m.lit)
	case likeAny:
		return true
	case likeWild:
		return wildMatch(s, m.wild)
	}
	return m.re.Match(s)
}

// matchAll sets bit i of out where row i of v matches (does not match,
// with not), with one loop per kind.
func (m *likeMatcher) matchAll(v binaryView, n int, out []byte, not bool) {
	var tmp [block]bool
	lit := m.lit
	for base := 0; base < n; base += block {
		t := tmp[:min(block, n-base)]
		switch m.kind {
		case likePrefix: // lit is not empty
			first := lit[0]
			for i := range t {
				s := v.data[v.offs[base+i]:v.offs[base+i+1]]
				t[i] = (len(s) >= len(lit) && s[0] == first && bytes.Equal(s[1:len(lit)], lit[1:])) != not
			}
		case likeExact:
			for i := range t {
				t[i] = bytes.Equal(v.at(base+i), lit) != not
			}
		default:
			for i := range t {
				t[i] = m.match(v.at(base+i)) != not
			}
		}
		packBools(t, out[base/8:])
	}
}

// RegexExpr is X ~ Pattern and its variants: ~ (match), ~* (match ignoring
// case), !~ and !~* (no match). Patterns are Go RE2 syntax, which agrees
// with PostgreSQL's advanced regular expressions on the common subset but
// has no back-references or lookaround.
type RegexExpr struct {
	X, Pattern Expr
	Op         string
	m          *likeMatcher
}

// Regex is x op pattern for op one of ~ ~* !~ !~*. An invalid constant
// pattern is SQLSTATE 2201B.
func Regex(x, pattern Expr, op string) (Expr, error) {
	switch op {
	case "~", "~*", "!~", "!~*":
	default:
		return nil, opNotExist(op, x.Type(), pattern.Type())
	}
	x, pattern, err := textOperands(op, x, pattern)
	if err != nil {
		return nil, err
	}
	return newRegex(x, pattern, op)
}

func newRegex(x, pattern Expr, op string) (*RegexExpr, error) {
	r := &RegexExpr{X: x, Pattern: pattern, Op: op}
	if p, ok := pattern.(*Literal); ok && p.Value != nil {
		m, err := compileRegex(p.Value.(string), strings.HasSuffix(op, "*"))
		if err != nil {
			return nil, err
		}
		r.m = m
	}
	return r, nil
}

func compileRegex(p string, ci bool) (*likeMatcher, error) {
	if ci {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = se.Code.String()
		}
		return nil, sqlerr.New(sqlerr.InvalidRegularExpression, "invalid regular expression: %s", msg)
	}
	return &likeMatcher{kind: likeRegexp, re: re}, nil
}

func (r *RegexExpr) Type() arrow.DataType { return BoolType }
func (r *RegexExpr) Nullable() bool       { return r.X.Nullable() || r.Pattern.Nullable() }
func (r *RegexExpr) Children() []Expr     { return []Expr{r.X, r.Pattern} }
func (r *RegexExpr) WithChildren(ch []Expr) Expr {
	n, err := newRegex(ch[0], ch[1], r.Op)
	if err != nil {
		// As LikeExpr's: a bad constant pattern fails when evaluated.
		return &RegexExpr{X: ch[0], Pattern: ch[1], Op: r.Op}
	}
	return n
}
func (r *RegexExpr) mayFail() bool  { return r.m == nil }
func (r *RegexExpr) String() string { return wrap(r.X) + " " + r.Op + " " + wrap(r.Pattern) }

func (r *RegexExpr) Eval(ctx *Context, rec arrow.RecordBatch) (arrow.Array, error) {
	ci := strings.HasSuffix(r.Op, "*")
	return evalMatch(ctx, rec, r.X, r.Pattern, r.m, strings.HasPrefix(r.Op, "!"), func(p string) (*likeMatcher, error) {
		return compileRegex(p, ci)
	})
}
