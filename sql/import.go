package sql

import (
	"context"
	"fmt"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql/ast"
)

// importFrom runs COPY t [(columns)] FROM 's3://…' | 'file:///dir/' |
// glob: the input files are checked (each must read as the table's
// rows), grouped into tasks and ingested by the exporter's workers, each
// task in one commit.
func (s *Session) importFrom(ctx context.Context, c *ast.Copy, opts export.Options, watch BulkWatch) (Rows, error) {
	e, err := s.importFiles(ctx, c, opts, watch)
	if err != nil {
		return nil, err
	}
	rows, _ := e.Rows()
	return tagOnly(fmt.Sprintf("COPY %d", rows)), nil
}

func (s *Session) importFiles(ctx context.Context, c *ast.Copy, opts export.Options, watch BulkWatch) (*export.Export, error) {
	if c.Query != nil {
		return nil, errAt(c.Pos, sqlerr.New(sqlerr.WrongObjectType, "COPY FROM needs a table, not a query"))
	}
	if opts.Overwrite || opts.MaxFileRows > 0 {
		return nil, errAt(c.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "COPY FROM takes no OVERWRITE or MAX_FILE_ROWS"))
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	def, cols, err := s.copyTable(snap, c)
	if err != nil {
		return nil, err
	}
	if c.Columns != nil {
		all := def.Schema.Columns()
		for _, i := range cols {
			opts.Columns = append(opts.Columns, all[i].Name)
		}
	}
	loc, err := export.ParseLocation(c.File)
	if err != nil {
		return nil, errAt(c.Pos, bulkError(export.KindImport, err))
	}
	if err := s.confine(loc, c.Pos); err != nil {
		return nil, err
	}
	src, err := export.ParseSource(ctx, c.File)
	if err != nil {
		return nil, errAt(c.Pos, bulkError(export.KindImport, err))
	}
	spec, err := export.PlanImport(ctx, s.e.db, def, src, opts)
	if err != nil {
		return nil, errAt(c.Pos, bulkError(export.KindImport, err))
	}
	spec.By = fmt.Sprintf("session %d", s.id)
	return s.runBulk(ctx, spec, watch)
}
