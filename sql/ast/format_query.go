package ast

func (p *printer) query(q *Query) {
	if q == nil {
		return
	}
	if q.With != nil {
		p.with(q.With)
	}
	if inner, ok := q.Body.(*Query); ok && !inner.Bare() {
		p.WriteByte('(')
		p.query(inner)
		p.WriteByte(')')
	} else {
		p.body(q.Body)
	}
	if len(q.OrderBy) > 0 {
		p.WriteString(" ORDER BY ")
		p.orderItems(q.OrderBy)
	}
	if q.Limit != nil {
		p.WriteString(" LIMIT ")
		p.expr(q.Limit)
	}
	if q.Offset != nil {
		p.WriteString(" OFFSET ")
		p.expr(q.Offset)
	}
}

// Bare reports whether q is nothing but its body: no WITH, ORDER BY, LIMIT
// or OFFSET.
func (q *Query) Bare() bool {
	return q.With == nil && len(q.OrderBy) == 0 && q.Limit == nil && q.Offset == nil
}

func (p *printer) with(w *With) {
	p.WriteString("WITH ")
	if w.Recursive {
		p.WriteString("RECURSIVE ")
	}
	for i, c := range w.CTEs {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString(QuoteIdent(c.Name))
		if c.Columns != nil {
			p.WriteByte('(')
			p.idents(c.Columns)
			p.WriteByte(')')
		}
		p.WriteString(" AS (")
		p.query(c.Query)
		p.WriteByte(')')
	}
	p.WriteByte(' ')
}

func (p *printer) body(b QueryBody) {
	switch b := b.(type) {
	case *Select:
		p.selectCore(b)
	case *SetOp:
		p.setOp(b)
	case *Values:
		p.values(b)
	case *Query:
		p.query(b)
	}
}

func setOpPrec(b QueryBody) int {
	switch b := b.(type) {
	case *SetOp:
		if b.Op == Intersect {
			return 2
		}
		return 1
	case *Query:
		if b.Bare() {
			return setOpPrec(b.Body)
		}
		return 0
	}
	return 3
}

func (p *printer) setOp(s *SetOp) {
	prec := setOpPrec(s)
	p.setOperand(s.Left, setOpPrec(s.Left) < prec)
	p.WriteByte(' ')
	p.WriteString(s.Op.String())
	if s.All {
		p.WriteString(" ALL")
	}
	p.WriteByte(' ')
	p.setOperand(s.Right, setOpPrec(s.Right) <= prec)
}

func (p *printer) setOperand(b QueryBody, parens bool) {
	if parens {
		p.WriteByte('(')
		p.body(b)
		p.WriteByte(')')
		return
	}
	p.body(b)
}

func (p *printer) values(v *Values) {
	p.WriteString("VALUES ")
	for i, row := range v.Rows {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteByte('(')
		p.exprs(row)
		p.WriteByte(')')
	}
}

func (p *printer) selectCore(s *Select) {
	p.WriteString("SELECT")
	if s.Distinct {
		p.WriteString(" DISTINCT")
	}
	if len(s.DistinctOn) > 0 {
		p.WriteString(" DISTINCT ON (")
		p.exprs(s.DistinctOn)
		p.WriteByte(')')
	}
	for i, item := range s.Items {
		if i > 0 {
			p.WriteByte(',')
		}
		p.WriteByte(' ')
		p.selectItem(item)
	}
	if len(s.From) > 0 {
		p.WriteString(" FROM ")
		for i, t := range s.From {
			if i > 0 {
				p.WriteString(", ")
			}
			p.tableExpr(t)
		}
	}
	if s.Where != nil {
		p.WriteString(" WHERE ")
		p.expr(s.Where)
	}
	if len(s.GroupBy) > 0 {
		p.WriteString(" GROUP BY ")
		p.exprs(s.GroupBy)
	}
	if s.Having != nil {
		p.WriteString(" HAVING ")
		p.expr(s.Having)
	}
	for i, w := range s.Windows {
		if i == 0 {
			p.WriteString(" WINDOW ")
		} else {
			p.WriteString(", ")
		}
		p.WriteString(QuoteIdent(w.Name) + " AS ")
		p.windowSpec(w)
	}
}

func (p *printer) selectItem(item SelectItem) {
	if item.Star {
		for _, q := range item.Qualifier {
			p.WriteString(QuoteIdent(q))
			p.WriteByte('.')
		}
		p.WriteByte('*')
		return
	}
	p.expr(item.Expr)
	if item.Alias != "" {
		p.WriteString(" AS ")
		p.WriteString(QuoteIdent(item.Alias))
	}
}

func (p *printer) tableExpr(t TableExpr) {
	switch t := t.(type) {
	case *TableRef:
		p.tableName(t.TableName)
		p.alias(t.Alias, t.ColumnAliases)
	case *Subquery:
		if t.Lateral {
			p.WriteString("LATERAL ")
		}
		p.WriteByte('(')
		p.query(t.Query)
		p.WriteByte(')')
		p.alias(t.Alias, t.ColumnAliases)
	case *FuncTable:
		if t.Lateral {
			p.WriteString("LATERAL ")
		}
		if c, ok := t.Func.(*Cast); ok {
			// Only the CAST(... AS ...) spelling is allowed in FROM.
			p.WriteString("CAST(")
			p.expr(c.X)
			p.WriteString(" AS ")
			p.typeName(c.Type)
			p.WriteByte(')')
		} else {
			p.expr(t.Func)
		}
		if t.Ordinality {
			p.WriteString(" WITH ORDINALITY")
		}
		p.alias(t.Alias, t.ColumnAliases)
	case *Join:
		p.join(t)
	}
}

func (p *printer) alias(name string, columns []string) {
	if name == "" {
		return
	}
	p.WriteString(" AS ")
	p.WriteString(QuoteIdent(name))
	if len(columns) > 0 {
		p.WriteByte('(')
		p.idents(columns)
		p.WriteByte(')')
	}
}

func (p *printer) join(j *Join) {
	p.tableExpr(j.Left)
	p.WriteByte(' ')
	if j.Natural {
		p.WriteString("NATURAL ")
	}
	p.WriteString(j.Kind.String())
	p.WriteByte(' ')
	if _, nested := j.Right.(*Join); nested {
		p.WriteByte('(')
		p.tableExpr(j.Right)
		p.WriteByte(')')
	} else {
		p.tableExpr(j.Right)
	}
	switch {
	case j.Using != nil:
		p.WriteString(" USING (")
		p.idents(j.Using)
		p.WriteByte(')')
	case j.On != nil:
		p.WriteString(" ON ")
		p.expr(j.On)
	}
}
