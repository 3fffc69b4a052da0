package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// Unnest turns arrays into rows: each input row becomes as many rows as
// the longest of the arrays Exprs give for it (none for NULL or empty
// arrays), carrying the input's columns followed by one column per
// expression holding its k-th element — NULL where that array is shorter.
// It is how set-returning functions run (expr.SetFunc gives each call's
// rows as an array): in FROM over a single row, and in a select list,
// where several calls run in lockstep, as PostgreSQL's ProjectSet does.
type Unnest struct {
	Input Plan
	Exprs []expr.Expr // each of an array type
	Names []string
}

func (u *Unnest) Schema() *arrow.Schema {
	in := u.Input.Schema()
	fields := append([]arrow.Field(nil), in.Fields()...)
	for i, e := range u.Exprs {
		name := e.String()
		if i < len(u.Names) && u.Names[i] != "" {
			name = u.Names[i]
		}
		fields = append(fields, arrow.Field{Name: name, Type: e.Type().(*arrow.ListType).Elem(), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

func (u *Unnest) Children() []Plan { return []Plan{u.Input} }
func (u *Unnest) WithChildren(c ...Plan) Plan {
	n := *u
	n.Input = c[0]
	return &n
}
func (u *Unnest) Ordering() []SortKey { return nil }
func (u *Unnest) Describe() string {
	parts := make([]string, len(u.Exprs))
	for i, e := range u.Exprs {
		parts[i] = e.String()
	}
	return fmt.Sprintf("Unnest [%s]", strings.Join(parts, ", "))
}

func (u *Unnest) Open(ec *ExecContext) (Operator, error) {
	for _, e := range u.Exprs {
		if !expr.IsList(e.Type()) {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "cannot unnest a value of type %s", expr.TypeName(e.Type()))
		}
	}
	in, err := OpenPlan(ec, u.Input)
	if err != nil {
		return nil, err
	}
	return &unnestOp{plan: u, ec: ec, input: in, sch: u.Schema()}, nil
}

type unnestOp struct {
	plan  *Unnest
	ec    *ExecContext
	input Operator
	sch   *arrow.Schema
	// The input batch being expanded, its arrays, and the next element
	// to emit: element k of row.
	cur    arrow.RecordBatch
	lists  []arrow.Array
	row, k int
}

func (o *unnestOp) Schema() *arrow.Schema { return o.sch }

func (o *unnestOp) Close() error {
	o.drop()
	return o.input.Close()
}

// drop releases the batch being expanded.
func (o *unnestOp) drop() {
	if o.cur != nil {
		o.cur.Release()
		releaseArrays(o.lists)
		o.cur, o.lists = nil, nil
	}
}

// Next returns the next rows, at most BatchRows of them: one input batch
// may expand into several output batches.
func (o *unnestOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if o.cur == nil {
			rec, err := o.input.Next(ctx)
			if err != nil {
				return nil, err
			}
			lists, err := evalAll(o.ec.evalContext(ctx), o.plan.Exprs, rec)
			if err != nil {
				rec.Release()
				return nil, err
			}
			o.cur, o.lists, o.row, o.k = rec, lists, 0, 0
		}
		out, err := o.expand(ctx)
		if err != nil || out != nil {
			return out, err
		}
		o.drop()
	}
}

// expand emits the next rows of the current batch, nil when it has none
// left.
func (o *unnestOp) expand(ctx context.Context) (arrow.RecordBatch, error) {
	n := int(o.cur.NumRows())
	// Row indices into the batch, and per array the element indices
	// (invalid past its end).
	var rows []int32
	elems := make([][]int32, len(o.lists))
	valid := make([][]bool, len(o.lists))
	for ; o.row < n && len(rows) < BatchRows; o.row, o.k = o.row+1, 0 {
		count := 0
		for _, l := range o.lists {
			count = max(count, listLength(l, o.row))
		}
		for ; o.k < count && len(rows) < BatchRows; o.k++ {
			rows = append(rows, int32(o.row))
			for j, l := range o.lists {
				idx, ok := int32(0), false
				if lst, isList := l.(*array.List); isList && o.k < listLength(l, o.row) {
					s, _ := lst.ValueOffsets(o.row)
					idx, ok = int32(s)+int32(o.k), true
				}
				elems[j] = append(elems[j], idx)
				valid[j] = append(valid[j], ok)
			}
		}
		if o.k < count {
			break // the batch is full in the middle of this row
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	alloc := o.ec.allocator()
	ri := indexArray(alloc, rows, nil)
	defer ri.Release()
	cols, err := takeColumns(ctx, alloc, o.cur.Columns(), ri)
	if err != nil {
		return nil, err
	}
	for j, l := range o.lists {
		var vals arrow.Array
		if lst, ok := l.(*array.List); ok {
			vals = lst.ListValues()
		} else { // a column of the null type: no elements
			vals = array.MakeArrayOfNull(alloc, o.sch.Field(int(o.cur.NumCols())+j).Type, 1)
			defer vals.Release()
		}
		ei := indexArray(alloc, elems[j], valid[j])
		c, err := takeColumns(ctx, alloc, []arrow.Array{vals}, ei)
		ei.Release()
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, c[0])
	}
	return newBatch(o.sch, cols, len(rows)), nil
}

// listLength is the number of elements of row i of an array column (0
// for NULL, and for a column of the null type).
func listLength(a arrow.Array, i int) int {
	l, ok := a.(*array.List)
	if !ok || l.IsNull(i) {
		return 0
	}
	s, e := l.ValueOffsets(i)
	return int(e - s)
}
