package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
)

// Project computes Exprs over each batch of Input; output column i is named
// Names[i] (the expression's text when missing) and typed by the
// expression.
type Project struct {
	Input Plan
	Exprs []expr.Expr
	Names []string

	schema *arrow.Schema // made by NewProject, so that each Open need not
}

// NewProject returns a Project node.
func NewProject(input Plan, exprs []expr.Expr, names []string) *Project {
	return NewProjectSchema(input, exprs, names, nil)
}

// NewProjectSchema is NewProject reusing sch, the schema of an earlier
// Project, when its fields are the ones exprs and names give (else, or
// when sch is nil, it makes one): a prepared statement planned again for
// each execution then skips building a schema and its field index.
func NewProjectSchema(input Plan, exprs []expr.Expr, names []string, sch *arrow.Schema) *Project {
	fields := exprFields(exprs, names)
	if sch == nil || !sameFields(sch, fields) {
		sch = arrow.NewSchema(fields, nil)
	}
	return &Project{Input: input, Exprs: exprs, Names: names, schema: sch}
}

func sameFields(sch *arrow.Schema, fields []arrow.Field) bool {
	if sch.NumFields() != len(fields) {
		return false
	}
	for i, f := range fields {
		if !f.Equal(sch.Field(i)) {
			return false
		}
	}
	return true
}

func (p *Project) Schema() *arrow.Schema {
	if p.schema != nil {
		return p.schema
	}
	return arrow.NewSchema(exprFields(p.Exprs, p.Names), nil)
}

func (p *Project) Children() []Plan { return []Plan{p.Input} }
func (p *Project) WithChildren(c ...Plan) Plan {
	n := *p
	n.Input = c[0]
	return &n
}

// Ordering is the input's ordering as far as its columns survive as plain
// column references.
func (p *Project) Ordering() []SortKey {
	var out []SortKey
	for _, k := range p.Input.Ordering() {
		found := false
		for i, e := range p.Exprs {
			if c, ok := e.(*expr.Column); ok && c.Index == k.Column {
				k.Column, found = i, true
				break
			}
		}
		if !found {
			break
		}
		out = append(out, k)
	}
	return out
}

func (p *Project) Describe() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		parts[i] = e.String()
		if i < len(p.Names) && p.Names[i] != "" && p.Names[i] != parts[i] {
			parts[i] += " AS " + p.Names[i]
		}
	}
	return fmt.Sprintf("Project %s", strings.Join(parts, ", "))
}

func (p *Project) Open(ec *ExecContext) (Operator, error) {
	in, err := OpenPlan(ec, p.Input)
	if err != nil {
		return nil, err
	}
	sch := p.Schema()
	return &projectOp{plan: p, sch: sch, ec: ec, input: in, pass: passes(p.Exprs, in.Schema(), sch)}, nil
}

// PassesInput reports whether p outputs its input's batches as they are,
// under an equal schema: running p.Input in p's place gives the same
// batches. A caller that runs one plan many times (a prepared
// statement's kept plan) can leave such a projection out.
func (p *Project) PassesInput() bool { return passes(p.Exprs, p.Input.Schema(), p.Schema()) }

// passes reports whether a projection outputs its input as it is: each
// output column the input's column at its place, under the same field
// (SELECT v, n over a scan of v and n).
func passes(exprs []expr.Expr, in, out *arrow.Schema) bool {
	if len(exprs) != in.NumFields() {
		return false
	}
	for i, e := range exprs {
		if c, ok := e.(*expr.Column); !ok || c.Index != i {
			return false
		}
	}
	return in == out || in.Equal(out)
}

type projectOp struct {
	plan  *Project
	sch   *arrow.Schema
	ec    *ExecContext
	input Operator
	pass  bool // passes: the input's batches go out as they are
}

func (o *projectOp) Schema() *arrow.Schema { return o.sch }

func (o *projectOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := o.input.Next(ctx)
	if err != nil || o.pass {
		return rec, err
	}
	defer rec.Release()
	cols, err := evalAll(o.ec.evalContext(ctx), o.plan.Exprs, rec)
	if err != nil {
		return nil, err
	}
	return newBatch(o.sch, cols, int(rec.NumRows())), nil
}

func (o *projectOp) Close() error { return o.input.Close() }
