// Code in this file is mechanical: the marker methods that place each node
// type in its interfaces, positions and String.

package ast

func (*Query) node()          {}
func (*Insert) node()         {}
func (*CreateTable) node()    {}
func (*DropTable) node()      {}
func (*AlterTableSet) node()  {}
func (*Explain) node()        {}
func (*Set) node()            {}
func (*SetTransaction) node() {}
func (*Show) node()           {}
func (*Reset) node()          {}
func (*Begin) node()          {}
func (*Commit) node()         {}
func (*Rollback) node()       {}
func (*Copy) node()           {}
func (*Discard) node()        {}
func (*Deallocate) node()     {}
func (*Select) node()         {}
func (*SetOp) node()          {}
func (*Values) node()         {}
func (*TableRef) node()       {}
func (*Subquery) node()       {}
func (*Join) node()           {}
func (*FuncTable) node()      {}
func (*ColumnRef) node()      {}
func (*Literal) node()        {}
func (*Param) node()          {}
func (*Unary) node()          {}
func (*Binary) node()         {}
func (*IsNull) node()         {}
func (*IsBool) node()         {}
func (*Between) node()        {}
func (*In) node()             {}
func (*InSubquery) node()     {}
func (*Exists) node()         {}
func (*ScalarSubquery) node() {}
func (*ArraySubquery) node()  {}
func (*AnyAll) node()         {}
func (*Case) node()           {}
func (*Cast) node()           {}
func (*FuncCall) node()       {}
func (*ArrayExpr) node()      {}
func (*Subscript) node()      {}
func (*FieldSelect) node()    {}
func (*Collate) node()        {}
func (*Row) node()            {}
func (*AtTimeZone) node()     {}
func (*Default) node()        {}

func (*Query) stmtNode()          {}
func (*Insert) stmtNode()         {}
func (*CreateTable) stmtNode()    {}
func (*DropTable) stmtNode()      {}
func (*AlterTableSet) stmtNode()  {}
func (*Explain) stmtNode()        {}
func (*Set) stmtNode()            {}
func (*SetTransaction) stmtNode() {}
func (*Show) stmtNode()           {}
func (*Reset) stmtNode()          {}
func (*Begin) stmtNode()          {}
func (*Commit) stmtNode()         {}
func (*Rollback) stmtNode()       {}
func (*Copy) stmtNode()           {}
func (*Discard) stmtNode()        {}
func (*Deallocate) stmtNode()     {}

func (*Select) queryBody() {}
func (*SetOp) queryBody()  {}
func (*Values) queryBody() {}
func (*Query) queryBody()  {}

func (*TableRef) tableExpr()  {}
func (*Subquery) tableExpr()  {}
func (*Join) tableExpr()      {}
func (*FuncTable) tableExpr() {}

func (*ColumnRef) exprNode()      {}
func (*Literal) exprNode()        {}
func (*Param) exprNode()          {}
func (*Unary) exprNode()          {}
func (*Binary) exprNode()         {}
func (*IsNull) exprNode()         {}
func (*IsBool) exprNode()         {}
func (*Between) exprNode()        {}
func (*In) exprNode()             {}
func (*InSubquery) exprNode()     {}
func (*Exists) exprNode()         {}
func (*ScalarSubquery) exprNode() {}
func (*ArraySubquery) exprNode()  {}
func (*AnyAll) exprNode()         {}
func (*Case) exprNode()           {}
func (*Cast) exprNode()           {}
func (*FuncCall) exprNode()       {}
func (*ArrayExpr) exprNode()      {}
func (*Subscript) exprNode()      {}
func (*FieldSelect) exprNode()    {}
func (*Collate) exprNode()        {}
func (*Row) exprNode()            {}
func (*AtTimeZone) exprNode()     {}
func (*Default) exprNode()        {}

// Position returns the position of the table name.
func (x *TableRef) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Subquery) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Join) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *FuncTable) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *ColumnRef) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Literal) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Param) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Unary) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Binary) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *IsNull) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *IsBool) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Between) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *In) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *InSubquery) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Exists) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *ScalarSubquery) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *ArraySubquery) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *AnyAll) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Case) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Cast) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *FuncCall) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *ArrayExpr) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Subscript) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *FieldSelect) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Collate) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Row) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *AtTimeZone) Position() int { return x.Pos }

// Position returns x.Pos.
func (x *Default) Position() int { return x.Pos }

// String formats x as SQL; see Format.
func (x *Query) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Insert) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *CreateTable) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *DropTable) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *AlterTableSet) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Explain) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Set) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *SetTransaction) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Show) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Reset) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Begin) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Commit) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Rollback) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Copy) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Discard) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Deallocate) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Select) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *SetOp) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Values) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *TableRef) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Subquery) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Join) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *FuncTable) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *ColumnRef) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Literal) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Param) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Unary) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Binary) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *IsNull) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *IsBool) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Between) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *In) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *InSubquery) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Exists) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *ScalarSubquery) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *ArraySubquery) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *AnyAll) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Case) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Cast) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *FuncCall) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *ArrayExpr) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Subscript) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *FieldSelect) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Collate) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Row) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *AtTimeZone) String() string { return Format(x) }

// String formats x as SQL; see Format.
func (x *Default) String() string { return Format(x) }
