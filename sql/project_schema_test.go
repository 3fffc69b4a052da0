package sql_test

import (
	"context"
	"io"
	"testing"
)

// TestProjectBatchSchemas: a projection that passes its input's
// batches on (engine.passes) must still hand out batches under the
// result's schema (Flight's IPC writer refuses a batch whose schema is
// not Equal to the stream's), whatever path the scan took: point
// lookups (short read), filters checked row by row, ordered merges of
// several files, iterators, limits, UNION ALL.
func TestProjectBatchSchemas(t *testing.T) {
	ctx := context.Background()
	s := newSession(t,
		"CREATE TABLE ps (k bigint PRIMARY KEY, v text NOT NULL, n integer) WITH (split_points = '50')",
		"INSERT INTO ps SELECT g, 'v' || g, g % 7 FROM generate_series(1, 100) AS g",
		"INSERT INTO ps SELECT g, 'w' || g, NULL FROM generate_series(1, 100, 3) AS g",
		"CREATE TABLE pa (k bigint PRIMARY KEY, n bigint) WITH (aggregations = 'sum(n)')",
		"INSERT INTO pa SELECT g % 20, 1 FROM generate_series(1, 100) AS g",
		"INSERT INTO pa SELECT g % 20, 2 FROM generate_series(1, 100) AS g",
	)
	for _, q := range []string{
		"SELECT * FROM ps",
		"SELECT k, v, n FROM ps WHERE k = 7",
		"SELECT k, v, n FROM ps WHERE k IN (7, 70)",
		"SELECT k, v, n FROM ps WHERE n = 3",
		"SELECT k, v, n FROM ps WHERE v LIKE 'w1%'",
		"SELECT k, v, n FROM ps ORDER BY k LIMIT 10",
		"SELECT k, v, n FROM ps WHERE k > 40 ORDER BY k",
		"SELECT k, v FROM ps WHERE k BETWEEN 10 AND 60",
		"SELECT * FROM pa",
		"SELECT k, n FROM pa WHERE k = 3",
		"SELECT k, n FROM pa ORDER BY k LIMIT 5",
		"SELECT * FROM (SELECT k, v FROM ps WHERE k < 5 UNION ALL SELECT k, v FROM ps WHERE k > 95) u",
		"SELECT k FROM (SELECT k FROM ps ORDER BY k LIMIT 5) s",
	} {
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for run := 0; run < 2; run++ { // the second takes the kept plan
			rows, err := s.Execute(ctx, st, nil)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			sch := rows.Schema()
			for {
				rec, err := rows.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				if !rec.Schema().Equal(sch) {
					t.Errorf("%s: a batch under %v, the result's schema %v", q, rec.Schema(), sch)
				}
				rec.Release()
			}
			rows.Close()
		}
	}
}
