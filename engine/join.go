package engine

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
)

// JoinKind is the kind of a join. The left input is the probe side, the
// right input the build side that is held in memory.
type JoinKind int

const (
	JoinInner JoinKind = iota
	// JoinLeft keeps every left row, with NULLs for the right columns of
	// rows that match nothing.
	JoinLeft
	// JoinRight keeps every right row, with NULLs for the left columns of
	// rows that match nothing.
	JoinRight
	// JoinFull keeps every row of both sides.
	JoinFull
	// JoinSemi yields each left row that matches at least one right row,
	// once (EXISTS, IN). Only left columns come out.
	JoinSemi
	// JoinAnti yields each left row that matches no right row (NOT
	// EXISTS). Only left columns come out.
	JoinAnti
	// JoinNullAwareAnti is NOT IN (subquery) with its PostgreSQL
	// semantics over one key: if the right side is empty every left row
	// comes out; otherwise a left row comes out only if its key is not NULL,
	// no right key is NULL, and no right key equals it.
	JoinNullAwareAnti
)

func (k JoinKind) String() string {
	switch k {
	case JoinLeft:
		return "left"
	case JoinRight:
		return "right"
	case JoinFull:
		return "full"
	case JoinSemi:
		return "semi"
	case JoinAnti:
		return "anti"
	case JoinNullAwareAnti:
		return "null-aware anti"
	}
	return "inner"
}

// leftOnly reports whether the join yields only left columns.
func (k JoinKind) leftOnly() bool { return k >= JoinSemi }

// keepsLeft reports whether unmatched left rows come out.
func (k JoinKind) keepsLeft() bool { return k == JoinLeft || k == JoinFull }

// keepsRight reports whether unmatched right rows come out.
func (k JoinKind) keepsRight() bool { return k == JoinRight || k == JoinFull }

// joinSchema is the output schema of a join of l and r.
func joinSchema(kind JoinKind, l, r *arrow.Schema) *arrow.Schema {
	if kind.leftOnly() {
		return l
	}
	lf, rf := l.Fields(), r.Fields()
	if kind == JoinRight || kind == JoinFull {
		lf = nullableFields(l)
	}
	if kind == JoinLeft || kind == JoinFull {
		rf = nullableFields(r)
	}
	return arrow.NewSchema(append(append([]arrow.Field{}, lf...), rf...), nil)
}

// HashJoin joins Left and Right on LeftKeys[i] = RightKeys[i] (SQL
// equality: a NULL key matches nothing, though its row still comes out of
// an outer join), keeping only pairs for which Residual (nil: TRUE) is
// TRUE. Residual is evaluated over the left columns followed by the right
// columns, for every kind.
//
// Right is the build side: it is read whole into memory, reserved from
// ec.Mem (53200 past the limit), and a hash table is built over its keys;
// then Left is streamed through it. Output is left columns then right
// columns (left columns only for semi and anti joins). Inner, semi and anti
// joins, and left joins without a residual, keep the order of Left.
type HashJoin struct {
	Left, Right         Plan
	Kind                JoinKind
	LeftKeys, RightKeys []expr.Expr
	Residual            expr.Expr
}

func (j *HashJoin) Schema() *arrow.Schema {
	return joinSchema(j.Kind, j.Left.Schema(), j.Right.Schema())
}
func (j *HashJoin) Children() []Plan { return []Plan{j.Left, j.Right} }
func (j *HashJoin) WithChildren(c ...Plan) Plan {
	n := *j
	n.Left, n.Right = c[0], c[1]
	return &n
}

func (j *HashJoin) Ordering() []SortKey {
	switch {
	case j.Kind == JoinInner || j.Kind.leftOnly():
		return j.Left.Ordering()
	case j.Kind == JoinLeft && j.Residual == nil:
		return j.Left.Ordering()
	}
	return nil
}

func (j *HashJoin) Describe() string {
	conds := make([]string, len(j.LeftKeys))
	for i := range j.LeftKeys {
		conds[i] = fmt.Sprintf("%s = %s", j.LeftKeys[i], j.RightKeys[i])
	}
	s := fmt.Sprintf("HashJoin %s on %s", j.Kind, strings.Join(conds, " AND "))
	if j.Residual != nil {
		s += fmt.Sprintf(" filter %s", j.Residual)
	}
	return s
}

func (j *HashJoin) check() error {
	if len(j.LeftKeys) != len(j.RightKeys) || len(j.LeftKeys) == 0 {
		return sqlerr.New(sqlerr.InternalError, "hash join needs as many left keys as right keys, at least one")
	}
	for i := range j.LeftKeys {
		if l, r := j.LeftKeys[i].Type(), j.RightKeys[i].Type(); !arrow.TypeEqual(l, r) {
			return sqlerr.New(sqlerr.DatatypeMismatch, "join keys %s and %s have different types %s and %s",
				j.LeftKeys[i], j.RightKeys[i], l, r)
		}
	}
	if j.Kind == JoinNullAwareAnti && (len(j.LeftKeys) != 1 || j.Residual != nil) {
		return sqlerr.New(sqlerr.FeatureNotSupported, "NOT IN is supported over one column without further conditions")
	}
	return nil
}

func (j *HashJoin) Open(ec *ExecContext) (Operator, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	return openJoin(ec, j.Left, j.Right, j.Kind, j.LeftKeys, j.RightKeys, j.Residual, j.Schema())
}

// NestedLoopJoin joins every row of Left with every row of Right for which
// Cond (nil: TRUE, a CROSS JOIN) is TRUE: for conditions without an
// equality to hash on. Right is read whole into memory as for HashJoin;
// kinds, schema and the order kept are as for HashJoin (null-aware anti
// excepted).
type NestedLoopJoin struct {
	Left, Right Plan
	Kind        JoinKind
	Cond        expr.Expr
}

func (j *NestedLoopJoin) Schema() *arrow.Schema {
	return joinSchema(j.Kind, j.Left.Schema(), j.Right.Schema())
}
func (j *NestedLoopJoin) Children() []Plan { return []Plan{j.Left, j.Right} }
func (j *NestedLoopJoin) WithChildren(c ...Plan) Plan {
	n := *j
	n.Left, n.Right = c[0], c[1]
	return &n
}
func (j *NestedLoopJoin) Ordering() []SortKey {
	return (&HashJoin{Left: j.Left, Kind: j.Kind, Residual: j.Cond}).Ordering()
}

func (j *NestedLoopJoin) Describe() string {
	if j.Cond == nil {
		if j.Kind == JoinInner {
			return "NestedLoopJoin cross"
		}
		return fmt.Sprintf("NestedLoopJoin %s", j.Kind)
	}
	return fmt.Sprintf("NestedLoopJoin %s on %s", j.Kind, j.Cond)
}

func (j *NestedLoopJoin) Open(ec *ExecContext) (Operator, error) {
	if j.Kind == JoinNullAwareAnti {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "null-aware anti join needs a hash join")
	}
	return openJoin(ec, j.Left, j.Right, j.Kind, nil, nil, j.Cond, j.Schema())
}
