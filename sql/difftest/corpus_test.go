package difftest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// query is one query of the corpus.
type query struct {
	name string // "hand-012", "gen-0042": the subtest's name
	sql  string
	// ordered says the query has a top-level ORDER BY that orders every
	// row, so results compare in order; otherwise as multisets.
	ordered bool
	// wantErr is the SQLSTATE PostgreSQL raises, "" if it succeeds.
	wantErr string
}

// handWritten are queries written for the corpus: every clause and
// operator the engine supports, over the generated tables. An entry
// starting with a SQLSTATE and a colon must fail with it.
var handWritten = []string{
	// Scans and key ranges on events (row key id; split at 2000, 6000, 10000, 14000).
	"SELECT count(*) FROM events",
	"SELECT * FROM events WHERE id = 4242",
	"SELECT * FROM events WHERE id = -1500",
	"SELECT * FROM events WHERE id = 99999",
	"SELECT id, usr, amount FROM events WHERE id BETWEEN 1990 AND 2010 ORDER BY id",
	"SELECT id FROM events WHERE id IN (-2000, 0, 1999, 2000, 2001, 5999, 6000, 17999, 18000) ORDER BY id",
	"SELECT count(*), min(id), max(id) FROM events WHERE id < -1000 OR id >= 17000",
	"SELECT count(*) FROM events WHERE (id > 100 AND id < 200) OR (id > 9000 AND id < 9100) OR id = 13999",
	"SELECT count(*) FROM events WHERE NOT (id >= 0)",
	"SELECT count(*) FROM events WHERE id > 5000 AND id < 5000",
	"SELECT count(*), sum(amount) FROM events WHERE id <> 7",
	"SELECT id, ts FROM events ORDER BY id LIMIT 10",
	"SELECT id, ts FROM events ORDER BY id DESC LIMIT 10 OFFSET 5",
	"SELECT id FROM events WHERE id >= 5995 ORDER BY id LIMIT 10",
	"SELECT id, amount FROM events ORDER BY amount DESC NULLS LAST, id LIMIT 25",
	"SELECT id, score FROM events WHERE score IS NOT NULL ORDER BY score, id LIMIT 25",
	"SELECT id, usr FROM events ORDER BY usr, id LIMIT 40",
	"SELECT id, usr FROM events ORDER BY usr DESC, id DESC LIMIT 40",
	"SELECT id, ts FROM events ORDER BY ts NULLS FIRST, id LIMIT 20",
	// Filters of every kind.
	"SELECT count(*) FROM events WHERE usr = ''",
	"SELECT count(*) FROM events WHERE usr IS NULL",
	"SELECT count(*) FROM events WHERE usr LIKE 'a%'",
	"SELECT count(*) FROM events WHERE usr LIKE '%\\_%'",
	"SELECT count(*) FROM events WHERE usr LIKE '100\\%'",
	"SELECT count(*) FROM events WHERE usr ILIKE 'a%'",
	"SELECT count(*) FROM events WHERE usr ILIKE 'åsa'",
	"SELECT count(*) FROM events WHERE usr ~ '^[a-z]+$'",
	"SELECT count(*) FROM events WHERE usr !~ '[aeiou]'",
	"SELECT count(*) FROM events WHERE usr = 'o''brien'",
	"SELECT count(*) FROM events WHERE note LIKE '%\\\\%'",
	"SELECT count(*) FROM events WHERE note LIKE '%' || chr(9) || '%'",
	"SELECT count(*) FROM events WHERE usr IN ('alice', 'Alice', 'zoë', '日本')",
	"SELECT count(*) FROM events WHERE usr NOT IN ('alice', 'bob')",
	"SELECT count(*) FROM events WHERE usr NOT IN ('alice', NULL)",
	"SELECT count(*) FROM events WHERE amount BETWEEN -10 AND 10",
	"SELECT count(*) FROM events WHERE amount NOT BETWEEN -990 AND 990",
	"SELECT count(*) FROM events WHERE flag",
	"SELECT count(*) FROM events WHERE NOT flag",
	"SELECT count(*) FROM events WHERE flag IS NOT TRUE",
	"SELECT count(*) FROM events WHERE flag IS NULL AND amount IS NULL",
	"SELECT count(*) FROM events WHERE amount > 0 OR score > 0",
	"SELECT count(*) FROM events WHERE NOT (amount > 0 OR score > 0)",
	"SELECT count(*) FROM events WHERE amount % 7 = -3",
	"SELECT count(*) FROM events WHERE ts >= TIMESTAMP '2024-01-10' AND ts < TIMESTAMP '2024-01-11'",
	"SELECT count(*) FROM events WHERE day = DATE '2024-01-15'",
	"SELECT count(*) FROM events WHERE ts::date <> day",
	"SELECT count(*) FROM events WHERE coalesce(amount, 0) = 0",
	"SELECT count(*) FROM events WHERE nullif(usr, '') IS NULL",
	"SELECT count(*) FROM events WHERE CASE WHEN flag THEN amount ELSE -amount END > 500",
	"SELECT count(*) FROM events WHERE length(note) > 12",
	"SELECT count(*) FROM events WHERE upper(usr) = 'ALICE'",
	// Expressions in the projection.
	"SELECT id, amount * 2 + 1, -amount, abs(amount), amount / 7, amount % 7 FROM events WHERE id BETWEEN 0 AND 300",
	"SELECT id, score * 2, score / 3, round(score), abs(score), score + amount FROM events WHERE id BETWEEN 300 AND 600",
	"SELECT id, upper(usr), lower(usr), length(usr), substr(usr, 2, 3), usr || '#' || id, concat(usr, note) FROM events WHERE id BETWEEN 600 AND 900",
	"SELECT id, date_trunc('day', ts), date_trunc('month', ts), extract(hour FROM ts), extract(dow FROM day), day + 7 FROM events WHERE id BETWEEN 900 AND 1200",
	"SELECT id, coalesce(note, '(none)'), nullif(amount, 0), CASE WHEN amount > 0 THEN 'pos' WHEN amount < 0 THEN 'neg' ELSE 'zero' END FROM events WHERE id BETWEEN 1200 AND 1500",
	"SELECT id, amount::double precision / 4, score::bigint, qty::text || 'x', ts::date, CAST(amount AS text) FROM events WHERE id BETWEEN 1500 AND 1800",
	"SELECT id, amount * qty, qty * 1000000, amount + qty FROM events WHERE id BETWEEN 1800 AND 2100",
	"SELECT 1 + 2, 'a' || 'b', 7 / 2, 7.0 / 2, NULL::integer",
	// Aggregates.
	"SELECT count(*), count(amount), count(DISTINCT amount), sum(amount), min(amount), max(amount), avg(amount) FROM events",
	"SELECT sum(score), avg(score), min(score), max(score), stddev(score) FROM events",
	"SELECT min(usr), max(usr), min(ts), max(ts), min(day), max(day), bool_and(flag), bool_or(flag) FROM events",
	"SELECT count(DISTINCT usr), count(DISTINCT day), count(DISTINCT flag) FROM events",
	"SELECT usr, count(*), sum(amount), avg(score) FROM events GROUP BY usr ORDER BY usr",
	"SELECT flag, count(*), min(amount), max(amount) FROM events GROUP BY flag ORDER BY flag",
	"SELECT day, count(*) FROM events GROUP BY day HAVING count(*) > 300 ORDER BY day",
	"SELECT date_trunc('week', ts) AS w, count(*), sum(amount) FROM events GROUP BY w ORDER BY w",
	"SELECT usr, flag, count(*) FROM events WHERE id < 3000 GROUP BY usr, flag ORDER BY usr, flag",
	"SELECT amount % 10 AS m, count(*) FROM events GROUP BY m ORDER BY m",
	"SELECT usr, sum(amount) FROM events GROUP BY usr HAVING sum(amount) < 0 ORDER BY usr",
	"SELECT count(*), sum(amount) FROM events WHERE false",
	"SELECT usr, count(*) FROM events WHERE false GROUP BY usr",
	"SELECT DISTINCT usr FROM events ORDER BY usr",
	"SELECT DISTINCT flag, qty % 3 FROM events",
	"SELECT DISTINCT day FROM events WHERE id > 17000 ORDER BY day DESC",
	// Joins with the dimension table.
	"SELECT e.id, e.usr, u.region, u.tier FROM events e JOIN users u ON e.usr = u.usr WHERE e.id < -1800",
	"SELECT e.id, u.usr FROM events e LEFT JOIN users u ON e.usr = u.usr WHERE e.id BETWEEN 0 AND 400",
	"SELECT u.usr, count(e.id) FROM events e RIGHT JOIN users u ON e.usr = u.usr GROUP BY u.usr ORDER BY u.usr",
	"SELECT u.usr, e.id FROM users u LEFT JOIN events e ON e.usr = u.usr AND e.id < -1990 ORDER BY u.usr, e.id",
	"SELECT coalesce(e.usr, u.usr), count(*) FROM (SELECT * FROM events WHERE id < 0) e FULL JOIN users u ON e.usr = u.usr GROUP BY coalesce(e.usr, u.usr)",
	"SELECT u.region, count(*), sum(e.amount), avg(e.score) FROM events e JOIN users u ON e.usr = u.usr GROUP BY u.region ORDER BY u.region",
	"SELECT u.tier, e.flag, count(*) FROM events e JOIN users u ON e.usr = u.usr WHERE e.amount > 0 GROUP BY u.tier, e.flag ORDER BY u.tier, e.flag",
	"SELECT count(*) FROM events e JOIN users u ON e.usr = u.usr AND u.since > e.day - 500",
	"SELECT e.id, m.host FROM events e JOIN metrics m ON m.ts = e.ts WHERE e.id < 100",
	"SELECT a.id, b.id FROM events a JOIN events b ON a.id = b.id + 1 WHERE a.id BETWEEN 5990 AND 6010 ORDER BY a.id",
	// Subqueries, CTEs, set operations, windows.
	"SELECT count(*) FROM events WHERE usr IN (SELECT usr FROM users WHERE region = 'eu')",
	"SELECT count(*) FROM events WHERE usr NOT IN (SELECT usr FROM users WHERE tier = 1)",
	"SELECT count(*) FROM events WHERE usr NOT IN (SELECT usr FROM users WHERE region IS NULL OR true)",
	"SELECT count(*) FROM events e WHERE EXISTS (SELECT 1 FROM users u WHERE u.usr = e.usr AND u.tier = 3)",
	"SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.usr = e.usr)",
	"SELECT id, amount FROM events WHERE amount = (SELECT max(amount) FROM events) ORDER BY id",
	"SELECT s.usr, s.n FROM (SELECT usr, count(*) AS n FROM events GROUP BY usr) s WHERE s.n > 1000 ORDER BY s.usr",
	"WITH big AS (SELECT * FROM events WHERE amount > 900), eu AS (SELECT usr FROM users WHERE region = 'eu') SELECT count(*), sum(amount) FROM big WHERE usr IN (SELECT usr FROM eu)",
	"SELECT usr FROM events WHERE id < -1900 UNION SELECT usr FROM users",
	"SELECT usr FROM events WHERE id < -1900 UNION ALL SELECT usr FROM users",
	"SELECT id FROM events WHERE id < -1995 UNION ALL SELECT id FROM events WHERE id > 17995 ORDER BY id",
	"SELECT usr, id, rn FROM (SELECT usr, id, row_number() OVER (PARTITION BY usr ORDER BY amount DESC NULLS LAST, id) AS rn FROM events) x WHERE rn <= 2 ORDER BY usr, rn",
	"SELECT id, row_number() OVER (ORDER BY id) FROM events WHERE id BETWEEN 100 AND 150 ORDER BY id",
	// The composite key of metrics (host, ts; split at 'db' and 'web-2').
	"SELECT host, count(*), sum(mem), avg(cpu), min(ts), max(ts) FROM metrics GROUP BY host ORDER BY host",
	"SELECT host, ts, cpu FROM metrics WHERE host = 'db' AND ts < TIMESTAMP '2024-01-01 01:00:00' ORDER BY ts",
	"SELECT DISTINCT host FROM metrics WHERE host LIKE 'web%' ORDER BY host",
	"SELECT DISTINCT host FROM metrics WHERE host LIKE 'db%' ORDER BY host",
	"SELECT count(*) FROM metrics WHERE host >= 'db' AND host < 'web-2'",
	"SELECT count(*) FROM metrics WHERE host IN ('', 'wéb', 'Web-3')",
	"SELECT host, ts FROM metrics WHERE (host = 'app-1' AND ts > TIMESTAMP '2024-01-01 03:00:00') OR host = '' ORDER BY host, ts LIMIT 30",
	"SELECT host, ts, mem FROM metrics ORDER BY host DESC, ts DESC LIMIT 15",
	// Errors, compared by SQLSTATE.
	"22012:SELECT amount / (id - id) FROM events WHERE id = 10",
	"22012:SELECT sum(amount / qty) FROM events",
	"22003:SELECT amount * 9223372036854775807 FROM events WHERE amount > 1",
	"22003:SELECT qty * 2147483647 FROM events WHERE qty > 1",
	"22P02:SELECT count(*) FROM events WHERE usr::integer > 0",
	"42P01:SELECT * FROM no_such_table",
	"42703:SELECT no_such_column FROM events",
	"42883:SELECT count(*) FROM events WHERE usr > 5",
	"42804:SELECT count(*) FROM events WHERE amount",
	"42803:SELECT usr, amount FROM events GROUP BY usr",
	"42702:SELECT usr FROM events e JOIN users u ON e.usr = u.usr",
	"42601:SELECT FROM events WHERE",
	"21000:SELECT (SELECT id FROM events WHERE id > 0)",
}

// corpus returns the hand-written queries and n generated ones.
func corpus(seed uint64, n int) []query {
	var qs []query
	for i, h := range handWritten {
		q := query{name: fmt.Sprintf("hand-%03d", i), sql: h}
		if code, sql, ok := strings.Cut(h, ":"); ok && len(code) == 5 && !strings.Contains(code, " ") {
			q.wantErr, q.sql = code, sql
		}
		q.ordered = hasTopLevelOrderBy(q.sql)
		qs = append(qs, q)
	}
	g := &generator{rng: rand.New(rand.NewPCG(seed, 2))}
	for i := 0; i < n; i++ {
		sql, ordered := g.query()
		qs = append(qs, query{name: fmt.Sprintf("gen-%04d", i), sql: sql, ordered: ordered})
	}
	return qs
}

// hasTopLevelOrderBy reports whether sql has an ORDER BY outside
// parentheses and string literals.
func hasTopLevelOrderBy(sql string) bool {
	depth, inStr := 0, false
	up := strings.ToUpper(sql)
	for i := 0; i < len(up); i++ {
		switch c := up[i]; {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(up[i:], "ORDER BY"):
			return true
		}
	}
	return false
}

// generator makes random queries over the generated tables. Every query
// it makes succeeds on PostgreSQL (no division, no overflow), and every
// ORDER BY it writes ends with a unique key, so ordered results have no
// ties.
type generator struct{ rng *rand.Rand }

func (g *generator) intn(n int) int           { return g.rng.IntN(n) }
func (g *generator) chance(pct int) bool      { return g.rng.IntN(100) < pct }
func (g *generator) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

// query returns a query and whether it is ordered.
func (g *generator) query() (string, bool) {
	switch r := g.intn(100); {
	case r < 25:
		return g.scan()
	case r < 40:
		return g.globalAgg(), false
	case r < 60:
		return g.groupBy()
	case r < 75:
		return g.join()
	case r < 82:
		return g.distinct()
	case r < 92:
		return g.metrics()
	default:
		return g.subquery(), false
	}
}

// eventsCols are projectable expressions over events (alias e).
var eventsCols = []string{
	"e.id", "e.usr", "e.ts", "e.amount", "e.score", "e.flag", "e.note", "e.day", "e.qty",
	"e.amount * 2", "e.score + e.amount", "upper(e.usr)", "substr(e.note, 1, 4)",
	"coalesce(e.note, 'none')", "length(e.usr)", "abs(e.amount)", "round(e.score)",
	"date_trunc('month', e.ts)", "extract(dow FROM e.day)", "e.id % 10",
	"CASE WHEN e.amount > 0 THEN 'pos' ELSE 'neg' END", "e.usr || '-' || e.id", "e.ts::date",
	"concat(e.usr, e.note)", "e.amount - e.qty", "nullif(e.qty, 0)", "e.flag IS NULL",
	"e.day + e.qty", "lower(e.note)", "e.score * e.qty",
}

func (g *generator) projection(cols []string, min, max int) string {
	n := min + g.intn(max-min+1)
	out := make([]string, n)
	for i := range out {
		out[i] = cols[g.intn(len(cols))]
	}
	return strings.Join(out, ", ")
}

// scan: a filtered projection of events, ordered by a column and the key
// with a LIMIT, or unordered.
func (g *generator) scan() (string, bool) {
	sql := fmt.Sprintf("SELECT %s FROM events e WHERE %s", g.projection(eventsCols, 1, 5), g.pred(2))
	if g.chance(50) {
		return sql, false
	}
	order := "e.id"
	if g.chance(60) {
		col := g.pick("e.amount", "e.score", "e.usr", "e.ts", "e.day", "e.flag", "e.qty", "e.note")
		order = col + g.pick("", " DESC", " NULLS FIRST", " DESC NULLS LAST") + ", e.id" + g.pick("", " DESC")
	} else if g.chance(30) {
		order = "e.id DESC"
	}
	sql += " ORDER BY " + order + fmt.Sprintf(" LIMIT %d", 1+g.intn(60))
	if g.chance(30) {
		sql += fmt.Sprintf(" OFFSET %d", g.intn(50))
	}
	return sql, true
}

var aggs = []string{
	"count(*)", "count(e.amount)", "count(DISTINCT e.usr)", "sum(e.amount)", "min(e.amount)",
	"max(e.amount)", "avg(e.amount)", "sum(e.score)", "avg(e.score)", "min(e.score)", "max(e.score)",
	"min(e.usr)", "max(e.usr)", "min(e.ts)", "max(e.ts)", "min(e.day)", "max(e.day)",
	"bool_and(e.flag)", "bool_or(e.flag)", "stddev(e.score)", "sum(e.qty)", "avg(e.qty)",
	"count(DISTINCT e.day)", "sum(e.amount * e.qty)", "max(length(e.note))", "count(e.note)",
}

func (g *generator) globalAgg() string {
	return fmt.Sprintf("SELECT %s FROM events e WHERE %s", g.projection(aggs, 1, 5), g.pred(2))
}

var groupKeys = []string{
	"e.usr", "e.flag", "e.day", "e.amount % 5", "date_trunc('month', e.ts)", "extract(dow FROM e.ts)",
	"e.id / 1000", "length(e.note)", "substr(e.usr, 1, 1)", "e.qty % 4", "e.score > 0",
	"e.note IS NULL",
}

// groupBy: one or two group keys (aliased g1, g2), aggregates, maybe a
// HAVING, ordered by the keys (unique per group) or unordered.
func (g *generator) groupBy() (string, bool) {
	k := 1 + g.intn(2)
	var sel, by, aliases []string
	for i := 0; i < k; i++ {
		key := groupKeys[g.intn(len(groupKeys))]
		a := fmt.Sprintf("g%d", i+1)
		sel = append(sel, key+" AS "+a)
		by = append(by, key)
		aliases = append(aliases, a+g.pick("", " DESC", " NULLS FIRST"))
	}
	sql := fmt.Sprintf("SELECT %s, %s FROM events e WHERE %s GROUP BY %s",
		strings.Join(sel, ", "), g.projection(aggs, 1, 4), g.pred(1), strings.Join(by, ", "))
	if g.chance(30) {
		sql += g.pick(fmt.Sprintf(" HAVING count(*) > %d", g.intn(200)),
			fmt.Sprintf(" HAVING sum(e.amount) > %d", g.intn(2000)-1000),
			" HAVING bool_or(e.flag)")
	}
	if g.chance(50) {
		return sql, false
	}
	sql += " ORDER BY " + strings.Join(aliases, ", ")
	if g.chance(40) {
		sql += fmt.Sprintf(" LIMIT %d", 1+g.intn(20))
	}
	return sql, true
}

// join: events with users, of every kind, projected, filtered, and maybe
// aggregated by a users column.
func (g *generator) join() (string, bool) {
	kind := g.pick("JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN")
	on := "e.usr = u.usr"
	if g.chance(20) {
		on += g.pick(" AND u.tier > 1", " AND e.amount > 0", " AND u.since < e.day")
	}
	where := g.pred(1)
	if kind == "RIGHT JOIN" || kind == "FULL JOIN" {
		// Keep the users rows no event matched (e.id IS NULL), which a
		// filter on events alone would drop.
		where = g.pred(1) + " OR e.id IS NULL"
	}
	if g.chance(40) {
		key := g.pick("u.region", "u.tier", "u.region, u.tier", "e.flag, u.region")
		sql := fmt.Sprintf("SELECT %s, %s FROM events e %s users u ON %s WHERE %s GROUP BY %s",
			key, g.projection(aggs, 1, 3), kind, on, where, key)
		if g.chance(50) {
			return sql, false
		}
		return sql + " ORDER BY " + key, true
	}
	cols := []string{"e.id", "e.usr", "e.amount", "u.usr", "u.region", "u.tier", "u.since", "e.day - u.since", "coalesce(u.region, 'none')", "e.score"}
	sql := fmt.Sprintf("SELECT %s FROM events e %s users u ON %s WHERE %s",
		g.projection(cols, 1, 4), kind, on, where)
	if g.chance(50) {
		return sql, false
	}
	return sql + fmt.Sprintf(" ORDER BY e.id, u.usr LIMIT %d", 1+g.intn(50)), true
}

func (g *generator) distinct() (string, bool) {
	col := g.pick("e.usr", "e.flag", "e.day", "e.qty", "e.amount % 3", "substr(e.note, 1, 2)", "e.usr, e.flag", "e.qty % 5, e.flag")
	sql := fmt.Sprintf("SELECT DISTINCT %s FROM events e WHERE %s", col, g.pred(2))
	if g.chance(50) {
		return sql, false
	}
	return sql + " ORDER BY " + col, true
}

// metrics: key ranges over the composite key (host, ts).
func (g *generator) metrics() (string, bool) {
	var preds []string
	for n := 1 + g.intn(2); n > 0; n-- {
		preds = append(preds, g.metricsPred())
	}
	where := strings.Join(preds, g.pick(" AND ", " OR "))
	switch g.intn(3) {
	case 0:
		return fmt.Sprintf("SELECT host, count(*), sum(mem), max(cpu) FROM metrics WHERE %s GROUP BY host ORDER BY host", where), true
	case 1:
		return fmt.Sprintf("SELECT host, ts, cpu, mem FROM metrics WHERE %s ORDER BY host%s, ts%s LIMIT %d",
			where, g.pick("", " DESC"), g.pick("", " DESC"), 1+g.intn(40)), true
	}
	return fmt.Sprintf("SELECT count(*), min(ts), max(ts), avg(cpu) FROM metrics WHERE %s", where), false
}

func (g *generator) metricsPred() string {
	h := quote(hosts[g.intn(len(hosts))])
	ts := g.timestamp()
	switch g.intn(8) {
	case 0:
		return "host = " + h
	case 1:
		return fmt.Sprintf("host IN (%s, %s)", h, quote(hosts[g.intn(len(hosts))]))
	case 2:
		return "host LIKE " + quote(g.pick("web%", "db%", "app-_", "w%", "%1%", ""))
	case 3:
		return "host " + g.pick("<", "<=", ">", ">=") + " " + h
	case 4:
		return fmt.Sprintf("(host = %s AND ts >= %s)", h, ts)
	case 5:
		return "ts " + g.pick("<", ">=") + " " + ts
	case 6:
		return fmt.Sprintf("cpu %s %g", g.pick("<", ">"), float64(g.intn(400))*0.25)
	}
	return fmt.Sprintf("NOT (host BETWEEN %s AND %s)", h, quote(hosts[g.intn(len(hosts))]))
}

// subquery: IN / EXISTS against users, a derived table, or correlated
// subqueries that run per row of users (EXISTS under OR, non-equality
// correlation, a subquery in the select list).
func (g *generator) subquery() string {
	switch g.intn(6) {
	case 4:
		return fmt.Sprintf("SELECT u.usr, u.tier, EXISTS (SELECT 1 FROM events e WHERE e.usr = u.usr AND %s) OR u.tier = %d AS x FROM users u",
			g.pred(1), 1+g.intn(3))
	case 5:
		return fmt.Sprintf("SELECT u.usr, (SELECT %s FROM events e WHERE e.usr = u.usr AND e.day %s u.since AND %s) AS v FROM users u WHERE u.usr IN (SELECT e.usr FROM events e WHERE %s)",
			g.pick("max(e.amount)", "count(*)", "min(e.id)"), g.pick("<", ">="), g.pred(1), g.pred(1))
	case 0:
		return fmt.Sprintf("SELECT count(*), sum(e.amount) FROM events e WHERE e.usr %s (SELECT usr FROM users WHERE tier %s %d) AND %s",
			g.pick("IN", "NOT IN"), g.pick("=", ">", "<"), 1+g.intn(3), g.pred(1))
	case 1:
		return fmt.Sprintf("SELECT count(*) FROM events e WHERE %s (SELECT 1 FROM users u WHERE u.usr = e.usr AND u.region = %s) AND %s",
			g.pick("EXISTS", "NOT EXISTS"), quote(regions[g.intn(len(regions))]), g.pred(1))
	case 2:
		return fmt.Sprintf("SELECT s.g, s.n FROM (SELECT e.usr AS g, count(*) AS n, sum(e.amount) AS t FROM events e WHERE %s GROUP BY e.usr) s WHERE s.n > %d",
			g.pred(1), g.intn(300))
	}
	return fmt.Sprintf("WITH f AS (SELECT * FROM events e WHERE %s) SELECT count(*), max(f.amount), min(f.usr) FROM f WHERE %s",
		g.pred(1), strings.ReplaceAll(g.pred(1), "e.", "f."))
}

// pred returns a random predicate over events (alias e), nested up to
// depth levels of AND, OR and NOT.
func (g *generator) pred(depth int) string {
	if depth == 0 || g.chance(40) {
		return g.atom()
	}
	switch g.intn(5) {
	case 0, 1:
		return fmt.Sprintf("(%s AND %s)", g.pred(depth-1), g.pred(depth-1))
	case 2, 3:
		return fmt.Sprintf("(%s OR %s)", g.pred(depth-1), g.pred(depth-1))
	}
	return fmt.Sprintf("NOT (%s)", g.pred(depth-1))
}

func (g *generator) id() int { return eventsIDStart - 100 + g.intn(numEvents+200) }

func (g *generator) timestamp() string {
	return "TIMESTAMP '" + epoch.Add(time.Duration(g.intn(numEvents*97+3600))*time.Second).Format("2006-01-02 15:04:05") + "'"
}

func (g *generator) atom() string {
	switch g.intn(24) {
	case 0:
		return fmt.Sprintf("e.id = %d", g.id())
	case 1:
		return fmt.Sprintf("e.id %s %d", g.pick("<", "<=", ">", ">=", "<>"), g.id())
	case 2:
		a := g.id()
		return fmt.Sprintf("e.id BETWEEN %d AND %d", a, a+g.intn(3000))
	case 3:
		return fmt.Sprintf("e.id %s (%d, %d, %d, %d)", g.pick("IN", "IN", "NOT IN"), g.id(), g.id(), g.id(), g.id())
	case 4:
		return fmt.Sprintf("e.amount %s %d", g.pick("<", "<=", ">", ">=", "=", "<>"), g.intn(2001)-1000)
	case 5:
		return "e.amount IS " + g.pick("", "NOT ") + "NULL"
	case 6:
		a := g.intn(2001) - 1000
		return fmt.Sprintf("e.amount BETWEEN %d AND %d", a, a+g.intn(500))
	case 7:
		return fmt.Sprintf("e.amount %% %d = %d", 2+g.intn(9), g.intn(5)-2)
	case 8:
		return fmt.Sprintf("e.score %s %g", g.pick("<", ">=", "="), float64(g.intn(8001)-4000)*0.25)
	case 9:
		return "e.score IS " + g.pick("", "NOT ") + "NULL"
	case 10:
		return "e.usr = " + quote(userNames[g.intn(len(userNames))])
	case 11:
		return fmt.Sprintf("e.usr %s (%s, %s, %s)", g.pick("IN", "NOT IN"),
			quote(userNames[g.intn(len(userNames))]), quote(userNames[g.intn(len(userNames))]), quote(userNames[g.intn(len(userNames))]))
	case 12:
		return "e.usr " + g.pick("LIKE", "NOT LIKE", "ILIKE") + " " +
			quote(g.pick("a%", "%e%", "_o%", "%\\_%", "%b", "A%", "z%", "%ë", "", "%"))
	case 13:
		return "e.usr IS " + g.pick("", "NOT ") + "NULL"
	case 14:
		return "e.usr " + g.pick("<", ">=") + " " + quote(userNames[g.intn(len(userNames))])
	case 15:
		return g.pick("e.flag", "NOT e.flag", "e.flag IS NULL", "e.flag IS NOT TRUE", "e.flag = false", "e.flag IS NOT FALSE")
	case 16:
		return g.pick("e.note IS NULL", "e.note = ''", "e.note LIKE '%ok%'", "e.note ~ '^[a-z]+$'", "e.note ILIKE '%upper%'", "length(e.note) > 10")
	case 17:
		return "e.ts " + g.pick("<", ">=") + " " + g.timestamp()
	case 18:
		return fmt.Sprintf("e.ts BETWEEN %s AND %s", g.timestamp(), g.timestamp())
	case 19:
		return fmt.Sprintf("e.day %s DATE '%s'", g.pick("=", "<", ">"), epoch.AddDate(0, 0, g.intn(24)).Format("2006-01-02"))
	case 20:
		return fmt.Sprintf("coalesce(e.amount, %d) > %d", g.intn(10), g.intn(1000)-500)
	case 21:
		return fmt.Sprintf("e.qty %s %d", g.pick("<", ">", "="), g.intn(100))
	case 22:
		return fmt.Sprintf("abs(e.amount - e.qty) < %d", g.intn(500))
	}
	return fmt.Sprintf("CASE WHEN e.flag THEN e.amount ELSE e.qty END > %d", g.intn(100))
}
