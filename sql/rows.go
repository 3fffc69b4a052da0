package sql

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
)

// tagRows is the result of a statement that returns no rows.
type tagRows struct{ tag string }

func tagOnly(tag string) Rows                                      { return &tagRows{tag: tag} }
func (r *tagRows) Schema() *arrow.Schema                           { return nil }
func (r *tagRows) Next(context.Context) (arrow.RecordBatch, error) { return nil, io.EOF }
func (r *tagRows) Close() error                                    { return nil }
func (r *tagRows) Tag() string                                     { return r.tag }

// batchRows streams prepared batches (SHOW, EXPLAIN, virtual results).
type batchRows struct {
	sch     *arrow.Schema
	batches []arrow.RecordBatch
	tag     string
	n       int64
}

func (r *batchRows) Schema() *arrow.Schema { return r.sch }

func (r *batchRows) Next(context.Context) (arrow.RecordBatch, error) {
	if len(r.batches) == 0 {
		return nil, io.EOF
	}
	b := r.batches[0]
	r.batches = r.batches[1:]
	r.n += b.NumRows()
	return b, nil
}

func (r *batchRows) Close() error {
	for _, b := range r.batches {
		b.Release()
	}
	r.batches = nil
	return nil
}

func (r *batchRows) Tag() string {
	if r.tag == "SELECT" {
		return fmt.Sprintf("SELECT %d", r.n)
	}
	return r.tag
}

// textRows returns rows of text columns.
func textRows(names []string, rows [][]string, tag string) Rows {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	sch := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	return &batchRows{sch: sch, batches: []arrow.RecordBatch{b.NewRecordBatch()}, tag: tag}
}

// planRows streams the output of an engine operator tree.
type planRows struct {
	op     engine.Operator
	cols   []Column // the result's description, when the binder gave one
	n      int64
	tag    string // "SELECT" counts rows
	after  func() // run once when the stream ends or closes
	closed bool
	// run is the kept plan's run the rows use, given back to kept when
	// they close (prepare_cache.go); nil for other plans.
	run  *keptRun
	kept *boundCache
}

func (r *planRows) Schema() *arrow.Schema { return r.op.Schema() }

func (r *planRows) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.closed && r.run != nil {
		// The run may serve another execution now: its operators are
		// not to be touched again.
		return nil, io.EOF
	}
	rec, err := r.op.Next(ctx)
	if err != nil {
		return nil, err
	}
	r.n += rec.NumRows()
	return rec, nil
}

func (r *planRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.op.Close()
	if r.after != nil {
		r.after()
	}
	if r.run != nil {
		r.kept.giveBack(r.run)
	}
	return err
}

func (r *planRows) Tag() string {
	if r.tag == "" || r.tag == "SELECT" {
		if r.n >= 0 && r.n < int64(len(smallSelectTags)) {
			return smallSelectTags[r.n] // a point lookup's: nothing to format
		}
		return fmt.Sprintf("SELECT %d", r.n)
	}
	return r.tag
}

// smallSelectTags are the tags of the smallest results.
var smallSelectTags = [...]string{"SELECT 0", "SELECT 1", "SELECT 2"}

// textColumns renders every column of rec as PostgreSQL text, by the same
// casts to text that SQL's ::text uses; nil entries are NULLs.
func textColumns(ctx context.Context, rec arrow.RecordBatch) ([][]*string, error) {
	ec := &expr.Context{Ctx: ctx, Alloc: memory.DefaultAllocator}
	out := make([][]*string, rec.NumCols())
	for c := 0; c < int(rec.NumCols()); c++ {
		f := rec.Schema().Field(c)
		if b, ok := rec.Column(c).(*array.Boolean); ok {
			// boolout writes t and f, unlike the cast to text.
			vals := make([]*string, b.Len())
			t, fl := "t", "f"
			for i := range vals {
				if b.IsValid(i) {
					if b.Value(i) {
						vals[i] = &t
					} else {
						vals[i] = &fl
					}
				}
			}
			out[c] = vals
			continue
		}
		col := &expr.Column{Index: c, Name: f.Name, Typ: f.Type, Null: f.Nullable}
		cast, err := expr.Cast(col, arrow.BinaryTypes.String)
		if err != nil {
			return nil, err
		}
		arr, err := cast.Eval(ec, rec)
		if err != nil {
			return nil, err
		}
		strs := arr.(*array.String)
		vals := make([]*string, strs.Len())
		for i := range vals {
			if strs.IsValid(i) {
				s := strs.Value(i)
				vals[i] = &s
			}
		}
		arr.Release()
		out[c] = vals
	}
	return out, nil
}
