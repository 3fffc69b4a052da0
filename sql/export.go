package sql

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"

	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/export"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/sql/parser"
	"github.com/dormousedb/dormouse/storage/objstore"
)

// COPY with a file: COPY table|(query) TO 's3://…' | 'file:///dir/' |
// '/dir' exports the result as Parquet or CSV files, one task per leaf
// partition when the result is the concatenation of per-partition results
// (PlanSplits decides, as for Flight SQL's endpoints), through the
// exporter (package export); COPY t FROM imports files (import.go). The
// statement's session works on its own export's tasks beside any
// exporter processes sharing the store, and answers COPY n when the
// manifest is written.

// exportsLog opens the store's exports log once per engine.
type exportsLog struct {
	mu  sync.Mutex
	log *export.Log
}

// ExportsLog returns the store's exports log, opening it on first use.
func (e *Engine) ExportsLog(ctx context.Context) (*export.Log, error) {
	e.exports.mu.Lock()
	defer e.exports.mu.Unlock()
	if e.exports.log == nil {
		l, err := export.OpenLog(ctx, e.db.Store)
		if err != nil {
			return nil, err
		}
		e.exports.log = l
	}
	return e.exports.log, nil
}

// ExportRunner returns the runner exporter workers run export tasks
// with: each task binds and plans the export's query again against the
// table states it pins and runs its partition's part (RunSplit), every
// partition's rows in key order.
func (e *Engine) ExportRunner() export.Runner { return exportRunner{e} }

type exportRunner struct{ e *Engine }

func (r exportRunner) RunQuery(ctx context.Context, q *export.Query, partition string) (export.Rows, error) {
	sp := &Split{SQL: q.SQL, Partition: partition, Now: q.Now, KeyOrder: true}
	for _, p := range q.Tables {
		sp.Tables = append(sp.Tables, PinnedTable{Name: p.Name, ID: p.ID, Seq: p.Seq})
	}
	rows, err := r.e.NewSession().RunSplit(ctx, sp)
	if err != nil {
		// A query that no longer binds (a table dropped) fails the same
		// way on every attempt.
		if code := sqlerr.Code(err); strings.HasPrefix(code, "42") || strings.HasPrefix(code, "0A") {
			return nil, export.Permanent(err)
		}
		return nil, err
	}
	return rows, nil
}

// quiet is the logger of a statement's own export worker: the statement
// reports its outcome itself.
var quiet = slog.New(slog.DiscardHandler)

// copyFile runs COPY … TO or FROM a file or object store.
func (s *Session) copyFile(ctx context.Context, c *ast.Copy) (Rows, error) {
	opts := export.DefaultOptions()
	for _, o := range c.Options {
		if err := opts.Set(o.Name, o.Value, o.HasValue); err != nil {
			return nil, errAt(o.Pos, optionError(err))
		}
	}
	if err := opts.Check(); err != nil {
		return nil, errAt(c.Pos, optionError(err))
	}
	if c.From {
		return s.importFrom(ctx, c, opts, BulkWatch{})
	}
	return s.exportTo(ctx, c, opts, BulkWatch{})
}

// BulkWatch follows an export or import as it runs, for a progress bar.
// Either hook may be nil; both must be quick and safe for concurrent use.
type BulkWatch struct {
	// Rows hears of the rows this process's tasks write (an export) or
	// read (an import) as they go.
	Rows func(n int64)
	// State hears of the export's record each time the statement reads it
	// from the exports log.
	State func(e *export.Export)

	// detach records the export and returns at once (StartExport).
	detach bool
}

// StartExport records the export that Export would run, with its tasks
// pending, and returns it at once: exporter workers (dormouse exporter,
// serve) run it. `dormouse export --detach` starts one this way.
func (s *Session) StartExport(ctx context.Context, query, target string, opts export.Options) (*export.Export, error) {
	return s.Export(ctx, query, target, opts, BulkWatch{detach: true})
}

// StartImport records the import that Import would run and returns it at
// once, for exporter workers to run.
func (s *Session) StartImport(ctx context.Context, table, source string, opts export.Options) (*export.Export, error) {
	return s.Import(ctx, table, source, opts, BulkWatch{detach: true})
}

// Export runs COPY (query) TO target WITH opts, the export that
// `dormouse export` starts, and returns the finished export.
func (s *Session) Export(ctx context.Context, query, target string, opts export.Options, watch BulkWatch) (*export.Export, error) {
	stmt, err := parser.ParseOne(query)
	if err != nil {
		return nil, parseError(query, err)
	}
	q, ok := stmt.(*ast.Query)
	if !ok {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "an export takes a query (SELECT …), not %s", strings.ToUpper(strings.SplitN(strings.TrimSpace(query), " ", 2)[0]))
	}
	if err := opts.Check(); err != nil {
		return nil, optionError(err)
	}
	e, err := s.export(ctx, &ast.Copy{Query: q, File: target}, opts, watch)
	return e, positioned(query, err)
}

// Import runs COPY table FROM source WITH opts, the import that
// `dormouse import` starts, and returns the finished import.
func (s *Session) Import(ctx context.Context, table, source string, opts export.Options, watch BulkWatch) (*export.Export, error) {
	if err := opts.Check(); err != nil {
		return nil, optionError(err)
	}
	return s.importFiles(ctx, &ast.Copy{Table: &ast.TableName{Name: table}, From: true, File: source}, opts, watch)
}

func optionError(err error) error {
	msg := strings.TrimPrefix(err.Error(), export.ErrOption.Error()+": ")
	if strings.Contains(msg, "is not supported") {
		return sqlerr.New(sqlerr.FeatureNotSupported, "COPY %s", msg)
	}
	return sqlerr.New(sqlerr.InvalidParameterValue, "COPY %s", msg)
}

// confine refuses a local path outside the engine's export directory.
func (s *Session) confine(t export.Target, pos int) error {
	if s.e.cfg.ExportDir == "" {
		return nil
	}
	if err := t.Within(s.e.cfg.ExportDir); err != nil {
		e := sqlerr.New(sqlerr.InsufficientPrivilege, "COPY to or from %s is not allowed: %v", t.URL, err).
			WithHint("The server's --export-dir (%s) confines local paths; write below it, or to s3://.", s.e.cfg.ExportDir)
		return errAt(pos, e)
	}
	return nil
}

func (s *Session) exportTo(ctx context.Context, c *ast.Copy, opts export.Options, watch BulkWatch) (Rows, error) {
	e, err := s.export(ctx, c, opts, watch)
	if err != nil {
		return nil, err
	}
	rows, _ := e.Rows()
	return tagOnly(fmt.Sprintf("COPY %d", rows)), nil
}

func (s *Session) export(ctx context.Context, c *ast.Copy, opts export.Options, watch BulkWatch) (*export.Export, error) {
	target, err := export.ParseTarget(c.File)
	if err != nil {
		return nil, errAt(c.Pos, sqlerr.New(sqlerr.InvalidParameterValue, "COPY TO %v", err))
	}
	if err := s.confine(target, c.Pos); err != nil {
		return nil, err
	}
	q := c.Query
	if q == nil {
		if q, err = s.copyQuery(ctx, c); err != nil {
			return nil, err
		}
	}
	spec, err := s.planExport(ctx, q)
	if err != nil {
		return nil, err
	}
	spec.Target, spec.Options = target, opts
	return s.runBulk(ctx, spec, watch)
}

// planExport plans the query into its tasks: one per split.
func (s *Session) planExport(ctx context.Context, q *ast.Query) (*export.Export, error) {
	text := ast.Format(q)
	st := &Statement{text: text, stmt: q}
	plan, err := s.PlanSplits(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	spec := &export.Export{Kind: export.KindExport, Query: &export.Query{SQL: text}, By: fmt.Sprintf("session %d", s.id)}
	for _, f := range plan.Schema.Fields() {
		spec.Columns = append(spec.Columns, export.Column{Name: f.Name, Type: expr.TypeName(f.Type), Arrow: f.Type.String(), Nullable: f.Nullable})
	}
	if len(plan.Splits) == 0 {
		// Pruning left no partition: one task runs the query whole.
		spec.Tasks = []export.Task{{}}
		return spec, nil
	}
	first := plan.Splits[0]
	spec.Query.Now = first.Now
	for _, p := range first.Tables {
		spec.Query.Tables = append(spec.Query.Tables, export.Pin{Name: p.Name, ID: p.ID, Seq: p.Seq})
	}
	for _, sp := range plan.Splits {
		spec.Tasks = append(spec.Tasks, export.Task{Partition: sp.Partition})
	}
	if first.Partition != "" {
		if spec.SortedBy, err = s.exportOrder(ctx, q); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// exportOrder returns the output columns a per-partition export's files
// are sorted by: the leading key columns of the table, in key order, as
// far as the query outputs them unchanged. An aggregate's output has no
// known order.
func (s *Session) exportOrder(ctx context.Context, q *ast.Query) ([]int, error) {
	snap, err := newSnapshot(ctx, s.e.db)
	if err != nil {
		return nil, err
	}
	plan, _, err := s.bindPlanIn(ctx, snap, q, s.execContext(ctx, false))
	if err != nil {
		return nil, err
	}
	scan := pipelineScan(plan)
	if scan == nil || splitScan(plan) == nil || !scan.KeyOrdered() {
		return nil, nil
	}
	var out []int
	width := len(plan.Schema().Fields())
	for key := range scan.Table.Def.Schema.NumKeys() {
		found := -1
		for i := range width {
			if storageColumn(plan, i) == key {
				found = i
				break
			}
		}
		if found < 0 {
			break
		}
		out = append(out, found)
	}
	return out, nil
}

// runBulk records an export or import and works on it until it ends.
func (s *Session) runBulk(ctx context.Context, spec *export.Export, watch BulkWatch) (*export.Export, error) {
	if watch.detach {
		return s.startBulk(ctx, spec)
	}
	e, err := s.startBulk(ctx, spec)
	if err != nil {
		return nil, err
	}
	log, err := s.e.ExportsLog(ctx)
	if err != nil {
		return nil, err
	}
	w := &export.Worker{Log: log, DB: s.e.db, Runner: s.e.ExportRunner(), Slots: s.e.cfg.Parallelism,
		Memory: s.workMem(), TempDir: s.e.cfg.TempDir, Alloc: s.e.cfg.Allocator, Logger: quiet,
		Progress: watch.Rows, Watch: watch.State}
	e, err = export.Execute(ctx, w, e.ID)
	if err != nil {
		if ctx.Err() != nil {
			return nil, sqlerr.As(ctx.Err())
		}
		return nil, bulkError(spec.Kind, withCommitted(e, err))
	}
	return e, nil
}

// startBulk records an export or import with its tasks pending.
func (s *Session) startBulk(ctx context.Context, spec *export.Export) (*export.Export, error) {
	log, err := s.e.ExportsLog(ctx)
	if err != nil {
		return nil, err
	}
	e, err := export.Start(ctx, log, spec)
	if err != nil {
		return nil, bulkError(spec.Kind, err)
	}
	return e, nil
}

// withCommitted notes, for a failed import, the tasks that committed
// before it failed: their rows stay in the table.
func withCommitted(e *export.Export, err error) error {
	if e == nil || e.Kind != export.KindImport {
		return err
	}
	var rows int64
	n := 0
	for _, t := range e.Tasks {
		if t.Status == export.TaskDone {
			rows += t.Rows
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w; nothing was committed", err)
	}
	return fmt.Errorf("%w; %d other tasks had committed %d rows, which stay", err, n, rows)
}

// bulkError gives an exporter error its SQLSTATE.
func bulkError(kind string, err error) error {
	var se *sqlerr.Error
	if errors.As(err, &se) {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, export.ErrManifestExists):
		return sqlerr.New("58P02", "COPY TO: %s", msg) // duplicate_file
	case errors.Is(err, export.ErrNoInput), errors.Is(err, objstore.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return sqlerr.New("58P01", "COPY FROM: %s", msg) // undefined_file
	case errors.Is(err, export.ErrInput), kind == export.KindImport && errors.Is(err, export.ErrFailed):
		return sqlerr.New("22P04", "COPY FROM: %s", msg) // bad_copy_file_format
	case errors.Is(err, export.ErrTarget):
		return sqlerr.New(sqlerr.InvalidParameterValue, "COPY: %s", msg)
	}
	return sqlerr.New(sqlerr.IOError, "COPY: %s", msg)
}
