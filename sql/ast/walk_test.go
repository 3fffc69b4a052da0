package ast

import (
	"fmt"
	"strings"
	"testing"
)

// walkTree is SELECT a + 1, (SELECT b FROM u) FROM t JOIN v ON t.x = v.x
// WHERE c IN (1, 2) ORDER BY d.
func walkTree() *Query {
	sub := &Query{Body: &Select{Items: []SelectItem{{Expr: ref("b")}}, From: []TableExpr{&TableRef{TableName: TableName{Name: "u"}}}}}
	return &Query{
		Body: &Select{
			Items: []SelectItem{{Expr: bin(OpAdd, ref("a"), lit(1))}, {Expr: &ScalarSubquery{Query: sub}}, {Star: true}},
			From: []TableExpr{&Join{
				Kind:  InnerJoin,
				Left:  &TableRef{TableName: TableName{Name: "t"}},
				Right: &TableRef{TableName: TableName{Name: "v"}},
				On:    bin(OpEq, &ColumnRef{Parts: []string{"t", "x"}}, &ColumnRef{Parts: []string{"v", "x"}}),
			}},
			Where: &In{X: ref("c"), List: []Expr{lit(1), lit(2)}},
		},
		OrderBy: []OrderItem{{Expr: ref("d")}},
	}
}

func TestInspect(t *testing.T) {
	var seen []string
	Inspect(walkTree(), func(n Node) bool {
		seen = append(seen, fmt.Sprintf("%T", n)[5:]+":"+n.String())
		return true
	})
	want := []string{
		"Query:SELECT a + 1, (SELECT b FROM u), * FROM t JOIN v ON t.x = v.x WHERE c IN (1, 2) ORDER BY d",
		"Select:SELECT a + 1, (SELECT b FROM u), * FROM t JOIN v ON t.x = v.x WHERE c IN (1, 2)",
		"Binary:a + 1", "ColumnRef:a", "Literal:1",
		"ScalarSubquery:(SELECT b FROM u)", "Query:SELECT b FROM u", "Select:SELECT b FROM u", "ColumnRef:b", "TableRef:u",
		"Join:t JOIN v ON t.x = v.x", "TableRef:t", "TableRef:v", "Binary:t.x = v.x", "ColumnRef:t.x", "ColumnRef:v.x",
		"In:c IN (1, 2)", "ColumnRef:c", "Literal:1", "Literal:2",
		"ColumnRef:d",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("visited:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestInspectSkipsSubqueries(t *testing.T) {
	root := walkTree()
	var cols []string
	Inspect(root, func(n Node) bool {
		if q, ok := n.(*Query); ok && q != root {
			return false
		}
		if c, ok := n.(*ColumnRef); ok {
			cols = append(cols, c.String())
		}
		return true
	})
	if got := strings.Join(cols, " "); got != "a t.x v.x c d" {
		t.Errorf("columns outside subqueries: %s", got)
	}
}

type countVisitor struct{ enter, leave *int }

func (v countVisitor) Visit(n Node) Visitor {
	if n == nil {
		*v.leave++
	} else {
		*v.enter++
	}
	return v
}

func TestWalkPairsEnterAndLeave(t *testing.T) {
	var enter, leave int
	Walk(countVisitor{&enter, &leave}, walkTree())
	if enter != 21 || leave != enter {
		t.Errorf("entered %d nodes, left %d; want 21 each", enter, leave)
	}
	// Typed nil children are skipped, not visited.
	Walk(countVisitor{&enter, &leave}, &Unary{Op: OpNot, X: (*ColumnRef)(nil)})
	if enter != 22 {
		t.Errorf("a nil child was visited")
	}
}
