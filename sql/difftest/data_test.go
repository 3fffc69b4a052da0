package difftest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dormousedb/dormouse/sql/slt/pgoracle"
	"github.com/jackc/pgx/v5"
)

// dataSeed fixes the generated tables; -seed varies only the queries.
const dataSeed = 20240101

// column is a column of a generated table.
type column struct {
	name   string
	pgType string // bigint, integer, double precision, boolean, text, timestamp, date
}

// table is a generated table with its rows. Values are int64, int32,
// float64, bool, string or time.Time (UTC; dates at midnight), nil for NULL.
type table struct {
	name string
	cols []column
	key  []string // PRIMARY KEY columns: Dormouse's row keys
	with string   // Dormouse's table options: WITH (…)
	rows [][]any
}

// ddl is the CREATE TABLE statement; with Dormouse's options if dormouse.
func (t *table) ddl(dormouse bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", t.name)
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name + " " + c.pgType)
	}
	fmt.Fprintf(&b, ", PRIMARY KEY (%s))", strings.Join(t.key, ", "))
	if dormouse && t.with != "" {
		fmt.Fprintf(&b, " WITH (%s)", t.with)
	}
	return b.String()
}

// inserts returns INSERT … VALUES statements of at most batch rows each,
// holding every row.
func (t *table) inserts(batch int) []string {
	var out []string
	for start := 0; start < len(t.rows); start += batch {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s VALUES ", t.name)
		for i, row := range t.rows[start:min(start+batch, len(t.rows))] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(literal(v, t.cols[j].pgType))
			}
			b.WriteByte(')')
		}
		out = append(out, b.String())
	}
	return out
}

// literal writes a value as a SQL literal of a column type.
func literal(v any, pgType string) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return quote(v)
	case time.Time:
		if pgType == "date" {
			return "DATE '" + v.Format("2006-01-02") + "'"
		}
		return "TIMESTAMP '" + v.Format("2006-01-02 15:04:05.999999") + "'"
	}
	panic(fmt.Sprintf("literal of %T", v))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// The value pools. Names include the empty string, a quote, LIKE's
// wildcards, mixed case and non-ASCII text.
var (
	userNames = []string{
		"alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi",
		"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
		"sybil", "trent", "victor", "walter", "Alice", "BOB", "o'brien",
		"a_b", "100%", "", " space", "zoë", "Ünal", "日本", "ÅSA", "emoji🙂",
		"x", "xy", "xyz", "Zed", "z",
	}
	noteWords = []string{"ok", "late", "refund", "gift", "promo", "retry",
		"C:\\temp", "naïve", "ΔΣ", "tab\there", "50% off", "under_score", "UPPER", "mixed Case"}
	regions = []string{"eu", "us", "apac", "latam"}
	hosts   = []string{"app-1", "app-2", "db", "db-replica", "web-1", "web-2", "web-10", "Web-3", "wéb", ""}
	epoch   = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Sizes of the generated tables.
const (
	numEvents      = 20000
	eventsIDStart  = -2000 // ids run from -2000 up, so some keys are negative
	metricsPerHost = 500
)

// tables generates the test tables: events (the fact table; row key id,
// pre-split in five partitions), users (a dimension keyed by usr) and
// metrics (a composite key, host and ts, pre-split on host).
func tables() []*table {
	rng := rand.New(rand.NewPCG(dataSeed, 1))
	return []*table{genEvents(rng), genUsers(rng), genMetrics(rng)}
}

func genEvents(rng *rand.Rand) *table {
	t := &table{
		name: "events",
		cols: []column{{"id", "bigint"}, {"usr", "text"}, {"ts", "timestamp"}, {"amount", "bigint"},
			{"score", "double precision"}, {"flag", "boolean"}, {"note", "text"}, {"day", "date"}, {"qty", "integer"}},
		key:  []string{"id"},
		with: "split_points = '2000,6000,10000,14000'",
	}
	for i := 0; i < numEvents; i++ {
		id := int64(eventsIDStart + i)
		ts := epoch.Add(time.Duration(i)*97*time.Second + time.Duration(rng.IntN(3600))*time.Second)
		if rng.IntN(10) < 3 {
			ts = ts.Add(time.Duration(rng.IntN(1000000)) * time.Microsecond)
		}
		row := []any{
			id,
			nullable(rng, 3, userNames[skewed(rng, len(userNames))]),
			nullable(rng, 1, ts),
			nullable(rng, 5, int64(rng.IntN(2001)-1000)),
			nullable(rng, 5, float64(rng.IntN(8001)-4000)*0.25),
			nullable(rng, 10, rng.IntN(2) == 0),
			genNote(rng),
			nullable(rng, 2, time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3)-1)),
			nullable(rng, 4, int32(rng.IntN(100))),
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// skewed picks an index in [0, n), the low ones more often, so that
// groups have different sizes.
func skewed(rng *rand.Rand, n int) int {
	if rng.IntN(2) == 0 {
		return rng.IntN(min(n, 6))
	}
	return rng.IntN(n)
}

// nullable returns v, or nil with probability pct percent.
func nullable(rng *rand.Rand, pct int, v any) any {
	if rng.IntN(100) < pct {
		return nil
	}
	return v
}

func genNote(rng *rand.Rand) any {
	switch r := rng.IntN(100); {
	case r < 30:
		return nil
	case r < 35:
		return ""
	default:
		n := 1 + rng.IntN(3)
		words := make([]string, n)
		for i := range words {
			words[i] = noteWords[rng.IntN(len(noteWords))]
		}
		return strings.Join(words, " ")
	}
}

func genUsers(rng *rand.Rand) *table {
	t := &table{
		name: "users",
		cols: []column{{"usr", "text"}, {"region", "text"}, {"tier", "integer"}, {"since", "date"}},
		key:  []string{"usr"},
		with: "split_points = 'm'",
	}
	// Most event users, plus some no event names; some event users are
	// missing, so that outer joins have both kinds of unmatched rows.
	names := append([]string{"nobody", "zz-unused", "Mallory"}, userNames...)
	for i, n := range names {
		if i%7 == 5 {
			continue
		}
		t.rows = append(t.rows, []any{
			n,
			nullable(rng, 10, regions[rng.IntN(len(regions))]),
			nullable(rng, 10, int32(1+rng.IntN(3))),
			epoch.AddDate(0, 0, -rng.IntN(1000)),
		})
	}
	return t
}

func genMetrics(rng *rand.Rand) *table {
	t := &table{
		name: "metrics",
		cols: []column{{"host", "text"}, {"ts", "timestamp"}, {"cpu", "double precision"}, {"mem", "bigint"}},
		key:  []string{"host", "ts"},
		with: "split_points = 'db,web-2'",
	}
	for _, h := range hosts {
		ts := epoch
		for j := 0; j < metricsPerHost; j++ {
			ts = ts.Add(time.Duration(30+rng.IntN(60)) * time.Second)
			t.rows = append(t.rows, []any{
				h, ts,
				nullable(rng, 3, float64(rng.IntN(401))*0.25),
				int64(rng.IntN(1 << 20)),
			})
		}
	}
	return t
}

// loadPostgres loads every table into a fresh schema of the oracle with
// COPY and returns the connection.
func loadPostgres(t *testing.T, tbs []*table) *pgoracle.Conn {
	t.Helper()
	ctx := context.Background()
	pg := pgoracle.Open(t)
	for _, tb := range tbs {
		if _, err := pg.Exec(ctx, tb.ddl(false)); err != nil {
			t.Fatalf("create %s in PostgreSQL: %v", tb.name, err)
		}
		names := make([]string, len(tb.cols))
		for i, c := range tb.cols {
			names[i] = c.name
		}
		n, err := pg.PGX().CopyFrom(ctx, pgx.Identifier{tb.name}, names, pgx.CopyFromRows(tb.rows))
		if err != nil {
			t.Fatalf("copy %s into PostgreSQL: %v", tb.name, err)
		}
		if n != int64(len(tb.rows)) {
			t.Fatalf("copy %s: %d rows, want %d", tb.name, n, len(tb.rows))
		}
		if _, err := pg.Exec(ctx, "ANALYZE "+tb.name); err != nil {
			t.Fatal(err)
		}
	}
	return pg
}
