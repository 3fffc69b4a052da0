package parser

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/dormousedb/dormouse/sql/ast"
)

// converter turns one pg_query statement tree into our AST. It fails by
// panicking with a bailout (see fail), which Parse recovers.
type converter struct {
	// stmtPos is the offset of the statement's first token: the position
	// of errors about parse nodes that carry no location of their own.
	stmtPos int
}

// loc converts a pg_query location (-1 when unknown) into a Pos.
func loc(l int32) int {
	if l < 0 {
		return -1
	}
	return int(l)
}

// at is loc with the statement's position standing in for an unknown
// location: for error positions.
func (c *converter) at(l int32) int {
	if l < 0 {
		return c.stmtPos
	}
	return int(l)
}

func (c *converter) stmt(n *pg.Node) ast.Stmt {
	switch n := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return c.query(n.SelectStmt, c.stmtPos)
	case *pg.Node_InsertStmt:
		return c.insert(n.InsertStmt)
	case *pg.Node_CreateStmt:
		return c.createTable(n.CreateStmt)
	case *pg.Node_DropStmt:
		return c.dropTable(n.DropStmt)
	case *pg.Node_AlterTableStmt:
		return c.alterTable(n.AlterTableStmt)
	case *pg.Node_ExplainStmt:
		return c.explain(n.ExplainStmt)
	case *pg.Node_VariableSetStmt:
		return c.set(n.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		return &ast.Show{Name: n.VariableShowStmt.GetName(), Pos: c.stmtPos}
	case *pg.Node_TransactionStmt:
		return c.transaction(n.TransactionStmt)
	case *pg.Node_CopyStmt:
		return c.copyStmt(n.CopyStmt)
	case *pg.Node_DiscardStmt:
		return c.discard(n.DiscardStmt)
	case *pg.Node_DeallocateStmt:
		d := n.DeallocateStmt
		return &ast.Deallocate{Name: d.GetName(), All: d.GetIsall(), Pos: c.stmtPos}
	}
	unsupported(c.stmtPos, "%s is not supported", statementName(n))
	return nil
}

// statementNames spells the statements whose names do not follow from
// their parse node's type name.
var statementNames = map[string]string{
	"IndexStmt": "CREATE INDEX", "ViewStmt": "CREATE VIEW", "CreateTableAsStmt": "CREATE TABLE AS",
	"CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE", "VacuumStmt": "VACUUM",
	"ExplainStmt": "EXPLAIN", "CreateSeqStmt": "CREATE SEQUENCE", "CreateFunctionStmt": "CREATE FUNCTION",
	"DoStmt": "DO", "RuleStmt": "CREATE RULE", "CreateTrigStmt": "CREATE TRIGGER",
	"GrantRoleStmt": "GRANT", "ClusterStmt": "CLUSTER", "LockStmt": "LOCK", "CallStmt": "CALL",
	"ClosePortalStmt": "CLOSE", "FetchStmt": "FETCH", "DeclareCursorStmt": "DECLARE",
	"CheckPointStmt": "CHECKPOINT", "RenameStmt": "ALTER ... RENAME", "CommentStmt": "COMMENT",
	"RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "ReindexStmt": "REINDEX",
}

// statementName names a statement for an error: UpdateStmt is "UPDATE",
// CreateSchemaStmt "CREATE SCHEMA".
func statementName(n *pg.Node) string {
	typ := strings.TrimPrefix(fmt.Sprintf("%T", n.GetNode()), "*pg_query.Node_")
	if name, ok := statementNames[typ]; ok {
		return name
	}
	typ = strings.TrimSuffix(typ, "Stmt")
	var b strings.Builder
	for i, r := range typ {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	if b.Len() == 0 {
		return "this statement"
	}
	return b.String()
}

// tableName converts a RangeVar naming a table to create, change or fill.
func (c *converter) tableName(r *pg.RangeVar) ast.TableName {
	return ast.TableName{Catalog: r.GetCatalogname(), Schema: r.GetSchemaname(), Name: r.GetRelname(), Pos: loc(r.GetLocation())}
}

// strings converts a list of String nodes, such as a qualified name.
func (c *converter) strings(nodes []*pg.Node, pos int) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		s, ok := n.GetNode().(*pg.Node_String_)
		if !ok {
			fail(CodeSyntaxError, pos, "improper qualified name")
		}
		out = append(out, s.String_.GetSval())
	}
	return out
}

func (c *converter) insert(s *pg.InsertStmt) *ast.Insert {
	switch {
	case s.GetOnConflictClause() != nil:
		unsupported(c.at(s.GetOnConflictClause().GetLocation()), "INSERT ... ON CONFLICT is not supported")
	case len(s.GetReturningList()) > 0:
		unsupported(c.exprPos(s.GetReturningList()[0]), "INSERT ... RETURNING is not supported")
	case s.GetOverride() == pg.OverridingKind_OVERRIDING_USER_VALUE || s.GetOverride() == pg.OverridingKind_OVERRIDING_SYSTEM_VALUE:
		unsupported(c.stmtPos, "INSERT ... OVERRIDING is not supported")
	case s.GetRelation().GetAlias() != nil:
		unsupported(c.at(s.GetRelation().GetLocation()), "an alias for the target table of INSERT is not supported")
	}
	ins := &ast.Insert{With: c.with(s.GetWithClause()), Table: c.tableName(s.GetRelation()), Pos: c.stmtPos}
	for _, col := range s.GetCols() {
		rt := col.GetResTarget()
		if rt == nil || len(rt.GetIndirection()) > 0 {
			unsupported(c.exprPos(col), "assigning to a field or element of a column is not supported")
		}
		ins.Columns = append(ins.Columns, rt.GetName())
	}
	if src := s.GetSelectStmt(); src != nil {
		sel := src.GetSelectStmt()
		if sel == nil {
			unsupported(c.stmtPos, "this INSERT source is not supported")
		}
		ins.Source = c.query(sel, c.exprPos(src))
	}
	return ins
}

func (c *converter) createTable(s *pg.CreateStmt) *ast.CreateTable {
	rel := s.GetRelation()
	pos := c.at(rel.GetLocation())
	switch {
	case rel.GetRelpersistence() == "t":
		unsupported(c.stmtPos, "temporary tables are not supported")
	case rel.GetRelpersistence() == "u":
		unsupported(c.stmtPos, "unlogged tables are not supported")
	case len(s.GetInhRelations()) > 0:
		unsupported(pos, "CREATE TABLE ... INHERITS is not supported")
	case s.GetPartbound() != nil || s.GetPartspec() != nil:
		unsupported(pos, "partitioned tables are not supported; rows are partitioned by their primary key")
	case s.GetOfTypename() != nil:
		unsupported(pos, "CREATE TABLE ... OF type is not supported")
	case s.GetTablespacename() != "":
		unsupported(pos, "tablespaces are not supported")
	case s.GetAccessMethod() != "":
		unsupported(pos, "CREATE TABLE ... USING is not supported")
	}
	ct := &ast.CreateTable{Name: c.tableName(rel), IfNotExists: s.GetIfNotExists(), Options: c.options(s.GetOptions()), Pos: c.stmtPos}
	for _, elt := range s.GetTableElts() {
		switch e := elt.GetNode().(type) {
		case *pg.Node_ColumnDef:
			ct.Columns = append(ct.Columns, c.columnDef(e.ColumnDef))
		case *pg.Node_Constraint:
			con := e.Constraint
			if con.GetContype() != pg.ConstrType_CONSTR_PRIMARY {
				unsupported(c.at(con.GetLocation()), "%s constraints are not supported", constraintName(con))
			}
			if ct.PrimaryKey != nil {
				fail("42P16", c.at(con.GetLocation()), "multiple primary keys for table %q are not allowed", rel.GetRelname())
			}
			c.checkPrimaryKey(con)
			ct.PrimaryKey = c.strings(con.GetKeys(), c.at(con.GetLocation()))
			ct.PrimaryKeyPos = c.at(con.GetLocation())
		default:
			unsupported(c.exprPos(elt), "CREATE TABLE ... LIKE is not supported")
		}
	}
	return ct
}

func (c *converter) columnDef(d *pg.ColumnDef) ast.ColumnDef {
	pos := c.at(d.GetLocation())
	switch {
	case d.GetCollClause() != nil:
		unsupported(c.at(d.GetCollClause().GetLocation()), "COLLATE on a column is not supported")
	case d.GetCompression() != "" || d.GetStorageName() != "" || d.GetStorage() != "":
		unsupported(pos, "column storage and compression options are not supported")
	case d.GetTypeName() == nil:
		fail(CodeSyntaxError, pos, "column %q has no type", d.GetColname())
	}
	col := ast.ColumnDef{Name: d.GetColname(), Type: c.typeName(d.GetTypeName()), NotNull: d.GetIsNotNull(), Pos: pos}
	for _, n := range d.GetConstraints() {
		con := n.GetConstraint()
		switch con.GetContype() {
		case pg.ConstrType_CONSTR_NOTNULL:
			col.NotNull = true
		case pg.ConstrType_CONSTR_NULL:
		case pg.ConstrType_CONSTR_PRIMARY:
			c.checkPrimaryKey(con)
			col.PrimaryKey = true
		default:
			unsupported(c.at(con.GetLocation()), "%s constraints are not supported", constraintName(con))
		}
	}
	return col
}

// checkPrimaryKey refuses the parts of a PRIMARY KEY constraint that only
// make sense for a btree index; a constraint name is accepted and ignored.
func (c *converter) checkPrimaryKey(con *pg.Constraint) {
	if len(con.GetIncluding()) > 0 || len(con.GetOptions()) > 0 || con.GetIndexspace() != "" || con.GetDeferrable() || con.GetInitdeferred() {
		unsupported(c.at(con.GetLocation()), "PRIMARY KEY options (INCLUDE, WITH, USING INDEX TABLESPACE, DEFERRABLE) are not supported")
	}
}

func constraintName(con *pg.Constraint) string {
	name := strings.TrimPrefix(con.GetContype().String(), "CONSTR_")
	switch name {
	case "ATTR_DEFERRABLE", "ATTR_NOT_DEFERRABLE", "ATTR_DEFERRED", "ATTR_IMMEDIATE":
		return "DEFERRABLE"
	case "FOREIGN":
		return "FOREIGN KEY"
	}
	return name
}

func (c *converter) dropTable(s *pg.DropStmt) *ast.DropTable {
	if s.GetRemoveType() != pg.ObjectType_OBJECT_TABLE {
		unsupported(c.stmtPos, "DROP %s is not supported", objectName(s.GetRemoveType()))
	}
	d := &ast.DropTable{IfExists: s.GetMissingOk(), Cascade: s.GetBehavior() == pg.DropBehavior_DROP_CASCADE, Pos: c.stmtPos}
	for _, obj := range s.GetObjects() {
		parts := c.strings(obj.GetList().GetItems(), c.stmtPos)
		d.Names = append(d.Names, c.nameFromParts(parts))
	}
	return d
}

// nameFromParts makes a TableName of a 1-, 2- or 3-part name.
func (c *converter) nameFromParts(parts []string) ast.TableName {
	t := ast.TableName{Pos: c.stmtPos}
	switch len(parts) {
	case 1:
		t.Name = parts[0]
	case 2:
		t.Schema, t.Name = parts[0], parts[1]
	case 3:
		t.Catalog, t.Schema, t.Name = parts[0], parts[1], parts[2]
	default:
		fail(CodeSyntaxError, c.stmtPos, "improper qualified name (too many dotted names): %s", strings.Join(parts, "."))
	}
	return t
}

// objectName spells an object type for an error: OBJECT_MATVIEW is
// "MATERIALIZED VIEW".
func objectName(t pg.ObjectType) string {
	if t == pg.ObjectType_OBJECT_MATVIEW {
		return "MATERIALIZED VIEW"
	}
	return strings.ReplaceAll(strings.TrimPrefix(t.String(), "OBJECT_"), "_", " ")
}

func (c *converter) alterTable(s *pg.AlterTableStmt) *ast.AlterTableSet {
	if s.GetObjtype() != pg.ObjectType_OBJECT_TABLE {
		unsupported(c.stmtPos, "ALTER %s is not supported", objectName(s.GetObjtype()))
	}
	a := &ast.AlterTableSet{Name: c.tableName(s.GetRelation()), IfExists: s.GetMissingOk(), Pos: c.stmtPos}
	for _, n := range s.GetCmds() {
		cmd := n.GetAlterTableCmd()
		if cmd.GetSubtype() != pg.AlterTableType_AT_SetRelOptions {
			unsupported(c.stmtPos, "ALTER TABLE is supported only as ALTER TABLE name SET (option = value, ...)")
		}
		a.Options = append(a.Options, c.options(cmd.GetDef().GetList().GetItems())...)
	}
	return a
}

func (c *converter) explain(s *pg.ExplainStmt) *ast.Explain {
	e := &ast.Explain{Pos: c.stmtPos}
	for _, opt := range c.options(s.GetOptions()) {
		switch opt.Name {
		case "analyze":
			e.Analyze = c.boolOption(opt)
		case "verbose":
			e.Verbose = c.boolOption(opt)
		default:
			e.Options = append(e.Options, opt)
		}
	}
	switch q := s.GetQuery().GetNode().(type) {
	case *pg.Node_SelectStmt:
		e.Stmt = c.query(q.SelectStmt, -1)
	case *pg.Node_InsertStmt:
		e.Stmt = c.insert(q.InsertStmt)
	default:
		unsupported(c.stmtPos, "EXPLAIN of %s is not supported", statementName(s.GetQuery()))
	}
	return e
}

// boolOption reads a Boolean option as PostgreSQL's defGetBoolean does.
func (c *converter) boolOption(opt ast.Option) bool {
	if !opt.HasValue {
		return true
	}
	switch strings.ToLower(opt.Value) {
	case "true", "on", "1":
		return true
	case "false", "off", "0":
		return false
	}
	fail(CodeSyntaxError, opt.Pos, "%s requires a Boolean value", opt.Name)
	return false
}

func (c *converter) options(nodes []*pg.Node) []ast.Option {
	var opts []ast.Option
	for _, n := range nodes {
		d := n.GetDefElem()
		if d == nil {
			fail(CodeSyntaxError, c.stmtPos, "option list holds a non-option")
		}
		opts = append(opts, c.option(d))
	}
	return opts
}

func (c *converter) option(d *pg.DefElem) ast.Option {
	pos := c.at(d.GetLocation())
	if d.GetDefnamespace() != "" {
		unsupported(pos, "option %s.%s: option namespaces are not supported", d.GetDefnamespace(), d.GetDefname())
	}
	opt := ast.Option{Name: d.GetDefname(), Pos: pos}
	if d.GetArg() != nil {
		opt.Value, opt.HasValue = c.optionValue(d.GetArg(), d.GetDefname(), pos), true
	}
	return opt
}

// optionValue normalises an option's value to its text.
func (c *converter) optionValue(n *pg.Node, name string, pos int) string {
	switch v := n.GetNode().(type) {
	case *pg.Node_String_:
		return v.String_.GetSval()
	case *pg.Node_Integer:
		return strconv.FormatInt(int64(v.Integer.GetIval()), 10)
	case *pg.Node_Float:
		return v.Float.GetFval()
	case *pg.Node_Boolean:
		return strconv.FormatBool(v.Boolean.GetBoolval())
	case *pg.Node_AStar:
		return "*"
	case *pg.Node_AConst:
		if l := c.constant(v.AConst); l.Kind != ast.LitNull {
			return l.Text
		}
	case *pg.Node_TypeName:
		t := v.TypeName
		if len(t.GetTypmods()) == 0 && len(t.GetArrayBounds()) == 0 && !t.GetSetof() && !t.GetPctType() {
			return strings.Join(c.strings(t.GetNames(), pos), ".")
		}
	}
	unsupported(pos, "this value for option %q is not supported; write it as a string", name)
	return ""
}

func (c *converter) set(s *pg.VariableSetStmt) ast.Stmt {
	pos := c.stmtPos
	switch s.GetKind() {
	case pg.VariableSetKind_VAR_SET_VALUE:
		set := &ast.Set{Name: s.GetName(), Local: s.GetIsLocal(), Pos: pos}
		for _, arg := range s.GetArgs() {
			a := arg.GetAConst()
			if a == nil {
				unsupported(c.exprPos(arg), "this value for SET %s is not supported", s.GetName())
			}
			set.Values = append(set.Values, c.constant(a))
		}
		return set
	case pg.VariableSetKind_VAR_SET_DEFAULT:
		return &ast.Set{Name: s.GetName(), Default: true, Local: s.GetIsLocal(), Pos: pos}
	case pg.VariableSetKind_VAR_SET_MULTI:
		switch s.GetName() {
		case "TRANSACTION":
			return &ast.SetTransaction{TransactionModes: c.transactionModes(s.GetArgs()), Pos: pos}
		case "SESSION CHARACTERISTICS":
			return &ast.SetTransaction{Session: true, TransactionModes: c.transactionModes(s.GetArgs()), Pos: pos}
		}
		unsupported(pos, "SET %s is not supported", s.GetName())
	case pg.VariableSetKind_VAR_RESET:
		return &ast.Reset{Name: s.GetName(), Pos: pos}
	case pg.VariableSetKind_VAR_RESET_ALL:
		return &ast.Reset{Name: "all", Pos: pos}
	}
	unsupported(pos, "SET ... FROM CURRENT is not supported")
	return nil
}

func (c *converter) transactionModes(nodes []*pg.Node) ast.TransactionModes {
	var m ast.TransactionModes
	for _, n := range nodes {
		d := n.GetDefElem()
		pos := c.at(d.GetLocation())
		arg := d.GetArg().GetAConst()
		if arg == nil {
			fail(CodeSyntaxError, pos, "unexpected transaction mode %s", d.GetDefname())
		}
		val := c.constant(arg)
		switch d.GetDefname() {
		case "transaction_isolation":
			m.Isolation = val.Text
		case "transaction_read_only":
			ro := val.Int != 0
			m.ReadOnly = &ro
		case "transaction_deferrable":
			def := val.Int != 0
			m.Deferrable = &def
		default:
			fail(CodeSyntaxError, pos, "unexpected transaction mode %s", d.GetDefname())
		}
	}
	return m
}

func (c *converter) transaction(s *pg.TransactionStmt) ast.Stmt {
	pos := c.stmtPos
	if s.GetChain() {
		unsupported(pos, "AND CHAIN is not supported")
	}
	switch s.GetKind() {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		return &ast.Begin{TransactionModes: c.transactionModes(s.GetOptions()), Pos: pos}
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		return &ast.Commit{Pos: pos}
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return &ast.Rollback{Pos: pos}
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg.TransactionStmtKind_TRANS_STMT_RELEASE,
		pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		unsupported(pos, "savepoints are not supported")
	}
	unsupported(pos, "two-phase commit is not supported")
	return nil
}

func (c *converter) copyStmt(s *pg.CopyStmt) *ast.Copy {
	switch {
	case s.GetIsProgram():
		unsupported(c.stmtPos, "COPY ... PROGRAM is not supported")
	case s.GetWhereClause() != nil:
		unsupported(c.exprPos(s.GetWhereClause()), "COPY ... WHERE is not supported")
	}
	cp := &ast.Copy{From: s.GetIsFrom(), File: s.GetFilename(), Options: c.options(s.GetOptions()), Pos: c.stmtPos}
	if q := s.GetQuery(); q != nil {
		sel := q.GetSelectStmt()
		if sel == nil {
			unsupported(c.stmtPos, "COPY (%s) is not supported", statementName(q))
		}
		cp.Query = c.query(sel, c.stmtPos)
	} else {
		name := c.tableName(s.GetRelation())
		cp.Table = &name
	}
	for _, col := range s.GetAttlist() {
		cp.Columns = append(cp.Columns, c.strings([]*pg.Node{col}, c.stmtPos)[0])
	}
	return cp
}

func (c *converter) discard(s *pg.DiscardStmt) *ast.Discard {
	target := strings.ToLower(strings.TrimPrefix(s.GetTarget().String(), "DISCARD_"))
	return &ast.Discard{Target: target, Pos: c.stmtPos}
}
