package ast

import "reflect"

// Visitor is called by Walk for each node. If Visit returns a non-nil w,
// Walk visits each child of n with w and then calls w.Visit(nil).
type Visitor interface {
	Visit(n Node) (w Visitor)
}

// Walk traverses the tree rooted at n depth first, in source order: it
// calls v.Visit(n) and then walks the children of n with the visitor it
// returned. Children include the expressions, table expressions, query
// bodies and nested queries of n (subqueries, CTEs, the statement under
// EXPLAIN); a visitor that must stay within one query level returns nil for
// *Query nodes it meets below its root. Helper structs that are not Nodes
// (SelectItem, OrderItem, When, CTE, WindowSpec, Frame, TypeName) are walked
// through, not visited.
func Walk(v Visitor, n Node) {
	if isNil(n) {
		return
	}
	if v = v.Visit(n); v == nil {
		return
	}
	for _, c := range children(n) {
		Walk(v, c)
	}
	v.Visit(nil)
}

type inspector func(Node) bool

func (f inspector) Visit(n Node) Visitor {
	if n != nil && f(n) {
		return f
	}
	return nil
}

// Inspect traverses the tree rooted at n as Walk does, calling f for each
// node; when f returns false the node's children are skipped.
func Inspect(n Node, f func(Node) bool) {
	Walk(inspector(f), n)
}

// isNil reports whether n is nil or a typed nil pointer.
func isNil(n Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// children lists the direct child nodes of n in source order.
func children(n Node) []Node {
	var c collector
	switch n := n.(type) {
	case *Query:
		c.with(n.With)
		c.add(n.Body)
		c.orderItems(n.OrderBy)
		c.expr(n.Limit, n.Offset)
	case *Select:
		c.selectChildren(n)
	case *SetOp:
		c.add(n.Left, n.Right)
	case *Values:
		for _, row := range n.Rows {
			c.expr(row...)
		}
	case *Subquery:
		c.query(n.Query)
	case *Join:
		c.add(n.Left, n.Right)
		c.expr(n.On)
	case *FuncTable:
		c.expr(n.Func)
	case *Insert:
		c.with(n.With)
		c.query(n.Source)
	case *Explain:
		c.add(n.Stmt)
	case *Copy:
		c.query(n.Query)
	case Expr:
		c.exprChildren(n)
	}
	return c.nodes
}

type collector struct {
	nodes []Node
}

func (c *collector) add(nodes ...Node) {
	for _, n := range nodes {
		if !isNil(n) {
			c.nodes = append(c.nodes, n)
		}
	}
}

func (c *collector) expr(exprs ...Expr) {
	for _, e := range exprs {
		c.add(e)
	}
}

func (c *collector) query(q *Query) {
	if q != nil {
		c.nodes = append(c.nodes, q)
	}
}

func (c *collector) with(w *With) {
	if w == nil {
		return
	}
	for _, cte := range w.CTEs {
		c.query(cte.Query)
	}
}

func (c *collector) orderItems(items []OrderItem) {
	for _, o := range items {
		c.expr(o.Expr)
	}
}

func (c *collector) window(w *WindowSpec) {
	if w == nil {
		return
	}
	c.expr(w.PartitionBy...)
	c.orderItems(w.OrderBy)
	if w.Frame != nil {
		c.expr(w.Frame.Start.Offset, w.Frame.End.Offset)
	}
}

func (c *collector) selectChildren(s *Select) {
	c.expr(s.DistinctOn...)
	for _, item := range s.Items {
		c.expr(item.Expr)
	}
	for _, t := range s.From {
		c.add(t)
	}
	c.expr(s.Where)
	c.expr(s.GroupBy...)
	c.expr(s.Having)
	for _, w := range s.Windows {
		c.window(w)
	}
}

func (c *collector) exprChildren(e Expr) {
	switch e := e.(type) {
	case *Unary:
		c.expr(e.X)
	case *Binary:
		c.expr(e.L, e.R)
	case *IsNull:
		c.expr(e.X)
	case *IsBool:
		c.expr(e.X)
	case *Between:
		c.expr(e.X, e.Lo, e.Hi)
	case *In:
		c.expr(e.X)
		c.expr(e.List...)
	case *InSubquery:
		c.expr(e.X)
		c.query(e.Query)
	case *Exists:
		c.query(e.Query)
	case *ScalarSubquery:
		c.query(e.Query)
	case *ArraySubquery:
		c.query(e.Query)
	case *AnyAll:
		c.expr(e.X, e.Array)
		c.query(e.Query)
	case *Case:
		c.expr(e.Operand)
		for _, w := range e.Whens {
			c.expr(w.Cond, w.Result)
		}
		c.expr(e.Else)
	case *Cast:
		c.expr(e.X)
	case *FuncCall:
		c.expr(e.Args...)
		c.orderItems(e.OrderBy)
		c.expr(e.Filter)
		c.window(e.Over)
	case *ArrayExpr:
		c.expr(e.Elems...)
	case *Subscript:
		c.expr(e.X, e.Index, e.Upper)
	case *FieldSelect:
		c.expr(e.X)
	case *Collate:
		c.expr(e.X)
	case *Row:
		c.expr(e.Elems...)
	case *AtTimeZone:
		c.expr(e.X, e.Zone)
	}
}
