package sql

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/storage/ingest"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/table"
)

// insert runs INSERT … VALUES and INSERT … SELECT through the storage
// ingest path: the rows are sorted, written as one file per partition and
// committed in one transaction, so a failed INSERT changes nothing; inside
// a transaction the files commit with it (session_writes.go).
func (s *Session) insert(ctx context.Context, st *ast.Insert) (Rows, error) {
	bi, err := s.bindInsert(ctx, st)
	if err != nil {
		return nil, err
	}
	ec := s.execContext(ctx, false)
	p := &planner{b: bi.b, ec: ec}
	plan, err := p.plan(bi.r)
	if err != nil {
		return nil, err
	}
	op, err := engine.OpenPlan(ec, plan)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	in := &operatorInput{ctx: ctx, op: op, sch: bi.t.Def.Schema.Arrow(), cols: bi.t.Def.Schema.Columns(), table: bi.t.Def.Name, alloc: s.e.cfg.Allocator}
	n, err := s.write(ctx, bi.t, []ingest.RecordReader{in})
	if err != nil {
		return nil, err
	}
	return tagOnly(fmt.Sprintf("INSERT 0 %d", n)), nil
}

// boundInsert is an INSERT bound to its table: the rows to ingest, in the
// table's storage order.
type boundInsert struct {
	b *binder
	t *table.Table
	r rel
}

// bindInsert binds an INSERT without running it (Prepare describes an
// INSERT's parameters this way).
func (s *Session) bindInsert(ctx context.Context, st *ast.Insert) (*boundInsert, error) {
	if st.Source == nil {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.FeatureNotSupported, "INSERT … DEFAULT VALUES is not supported"))
	}
	src := st.Source
	if st.With != nil && src.With == nil {
		c := *src
		c.With = st.With
		src = &c
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	def, ok := snap.def(st.Table.Name)
	if !ok {
		return nil, errAt(st.Table.Pos, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", st.Table.Name))
	}
	t, err := s.e.db.TableOf(ctx, def) // as the snapshot defines it
	if err != nil {
		return nil, err
	}
	b := &binder{s: s, ctx: ctx, snap: snap}
	// Target columns: the list given, else the table's in declared order.
	storageCols := def.Schema.Columns()
	var target []int
	if st.Columns == nil {
		target = def.DeclaredColumns()
	} else {
		seen := map[int]bool{}
		for _, name := range st.Columns {
			i := def.Schema.Index(name)
			if i < 0 {
				return nil, errAt(st.Pos, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, def.Name))
			}
			if seen[i] {
				return nil, errAt(st.Pos, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", name))
			}
			seen[i] = true
			target = append(target, i)
		}
	}
	var r rel
	if v, ok := src.Body.(*ast.Values); ok && src.With == nil && len(src.OrderBy) == 0 && src.Limit == nil && src.Offset == nil {
		// As in PostgreSQL, the values of INSERT … VALUES take the types of
		// the columns they go to (so '2024-01-01' is a timestamp there).
		r, err = b.bindInsertValues(v, target, storageCols)
	} else {
		r, err = b.bindQuery(src)
	}
	if err != nil {
		return nil, err
	}
	srcCols := r.columns()
	if len(srcCols) > len(target) {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.SyntaxError, "INSERT has more expressions than target columns"))
	}
	if len(srcCols) < len(target) && st.Columns != nil {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.SyntaxError, "INSERT has more target columns than expressions"))
	}
	// Project the source into storage order with assignment casts; columns
	// not given are NULL (refused for keys and NOT NULL columns).
	bySlot := map[int]int{}
	for i, st := range target[:len(srcCols)] {
		bySlot[st] = i
	}
	exprs := make([]expr.Expr, len(storageCols))
	outCols := make([]col, len(storageCols))
	for i, c := range storageCols {
		outCols[i] = col{name: c.Name, typ: c.Type.Arrow(), nullable: c.Nullable}
		j, given := bySlot[i]
		if !given {
			if !c.Nullable {
				return nil, errAt(st.Pos, sqlerr.New(sqlerr.NullValueNotAllowed, "null value in column \"%s\" of relation \"%s\" violates not-null constraint", c.Name, def.Name))
			}
			exprs[i] = expr.Null(c.Type.Arrow())
			continue
		}
		x, err := expr.AssignCast(columnExpr(srcCols, j), c.Type.Arrow())
		if err != nil && sqlerr.Code(err) != sqlerr.DatatypeMismatch && sqlerr.Code(err) != "42846" {
			return nil, errAt(st.Pos, err)
		}
		if err != nil {
			return nil, errAt(st.Pos, sqlerr.New(sqlerr.DatatypeMismatch, "column \"%s\" is of type %s but expression is of type %s", c.Name, expr.TypeName(c.Type.Arrow()), expr.TypeName(srcCols[j].typ)).
				WithHint("You will need to rewrite or cast the expression."))
		}
		exprs[i] = x
	}
	return &boundInsert{b: b, t: t, r: &projectRel{in: r, exprs: exprs, cols: outCols}}, nil
}

// bindInsertValues binds VALUES rows with each value cast to the type of
// the column it is inserted into; DEFAULT is NULL.
func (b *binder) bindInsertValues(v *ast.Values, target []int, cols []schema.Column) (rel, error) {
	empty := &scope{}
	n := len(v.Rows[0])
	if n > len(target) {
		return nil, errAt(v.Pos, sqlerr.New(sqlerr.SyntaxError, "INSERT has more expressions than target columns"))
	}
	out := &valuesRel{}
	for j := 0; j < n; j++ {
		c := cols[target[j]]
		out.cols = append(out.cols, col{name: c.Name, typ: c.Type.Arrow(), nullable: true})
	}
	for _, row := range v.Rows {
		if len(row) != n {
			return nil, errAt(v.Pos, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length"))
		}
		exprs := make([]expr.Expr, n)
		for j, e := range row {
			t := out.cols[j].typ
			if _, isDefault := e.(*ast.Default); isDefault {
				exprs[j] = expr.Null(t)
				continue
			}
			x, err := b.expr(empty, e)
			if err != nil {
				return nil, err
			}
			if exprs[j], err = expr.AssignCast(x, t); err != nil {
				if code := sqlerr.Code(err); code != sqlerr.DatatypeMismatch && code != "42846" {
					return nil, errAt(e.Position(), err) // a value that does not fit
				}
				return nil, errAt(e.Position(), sqlerr.New(sqlerr.DatatypeMismatch, "column \"%s\" is of type %s but expression is of type %s", out.cols[j].name, expr.TypeName(t), expr.TypeName(x.Type())).
					WithHint("You will need to rewrite or cast the expression."))
			}
			b.s.params.note(exprs[j]) // $n takes the type of its column
		}
		out.rows = append(out.rows, exprs)
	}
	return out, nil
}

// operatorInput adapts an operator's output to an ingest input with the
// table's exact schema, checking that keys and NOT NULL columns hold no
// NULL and that varchar(n) values fit.
type operatorInput struct {
	ctx   context.Context
	op    engine.Operator
	sch   *arrow.Schema
	cols  []schema.Column // in storage order
	table string
	alloc memory.Allocator
}

func (o *operatorInput) Next() (arrow.RecordBatch, error) {
	rec, err := o.op.Next(o.ctx)
	if err != nil {
		return nil, err
	}
	cols := rec.Columns()
	for i, f := range o.sch.Fields() {
		if !f.Nullable && cols[i].NullN() > 0 {
			rec.Release()
			return nil, sqlerr.New(sqlerr.NullValueNotAllowed, "null value in column \"%s\" of relation \"%s\" violates not-null constraint", f.Name, o.table)
		}
	}
	fitted := make([]arrow.Array, 0, 1)
	for i, c := range o.cols {
		if c.Length == 0 {
			continue
		}
		a, err := fitLength(o.alloc, cols[i], c.Length)
		if err != nil {
			rec.Release()
			return nil, err
		}
		if a != nil {
			cols = append([]arrow.Array(nil), cols...)
			cols[i] = a
			fitted = append(fitted, a)
		}
	}
	out := array.NewRecordBatch(o.sch, cols, rec.NumRows())
	rec.Release()
	for _, a := range fitted {
		a.Release()
	}
	return out, nil
}

// fitLength applies a varchar(n) limit to the values of a column, as
// PostgreSQL assigns them: a value longer than n characters is an error
// unless the rest is spaces, which are cut. It returns a new array when
// it cut some (the caller releases it), nil when every value fits.
func fitLength(alloc memory.Allocator, col arrow.Array, n int) (arrow.Array, error) {
	a, ok := col.(*array.String)
	if !ok {
		return nil, nil
	}
	var b *array.StringBuilder
	for r := 0; r < a.Len(); r++ {
		v := a.Value(r)
		keep := len(v)
		if keep > n && a.IsValid(r) {
			var err error
			if keep, err = schema.FitLength(v, n); err != nil {
				if b != nil {
					b.Release()
				}
				return nil, sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type character varying(%d)", n)
			}
		}
		if keep < len(v) && b == nil {
			b = array.NewStringBuilder(alloc)
			for p := 0; p < r; p++ {
				appendString(b, a, p)
			}
		}
		if b != nil {
			if a.IsValid(r) {
				b.Append(v[:keep])
			} else {
				b.AppendNull()
			}
		}
	}
	if b == nil {
		return nil, nil
	}
	defer b.Release()
	return b.NewArray(), nil
}

func appendString(b *array.StringBuilder, a *array.String, r int) {
	if a.IsNull(r) {
		b.AppendNull()
		return
	}
	b.Append(a.Value(r))
}

func (o *operatorInput) Close() error { return nil }
