// Package sltsession runs sqllogictest records (sql/slt) and differential
// test queries through a Dormouse session. It is the one bridge between
// the runner, which imports nothing of the engine, and package sql.
package sltsession

import (
	"context"

	"github.com/dormousedb/dormouse/sql"
	"github.com/dormousedb/dormouse/sql/slt"
)

// Executor runs statements through a session.
type Executor struct{ S *sql.Session }

// New returns an executor over s.
func New(s *sql.Session) Executor { return Executor{S: s} }

// Exec runs one statement and returns its result in the runner's form.
func (x Executor) Exec(ctx context.Context, stmt string) (*slt.Result, error) {
	rows, err := x.S.Run(ctx, stmt)
	if err != nil {
		return nil, err
	}
	res, err := sql.Collect(ctx, rows)
	if err != nil {
		// An error met reading the rows fails a transaction block, as
		// one met before them does.
		x.S.StatementFailed()
		return nil, err
	}
	out := &slt.Result{Rows: res.Rows, Tag: res.Tag}
	for _, c := range res.Columns {
		out.Columns = append(out.Columns, slt.Column{Name: c.Name, Type: c.Type})
	}
	return out, nil
}
