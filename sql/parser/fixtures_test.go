package parser

import (
	"sort"
	"testing"
)

// TestFixtureQueries parses every query that psql, pgx and pgJDBC sent in
// the recorded client traffic, and checks each one's round trip.
func TestFixtureQueries(t *testing.T) {
	queries := fixtureQueries(t)
	if len(queries) < 40 {
		t.Fatalf("found only %d fixture queries; is testdata complete?", len(queries))
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			stmts, err := Parse(queries[name])
			if err != nil {
				t.Fatalf("%v\n%s", err, queries[name])
			}
			if len(stmts) != 1 {
				t.Fatalf("got %d statements, want 1", len(stmts))
			}
			checkRoundTrip(t, stmts[0])
		})
	}
}
