package sql

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"

	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// A correlated subquery that no rewrite turns into a join — a scalar
// subquery that is not an aggregate over equalities, EXISTS or IN under OR
// or in a select list, conditions other than equality — is run once per
// distinct row of the outer values it reads, as PostgreSQL runs a SubPlan.
// The outer values it names are bound as OuterRefs: slots filled from the
// outer row before each run. Catalog queries (psql's \d) are full of these;
// on large tables the joins of decorrelate.go and query.go are the fast
// path, and this is the general one.

// outerScope is what a subquery's binder can see of the query around it.
type outerScope struct {
	b  *binder // the outer query's binder
	sc *scope  // the outer query's columns at the subquery
	// refs are the outer expressions the subquery reads, by slot.
	refs []expr.Expr
	keys []string
}

// capture returns the slot of outer expression x (named key), adding it.
func (o *outerScope) capture(key string, x expr.Expr) int {
	for i, k := range o.keys {
		if k == key {
			return i
		}
	}
	o.refs = append(o.refs, x)
	o.keys = append(o.keys, key)
	return len(o.refs) - 1
}

// outerColumn resolves a column reference the subquery's own scopes do not
// hold in the enclosing queries, innermost first; ok is false when they
// do not hold it either.
func (b *binder) outerColumn(c *ast.ColumnRef) (x expr.Expr, ok bool, err error) {
	if b.outer == nil {
		return nil, false, nil
	}
	key := strings.Join(c.Parts, ".")
	// Bound as an expression, not a bare column, so that a grouped outer
	// query's GROUP BY keys match by their text.
	x, err = b.outer.b.bindExpr(b.outer.sc, c)
	if sqlerr.Code(err) == sqlerr.GroupingError {
		return nil, true, sqlerr.New(sqlerr.GroupingError, "subquery uses ungrouped column \"%s\" from outer query", key)
	}
	if err != nil {
		return nil, false, nil
	}
	slot := b.outer.capture(key, x)
	return &expr.OuterRef{Slot: slot, Name: key, Typ: x.Type(), Null: x.Nullable()}, true, nil
}

type applyKind int

const (
	applyScalar applyKind = iota // the value of the one row (NULL for none)
	applyExists                  // whether there is a row
	applyAny                     // OR of the boolean column over the rows (x IN …)
	applyArray                   // the values of the one column as an array (ARRAY(SELECT …))
	applyRows                    // every row, as an array of records (LATERAL (SELECT …))
)

// applySubquery is a subquery expression evaluated per outer row.
type applySubquery struct {
	kind  applyKind
	plan  engine.Plan
	outer []expr.Expr // over the outer rows, one per slot
	typ   arrow.DataType
	text  string
	base  *engine.ExecContext
}

// bindApply binds q as a subquery that may read the columns of sc, and
// returns it as an expression of kind. For applyAny, x is the left operand
// of IN, compared with the subquery's one column.
func (b *binder) bindApply(sc *scope, q *ast.Query, kind applyKind, x ast.Expr, text string) (expr.Expr, error) {
	a, _, err := b.bindApplyCols(sc, q, kind, x, text)
	return a, err
}

// bindApplyCols is bindApply that also returns the subquery's columns.
func (b *binder) bindApplyCols(sc *scope, q *ast.Query, kind applyKind, x ast.Expr, text string) (expr.Expr, []col, error) {
	o := &outerScope{b: b, sc: sc}
	sub := &binder{s: b.s, ctx: b.ctx, snap: b.snap, ctes: b.ctes, outer: o}
	r, err := sub.bindQuery(q)
	if err != nil {
		return nil, nil, err
	}
	cols := r.columns()
	var typ arrow.DataType = arrow.FixedWidthTypes.Boolean
	switch kind {
	case applyScalar:
		if len(cols) != 1 {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "subquery must return only one column")
		}
		typ = cols[0].typ
	case applyArray:
		if len(cols) != 1 {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "subquery must return only one column")
		}
		typ = expr.ListOf(cols[0].typ)
	case applyRows:
		typ = expr.ListOf(rowsType(cols))
	case applyAny:
		if len(cols) != 1 {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "subquery has too many columns")
		}
		lhs, err := b.expr(sc, x)
		if err != nil {
			return nil, nil, err
		}
		slot := o.capture("?in", lhs)
		ref := &expr.OuterRef{Slot: slot, Name: "?in", Typ: lhs.Type(), Null: lhs.Nullable()}
		eq, err := expr.Compare("=", columnExpr(cols, 0), ref)
		if err != nil {
			return nil, nil, errAt(x.Position(), err)
		}
		r = &projectRel{in: r, exprs: []expr.Expr{eq}, cols: []col{{name: "?in", typ: eq.Type(), nullable: true}}}
	}
	ec := b.s.execContext(b.ctx, false)
	p := &planner{b: sub, ec: ec}
	plan, err := p.plan(r)
	if err != nil {
		return nil, nil, err
	}
	return &applySubquery{kind: kind, plan: plan, outer: o.refs, typ: typ, text: text, base: ec}, cols, nil
}

func (a *applySubquery) Type() arrow.DataType { return a.typ }
func (a *applySubquery) Nullable() bool {
	return a.kind != applyExists && a.kind != applyArray && a.kind != applyRows
}
func (a *applySubquery) String() string { return a.text }
func (a *applySubquery) Children() []expr.Expr {
	return a.outer
}
func (a *applySubquery) WithChildren(children []expr.Expr) expr.Expr {
	c := *a
	c.outer = children
	return &c
}

// Eval runs the subquery for every row of rec, once per distinct tuple of
// outer values.
func (a *applySubquery) Eval(ctx *expr.Context, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	vals := make([]arrow.Array, len(a.outer))
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Release()
			}
		}
	}()
	for i, x := range a.outer {
		v, err := x.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	memo := map[string]scalar.Scalar{}
	out := make([]scalar.Scalar, n)
	var key strings.Builder
	for row := 0; row < n; row++ {
		key.Reset()
		for _, v := range vals {
			if v.IsNull(row) {
				key.WriteString("\x00N")
			} else {
				fmt.Fprintf(&key, "\x00V%v", v.ValueStr(row))
			}
		}
		if s, ok := memo[key.String()]; ok {
			out[row] = s
			continue
		}
		s, err := a.run(ctx, vals, row)
		if err != nil {
			return nil, err
		}
		memo[key.String()] = s
		out[row] = s
	}
	b := array.NewBuilder(ctx.Alloc, a.typ)
	defer b.Release()
	if err := scalar.AppendSlice(b, out); err != nil {
		return nil, fmt.Errorf("subquery result: %w", err)
	}
	return b.NewArray(), nil
}

// run executes the subquery with the outer values of one row.
func (a *applySubquery) run(ctx *expr.Context, vals []arrow.Array, row int) (scalar.Scalar, error) {
	outer := make([]arrow.Array, len(vals))
	for i, v := range vals {
		outer[i] = array.NewSlice(v, int64(row), int64(row+1))
	}
	defer func() {
		for _, v := range outer {
			v.Release()
		}
	}()
	ev := *ctx
	ev.Outer = outer
	ec := *a.base
	ec.Ctx = ctx.Ctx
	ec.Alloc = ctx.Alloc
	ec.Eval = &ev
	ec.Stats = nil
	op, err := engine.OpenPlan(&ec, a.plan)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	var (
		result  scalar.Scalar = scalar.MakeNullScalar(a.typ)
		rows    int
		sawNull bool
		elems   = []any{}
	)
	for {
		rec, err := op.Next(ctx.Ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		nr := int(rec.NumRows())
		switch a.kind {
		case applyScalar:
			if rows+nr > 1 {
				rec.Release()
				return nil, sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
			}
			if nr == 1 {
				s, err := scalar.GetScalar(rec.Column(0), 0)
				if err != nil {
					rec.Release()
					return nil, err
				}
				result = detach(s)
			}
		case applyArray:
			for i := 0; i < nr; i++ {
				elems = append(elems, expr.ValueAt(rec.Column(0), i))
			}
		case applyRows:
			for i := 0; i < nr; i++ {
				row := make([]any, rec.NumCols())
				for j := range row {
					row[j] = expr.ValueAt(rec.Column(j), i)
				}
				elems = append(elems, row)
			}
		case applyExists:
			if nr > 0 {
				rec.Release()
				return scalar.NewBooleanScalar(true), nil
			}
		case applyAny:
			col := rec.Column(0).(*array.Boolean)
			for i := 0; i < nr; i++ {
				if col.IsNull(i) {
					sawNull = true
				} else if col.Value(i) {
					rec.Release()
					return scalar.NewBooleanScalar(true), nil
				}
			}
		}
		rows += nr
		rec.Release()
	}
	switch a.kind {
	case applyArray, applyRows:
		vals, err := expr.BuildArray(ctx.Alloc, expr.ElemType(a.typ), elems)
		if err != nil {
			return nil, err
		}
		defer vals.Release()
		return scalar.NewListScalar(vals), nil
	case applyExists:
		return scalar.NewBooleanScalar(false), nil
	case applyAny:
		if sawNull {
			return scalar.MakeNullScalar(a.typ), nil
		}
		return scalar.NewBooleanScalar(false), nil
	}
	return result, nil
}

// rowsType is the record type of a subquery's rows as applyRows returns
// them: field i is named fi, as the columns' names may repeat.
func rowsType(cols []col) arrow.DataType {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: c.typ, Nullable: true}
	}
	return arrow.StructOf(fields...)
}

// detach copies the bytes of a string or binary scalar, which GetScalar
// leaves pointing into the batch about to be released.
func detach(s scalar.Scalar) scalar.Scalar {
	if !s.IsValid() {
		return s
	}
	switch v := s.(type) {
	case *scalar.String:
		return scalar.NewStringScalar(strings.Clone(v.String()))
	case *scalar.Binary:
		return scalar.NewBinaryScalar(memory.NewBufferBytes(bytes.Clone(v.Data())), v.Type)
	}
	return s
}
