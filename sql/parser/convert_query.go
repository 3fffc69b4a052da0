package parser

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dormousedb/dormouse/sql/ast"
)

// query converts a SelectStmt, which pg_query uses for SELECT, VALUES and
// set operations alike, into a Query; pos is where the query starts, or -1.
func (c *converter) query(s *pg.SelectStmt, pos int) *ast.Query {
	errPos := pos
	if errPos < 0 {
		errPos = c.stmtPos
	}
	switch {
	case s.GetIntoClause() != nil:
		unsupported(errPos, "SELECT ... INTO is not supported; use CREATE TABLE and INSERT ... SELECT")
	case len(s.GetLockingClause()) > 0:
		unsupported(errPos, "SELECT ... FOR UPDATE/SHARE is not supported")
	case s.GetLimitOption() == pg.LimitOption_LIMIT_OPTION_WITH_TIES:
		unsupported(c.exprPos(s.GetLimitCount()), "FETCH FIRST ... WITH TIES is not supported")
	}
	q := &ast.Query{
		With:    c.with(s.GetWithClause()),
		OrderBy: c.orderItems(s.GetSortClause()),
		Limit:   c.expr(s.GetLimitCount()),
		Offset:  c.expr(s.GetLimitOffset()),
		Pos:     pos,
	}
	q.Body = c.body(s, pos)
	return q
}

func (c *converter) body(s *pg.SelectStmt, pos int) ast.QueryBody {
	var op ast.SetOpKind
	switch s.GetOp() {
	case pg.SetOperation_SETOP_UNION:
		op = ast.Union
	case pg.SetOperation_SETOP_INTERSECT:
		op = ast.Intersect
	case pg.SetOperation_SETOP_EXCEPT:
		op = ast.Except
	default:
		if len(s.GetValuesLists()) > 0 {
			return c.values(s.GetValuesLists(), pos)
		}
		return c.selectCore(s, pos)
	}
	return &ast.SetOp{Op: op, All: s.GetAll(), Left: c.setOperand(s.GetLarg()), Right: c.setOperand(s.GetRarg()), Pos: pos}
}

// setOperand converts one side of a set operation: its body, or the whole
// query when it has its own WITH, ORDER BY or LIMIT.
func (c *converter) setOperand(s *pg.SelectStmt) ast.QueryBody {
	if s == nil {
		fail(CodeSyntaxError, c.stmtPos, "set operation without an operand")
	}
	q := c.query(s, -1)
	if q.Bare() {
		return q.Body
	}
	return q
}

func (c *converter) values(lists []*pg.Node, pos int) *ast.Values {
	v := &ast.Values{Pos: pos}
	for _, l := range lists {
		v.Rows = append(v.Rows, c.exprs(l.GetList().GetItems()))
	}
	return v
}

func (c *converter) selectCore(s *pg.SelectStmt, pos int) *ast.Select {
	if s.GetGroupDistinct() {
		unsupported(pos, "GROUP BY DISTINCT is not supported")
	}
	sel := &ast.Select{
		Where:  c.expr(s.GetWhereClause()),
		Having: c.expr(s.GetHavingClause()),
		Pos:    pos,
	}
	if d := s.GetDistinctClause(); len(d) == 1 && d[0].GetNode() == nil {
		sel.Distinct = true
	} else {
		sel.DistinctOn = c.exprs(d)
	}
	for _, t := range s.GetTargetList() {
		sel.Items = append(sel.Items, c.selectItem(t))
	}
	for _, f := range s.GetFromClause() {
		sel.From = append(sel.From, c.tableExpr(f))
	}
	for _, g := range s.GetGroupClause() {
		if g.GetGroupingSet() != nil {
			unsupported(c.exprPos(g), "GROUPING SETS, ROLLUP and CUBE are not supported")
		}
		sel.GroupBy = append(sel.GroupBy, c.expr(g))
	}
	for _, w := range s.GetWindowClause() {
		sel.Windows = append(sel.Windows, c.windowDef(w.GetWindowDef()))
	}
	return sel
}

func (c *converter) selectItem(n *pg.Node) ast.SelectItem {
	rt := n.GetResTarget()
	if rt == nil {
		fail(CodeSyntaxError, c.stmtPos, "malformed target list")
	}
	pos := loc(rt.GetLocation())
	if len(rt.GetIndirection()) > 0 {
		unsupported(c.at(rt.GetLocation()), "assigning to a field or element is not supported")
	}
	e := c.expr(rt.GetVal())
	if col, ok := e.(*ast.ColumnRef); ok && col.Star {
		return ast.SelectItem{Star: true, Qualifier: col.Parts, Pos: pos}
	}
	return ast.SelectItem{Expr: e, Alias: rt.GetName(), Pos: pos}
}

func (c *converter) with(w *pg.WithClause) *ast.With {
	if w == nil {
		return nil
	}
	out := &ast.With{Recursive: w.GetRecursive(), Pos: loc(w.GetLocation())}
	for _, n := range w.GetCtes() {
		cte := n.GetCommonTableExpr()
		pos := c.at(cte.GetLocation())
		switch {
		case cte.GetSearchClause() != nil || cte.GetCycleClause() != nil:
			unsupported(pos, "SEARCH and CYCLE clauses are not supported")
		case cte.GetCtequery().GetSelectStmt() == nil:
			unsupported(pos, "data-modifying statements in WITH are not supported")
		}
		out.CTEs = append(out.CTEs, ast.CTE{
			Name:    cte.GetCtename(),
			Columns: c.names(cte.GetAliascolnames()),
			Query:   c.query(cte.GetCtequery().GetSelectStmt(), pos),
			Pos:     pos,
		})
	}
	return out
}

// names converts a list of String nodes, keeping nil for an empty list.
func (c *converter) names(nodes []*pg.Node) []string {
	if len(nodes) == 0 {
		return nil
	}
	return c.strings(nodes, c.stmtPos)
}

func (c *converter) tableExpr(n *pg.Node) ast.TableExpr {
	switch t := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		r := t.RangeVar
		ref := &ast.TableRef{TableName: c.tableName(r)}
		ref.Alias, ref.ColumnAliases = c.alias(r.GetAlias())
		return ref
	case *pg.Node_RangeSubselect:
		r := t.RangeSubselect
		sel := r.GetSubquery().GetSelectStmt()
		if sel == nil {
			fail(CodeSyntaxError, c.stmtPos, "malformed subquery in FROM")
		}
		sub := &ast.Subquery{Query: c.query(sel, -1), Lateral: r.GetLateral(), Pos: -1}
		sub.Alias, sub.ColumnAliases = c.alias(r.GetAlias())
		return sub
	case *pg.Node_JoinExpr:
		return c.join(t.JoinExpr)
	case *pg.Node_RangeFunction:
		return c.funcTable(t.RangeFunction)
	case *pg.Node_RangeTableSample:
		unsupported(c.at(t.RangeTableSample.GetLocation()), "TABLESAMPLE is not supported")
	case *pg.Node_RangeTableFunc:
		unsupported(c.at(t.RangeTableFunc.GetLocation()), "XMLTABLE is not supported")
	}
	unsupported(c.exprPos(n), "this kind of FROM item is not supported")
	return nil
}

func (c *converter) alias(a *pg.Alias) (string, []string) {
	if a == nil {
		return "", nil
	}
	return a.GetAliasname(), c.names(a.GetColnames())
}

func (c *converter) join(j *pg.JoinExpr) *ast.Join {
	out := &ast.Join{
		Left:    c.tableExpr(j.GetLarg()),
		Right:   c.tableExpr(j.GetRarg()),
		On:      c.expr(j.GetQuals()),
		Natural: j.GetIsNatural(),
	}
	out.Pos = out.Left.Position()
	if j.GetAlias() != nil || j.GetJoinUsingAlias() != nil {
		unsupported(c.at(int32(out.Pos)), "an alias on a JOIN is not supported")
	}
	if u := j.GetUsingClause(); len(u) > 0 {
		out.Using = c.strings(u, c.at(int32(out.Pos)))
	}
	switch j.GetJointype() {
	case pg.JoinType_JOIN_INNER:
		out.Kind = ast.InnerJoin
		if out.On == nil && out.Using == nil && !out.Natural {
			out.Kind = ast.CrossJoin
		}
	case pg.JoinType_JOIN_LEFT:
		out.Kind = ast.LeftJoin
	case pg.JoinType_JOIN_RIGHT:
		out.Kind = ast.RightJoin
	case pg.JoinType_JOIN_FULL:
		out.Kind = ast.FullJoin
	default:
		unsupported(c.at(int32(out.Pos)), "this kind of join is not supported")
	}
	return out
}

func (c *converter) funcTable(r *pg.RangeFunction) *ast.FuncTable {
	fns := r.GetFunctions()
	if r.GetIsRowsfrom() || len(fns) != 1 {
		unsupported(c.stmtPos, "ROWS FROM (...) is not supported")
	}
	pair := fns[0].GetList().GetItems()
	if len(pair) == 0 {
		fail(CodeSyntaxError, c.stmtPos, "malformed function in FROM")
	}
	fn := c.expr(pair[0])
	if (len(pair) > 1 && pair[1].GetList() != nil) || len(r.GetColdeflist()) > 0 {
		unsupported(fn.Position(), "a column definition list for a function in FROM is not supported")
	}
	ft := &ast.FuncTable{Func: fn, Ordinality: r.GetOrdinality(), Lateral: r.GetLateral(), Pos: fn.Position()}
	ft.Alias, ft.ColumnAliases = c.alias(r.GetAlias())
	return ft
}

func (c *converter) orderItems(nodes []*pg.Node) []ast.OrderItem {
	var items []ast.OrderItem
	for _, n := range nodes {
		s := n.GetSortBy()
		if s == nil {
			fail(CodeSyntaxError, c.stmtPos, "malformed ORDER BY")
		}
		item := ast.OrderItem{Expr: c.expr(s.GetNode()), Pos: loc(s.GetLocation())}
		if item.Pos < 0 && item.Expr != nil {
			item.Pos = item.Expr.Position()
		}
		switch s.GetSortbyDir() {
		case pg.SortByDir_SORTBY_DESC:
			item.Desc = true
		case pg.SortByDir_SORTBY_USING:
			unsupported(c.at(s.GetLocation()), "ORDER BY ... USING is not supported")
		}
		switch s.GetSortbyNulls() {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			item.NullsFirst = ptr(true)
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			item.NullsFirst = ptr(false)
		}
		items = append(items, item)
	}
	return items
}

func ptr[T any](v T) *T { return &v }

// Frame option bits of a WindowDef, from PostgreSQL's parsenodes.h.
const (
	frameNonDefault              = 0x00001
	frameRange                   = 0x00002
	frameRows                    = 0x00004
	frameGroups                  = 0x00008
	frameStartUnboundedPreceding = 0x00020
	frameEndUnboundedPreceding   = 0x00040
	frameStartUnboundedFollowing = 0x00080
	frameEndUnboundedFollowing   = 0x00100
	frameStartCurrentRow         = 0x00200
	frameEndCurrentRow           = 0x00400
	frameStartOffsetPreceding    = 0x00800
	frameEndOffsetPreceding      = 0x01000
	frameStartOffsetFollowing    = 0x02000
	frameEndOffsetFollowing      = 0x04000
	frameExcludeCurrentRow       = 0x08000
	frameExcludeGroup            = 0x10000
	frameExcludeTies             = 0x20000
)

func (c *converter) windowDef(w *pg.WindowDef) *ast.WindowSpec {
	if w == nil {
		return nil
	}
	spec := &ast.WindowSpec{
		Name:        w.GetName(),
		RefName:     w.GetRefname(),
		PartitionBy: c.exprs(w.GetPartitionClause()),
		OrderBy:     c.orderItems(w.GetOrderClause()),
		Pos:         loc(w.GetLocation()),
	}
	opts := w.GetFrameOptions()
	if opts&frameNonDefault == 0 {
		return spec
	}
	f := &ast.Frame{Mode: ast.FrameRange}
	switch {
	case opts&frameRows != 0:
		f.Mode = ast.FrameRows
	case opts&frameGroups != 0:
		f.Mode = ast.FrameGroups
	}
	start, end := c.expr(w.GetStartOffset()), c.expr(w.GetEndOffset())
	f.Start = frameBound(opts, start, frameStartUnboundedPreceding, frameStartOffsetPreceding,
		frameStartOffsetFollowing, frameStartUnboundedFollowing)
	f.End = frameBound(opts, end, frameEndUnboundedPreceding, frameEndOffsetPreceding,
		frameEndOffsetFollowing, frameEndUnboundedFollowing)
	switch {
	case opts&frameExcludeCurrentRow != 0:
		f.Exclude = ast.ExcludeCurrentRow
	case opts&frameExcludeGroup != 0:
		f.Exclude = ast.ExcludeGroup
	case opts&frameExcludeTies != 0:
		f.Exclude = ast.ExcludeTies
	}
	spec.Frame = f
	return spec
}

// frameBound decodes one end of a frame from the option bits that describe
// that end; with none of them set the end is CURRENT ROW.
func frameBound(opts int32, offset ast.Expr, unbPre, offPre, offFol, unbFol int32) ast.FrameBound {
	switch {
	case opts&unbPre != 0:
		return ast.FrameBound{Kind: ast.UnboundedPreceding}
	case opts&offPre != 0:
		return ast.FrameBound{Kind: ast.OffsetPreceding, Offset: offset}
	case opts&offFol != 0:
		return ast.FrameBound{Kind: ast.OffsetFollowing, Offset: offset}
	case opts&unbFol != 0:
		return ast.FrameBound{Kind: ast.UnboundedFollowing}
	}
	return ast.FrameBound{Kind: ast.CurrentRow}
}
