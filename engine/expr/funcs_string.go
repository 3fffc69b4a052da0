package expr

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// String functions. Lengths and positions count characters (UTF-8 code
// points), as PostgreSQL does in a UTF-8 database; lower, upper and
// initcap use Unicode case mapping.

func init() {
	T, I, B, BY := kText, kInt4, kBool, kBytea
	def("lower", ks(T), T, mapText(strings.ToLower))
	def("upper", ks(T), T, mapText(strings.ToUpper))
	def("initcap", ks(T), T, mapText(initcap))
	def("reverse", ks(T), T, mapText(reverse))
	def("md5", ks(T), T, mapText(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	def("md5", ks(BY), T, mapText(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	for _, name := range []string{"length", "char_length", "character_length"} {
		def(name, ks(T), I, textInt(func(s string) int32 { return int32(utf8.RuneCountInString(s)) }))
	}
	def("length", ks(BY), I, textInt(func(s string) int32 { return int32(len(s)) }))
	def("octet_length", ks(T), I, textInt(func(s string) int32 { return int32(len(s)) }))
	def("octet_length", ks(BY), I, textInt(func(s string) int32 { return int32(len(s)) }))
	def("bit_length", ks(T), I, textInt(func(s string) int32 { return int32(8 * len(s)) }))
	def("ascii", ks(T), I, textInt(func(s string) int32 { r, _ := utf8.DecodeRuneInString(s); return int32(r) * b2i32(s != "") }))
	def("chr", ks(I), T, chr, canFail)
	for _, name := range []string{"substr", "substring"} {
		def(name, ks(T, I), T, substr)
		def(name, ks(T, I, I), T, substr, canFail)
		def(name, ks(BY, I), BY, substr)
		def(name, ks(BY, I, I), BY, substr, canFail)
	}
	def("concat", ks(kAny), T, concat, variadic, nonStrict)
	def("concat_ws", ks(T, kAny), T, concatWS, variadic, nonStrict)
	for _, t := range []struct {
		name        string
		left, right bool
	}{{"btrim", true, true}, {"trim", true, true}, {"ltrim", true, false}, {"rtrim", false, true}} {
		t := t
		def(t.name, ks(T), T, trimFn(t.left, t.right))
		def(t.name, ks(T, T), T, trimFn(t.left, t.right))
	}
	def("replace", ks(T, T, T), T, replaceFn)
	def("translate", ks(T, T, T), T, translateFn)
	def("strpos", ks(T, T), I, strpos)
	def("position", ks(T, T), I, strpos)
	def("left", ks(T, I), T, leftRight(true))
	def("right", ks(T, I), T, leftRight(false))
	def("lpad", ks(T, I), T, pad(true))
	def("lpad", ks(T, I, T), T, pad(true))
	def("rpad", ks(T, I), T, pad(false))
	def("rpad", ks(T, I, T), T, pad(false))
	def("repeat", ks(T, I), T, repeatFn, canFail)
	def("split_part", ks(T, T, I), T, splitPart, canFail)
	def("starts_with", ks(T, T), B, func(c *call) (arrow.Array, error) {
		s, p := c.text(0), c.text(1)
		return c.boolRows(func(i int) bool { return strings.HasPrefix(s.str(i), p.str(i)) })
	})
	def("to_hex", ks(kInt8), T, func(c *call) (arrow.Array, error) {
		v := c.i64(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) { return strconv.AppendUint(dst, uint64(v[i]), 16), nil })
	})
	def("to_hex", ks(I), T, func(c *call) (arrow.Array, error) {
		v := c.i32(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) { return strconv.AppendUint(dst, uint64(uint32(v[i])), 16), nil })
	})
	def("like_escape", ks(T, T), T, likeEscape, canFail)
	def("similar_to_escape", ks(T), T, similarEscape, canFail)
	def("similar_to_escape", ks(T, T), T, similarEscape, canFail)
}

func b2i32(b bool) int32 { return int32(b2u(b)) }

// mapText applies f to every text value.
func mapText(f func(string) string) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		s := c.text(0)
		return c.textRows(func(dst []byte, i int) ([]byte, error) { return append(dst, f(s.str(i))...), nil })
	}
}

// textInt maps every text (or bytea) value to an integer.
func textInt(f func(string) int32) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		s := c.text(0)
		return fixedRows(c, func(i int) (int32, error) { return f(s.str(i)), nil })
	}
}

// initcap capitalises the first letter of every run of letters and digits
// and lower-cases the rest.
func initcap(s string) string {
	var b strings.Builder
	inWord := false
	for _, r := range s {
		if inWord {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return b.String()
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

func chr(c *call) (arrow.Array, error) {
	v := c.i32(0)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		switch r := v[i]; {
		case r == 0:
			return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "null character not permitted")
		case r < 0 || r > unicode.MaxRune || (r >= 0xD800 && r <= 0xDFFF):
			return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "requested character too large for encoding: %d", r)
		}
		return utf8.AppendRune(dst, rune(v[i])), nil
	})
}

// runeSlice is s[from:to) counted in characters (bytes for bytea).
func runeSlice(s string, from, to int64, bytes bool) string {
	if from < 0 {
		from = 0
	}
	if bytes {
		if from >= int64(len(s)) || to <= from {
			return ""
		}
		return s[from:min(to, int64(len(s)))]
	}
	start, end := -1, len(s)
	var k int64
	for off := range s {
		if k == from {
			start = off
		}
		if k == to {
			end = off
			break
		}
		k++
	}
	if start < 0 || to <= from {
		return ""
	}
	return s[start:end]
}

// substr is substr(s, start [, count]): 1-based; a start before 1 still
// counts toward count, as in PostgreSQL; a negative count is an error.
func substr(c *call) (arrow.Array, error) {
	s, start := c.text(0), c.i32(1)
	var count []int32
	if len(c.args) > 2 {
		count = c.i32(2)
	}
	bytes := c.ret == kBytea
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		from := int64(start[i]) - 1
		to := int64(1) << 62
		if count != nil {
			if count[i] < 0 {
				return nil, sqlerr.New(sqlerr.SubstringError, "negative substring length not allowed")
			}
			to = from + int64(count[i])
		}
		return append(dst, runeSlice(s.str(i), from, to, bytes)...), nil
	})
}

// concat joins the text of every non-NULL argument; booleans print as
// t/f (the output function), as in PostgreSQL.
func concat(c *call) (arrow.Array, error) { return concatImpl(c, nil) }

func concatWS(c *call) (arrow.Array, error) {
	sep := c.args[0]
	if sep.NullN() == sep.Len() {
		return allNull(c.ctx.Alloc, TextType, c.n), nil
	}
	return concatImpl(&call{ctx: c.ctx, n: c.n, args: c.args[1:], ret: kText}, sep)
}

func concatImpl(c *call, sep arrow.Array) (arrow.Array, error) {
	texts := make([]arrow.Array, len(c.args))
	defer func() {
		for _, t := range texts {
			if t != nil {
				t.Release()
			}
		}
	}()
	views := make([]binaryView, len(c.args))
	for j, a := range c.args {
		texts[j] = toText(c.ctx, a, kindOf(a.DataType()), true)
		views[j] = viewOf(texts[j])
	}
	var sv binaryView
	if sep != nil {
		sv = viewOf(sep)
	}
	b := newTextBuilder(c.ctx.Alloc, TextType, c.n, c.n*16)
	for i := 0; i < c.n; i++ {
		if sep != nil && sep.IsNull(i) {
			b.appendNull()
			continue
		}
		first := true
		for j, t := range texts {
			if t.IsNull(i) {
				continue
			}
			if sep != nil && !first {
				b.data = append(b.data, sv.at(i)...)
			}
			b.data = append(b.data, views[j].at(i)...)
			first = false
		}
		b.offs = append(b.offs, int32(len(b.data)))
	}
	return b.finish(), nil
}

func trimFn(left, right bool) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		s := c.text(0)
		var chars binaryView
		if len(c.args) > 1 {
			chars = c.text(1)
		}
		return c.textRows(func(dst []byte, i int) ([]byte, error) {
			cut := " "
			if len(c.args) > 1 {
				cut = chars.str(i)
			}
			v := s.str(i)
			if left {
				v = strings.TrimLeft(v, cut)
			}
			if right {
				v = strings.TrimRight(v, cut)
			}
			return append(dst, v...), nil
		})
	}
}

func replaceFn(c *call) (arrow.Array, error) {
	s, from, to := c.text(0), c.text(1), c.text(2)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		if from.str(i) == "" {
			return append(dst, s.str(i)...), nil
		}
		return append(dst, strings.ReplaceAll(s.str(i), from.str(i), to.str(i))...), nil
	})
}

// translateFn replaces each character of from by the character at the
// same place in to, deleting it when to is shorter.
func translateFn(c *call) (arrow.Array, error) {
	s, from, to := c.text(0), c.text(1), c.text(2)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		fr, tr := []rune(from.str(i)), []rune(to.str(i))
		for _, r := range s.str(i) {
			k := -1
			for j, f := range fr {
				if f == r {
					k = j
					break
				}
			}
			switch {
			case k < 0:
				dst = utf8.AppendRune(dst, r)
			case k < len(tr):
				dst = utf8.AppendRune(dst, tr[k])
			}
		}
		return dst, nil
	})
}

func strpos(c *call) (arrow.Array, error) {
	s, sub := c.text(0), c.text(1)
	return fixedRows(c, func(i int) (int32, error) {
		k := strings.Index(s.str(i), sub.str(i))
		if k < 0 {
			return 0, nil
		}
		return int32(utf8.RuneCountInString(s.str(i)[:k])) + 1, nil
	})
}

// leftRight is left(s, n) / right(s, n): the first (last) n characters,
// or all but the last (first) -n when n is negative.
func leftRight(isLeft bool) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		s, n := c.text(0), c.i32(1)
		return c.textRows(func(dst []byte, i int) ([]byte, error) {
			v := s.str(i)
			total := int64(utf8.RuneCountInString(v))
			k := int64(n[i])
			if k < 0 {
				k = max(total+k, 0)
			}
			if isLeft {
				return append(dst, runeSlice(v, 0, k, false)...), nil
			}
			return append(dst, runeSlice(v, total-min(k, total), total, false)...), nil
		})
	}
}

// pad is lpad/rpad: fill to length characters with fill (a space by
// default), truncating a longer string.
func pad(isLeft bool) func(c *call) (arrow.Array, error) {
	return func(c *call) (arrow.Array, error) {
		s, n := c.text(0), c.i32(1)
		var fill binaryView
		if len(c.args) > 2 {
			fill = c.text(2)
		}
		return c.textRows(func(dst []byte, i int) ([]byte, error) {
			v, f := s.str(i), " "
			if len(c.args) > 2 {
				f = fill.str(i)
			}
			want := int64(max(n[i], 0))
			have := int64(utf8.RuneCountInString(v))
			if have >= want || f == "" {
				return append(dst, runeSlice(v, 0, want, false)...), nil
			}
			fr := []rune(f)
			padding := make([]rune, want-have)
			for k := range padding {
				padding[k] = fr[k%len(fr)]
			}
			if isLeft {
				return append(append(dst, string(padding)...), v...), nil
			}
			return append(append(dst, v...), string(padding)...), nil
		})
	}
}

func repeatFn(c *call) (arrow.Array, error) {
	s, n := c.text(0), c.i32(1)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		if n[i] <= 0 {
			return dst, nil
		}
		if int64(len(s.str(i)))*int64(n[i]) > 1<<30-1 {
			return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "requested length too large")
		}
		return append(dst, strings.Repeat(s.str(i), int(n[i]))...), nil
	})
}

// splitPart is split_part(s, delim, n): field n (from the end when
// negative); field 0 is an error.
func splitPart(c *call) (arrow.Array, error) {
	s, d, n := c.text(0), c.text(1), c.i32(2)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		k := int(n[i])
		if k == 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "field position must not be zero")
		}
		var parts []string
		if d.str(i) == "" {
			parts = []string{s.str(i)}
			if s.str(i) == "" {
				parts = nil
			}
		} else {
			parts = strings.Split(s.str(i), d.str(i))
		}
		if k < 0 {
			k = len(parts) + k + 1
		}
		if k < 1 || k > len(parts) {
			return dst, nil
		}
		return append(dst, parts[k-1]...), nil
	})
}

// likeEscape rewrites a LIKE pattern written with ESCAPE e into the
// default backslash form (PostgreSQL's like_escape): an empty escape
// disables escaping.
func likeEscape(c *call) (arrow.Array, error) {
	p, e := c.text(0), c.text(1)
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		esc := e.str(i)
		if utf8.RuneCountInString(esc) > 1 {
			return nil, sqlerr.New(sqlerr.InvalidEscapeSequence, "invalid escape string").
				WithHint("Escape string must be empty or one character.")
		}
		pat := p.str(i)
		if esc == `\` {
			return append(dst, pat...), nil
		}
		escaping := false
		for _, r := range pat {
			switch {
			case escaping: // the escaped character, now escaped by backslash
				dst = append(dst, '\\')
				dst = utf8.AppendRune(dst, r)
				escaping = false
			case esc != "" && string(r) == esc:
				escaping = true
			case r == '\\':
				dst = append(dst, `\\`...)
			default:
				dst = utf8.AppendRune(dst, r)
			}
		}
		if escaping {
			return nil, sqlerr.New(sqlerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
		}
		return dst, nil
	})
}

// similarEscape turns a SIMILAR TO pattern into an anchored regular
// expression (PostgreSQL's similar_to_escape): % is .*, _ is ., the
// escape (backslash by default) quotes the next character.
func similarEscape(c *call) (arrow.Array, error) {
	p := c.text(0)
	var e binaryView
	if len(c.args) > 1 {
		e = c.text(1)
	}
	return c.textRows(func(dst []byte, i int) ([]byte, error) {
		esc := `\`
		if len(c.args) > 1 {
			esc = e.str(i)
			if utf8.RuneCountInString(esc) > 1 {
				return nil, sqlerr.New(sqlerr.InvalidEscapeSequence, "invalid escape string").
					WithHint("Escape string must be empty or one character.")
			}
		}
		dst = append(dst, "^(?:"...)
		escaping, inClass := false, false
		for _, r := range p.str(i) {
			switch {
			case escaping:
				dst = append(dst, regexpQuote(r)...)
				escaping = false
			case esc != "" && string(r) == esc:
				escaping = true
			case inClass:
				if r == ']' {
					inClass = false
				}
				dst = utf8.AppendRune(dst, r)
			case r == '[':
				inClass = true
				dst = append(dst, '[')
			case r == '%':
				dst = append(dst, ".*"...)
			case r == '_':
				dst = append(dst, '.')
			case r == '.' || r == '^' || r == '$':
				dst = append(dst, '\\')
				dst = utf8.AppendRune(dst, r)
			default:
				dst = utf8.AppendRune(dst, r)
			}
		}
		return append(dst, ")$"...), nil
	})
}

func regexpQuote(r rune) string {
	if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
		return `\` + string(r)
	}
	return string(r)
}
