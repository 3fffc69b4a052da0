package ast

// Insert is INSERT INTO Table [(Columns)] Source.
type Insert struct {
	StmtInfo
	With    *With // WITH before INSERT; scoped over Source
	Table   TableName
	Columns []string // nil when no column list is given
	Source  *Query   // VALUES or a query; nil for DEFAULT VALUES
	Pos     int
}

// CreateTable is CREATE TABLE [IF NOT EXISTS] Name (Columns, [PRIMARY KEY
// (...)]) [WITH (Options)]. A column-level PRIMARY KEY sets the column's
// PrimaryKey; a table-level one fills PrimaryKey. In Dormouse the primary key
// columns are the table's row keys and Options set table properties by name
// (sort_keys, split_threshold, split_points, aggregations, age_off, ...); the
// table is a sorted multiset, as in a ClickHouse MergeTree, so the key does
// not make rows unique.
type CreateTable struct {
	StmtInfo
	Name          TableName
	IfNotExists   bool
	Columns       []ColumnDef
	PrimaryKey    []string // the table constraint's columns; nil without one
	PrimaryKeyPos int
	Options       []Option
	Pos           int
}

// ColumnDef is a column of CREATE TABLE. An explicit NULL constraint is
// accepted and leaves NotNull false.
type ColumnDef struct {
	Name       string
	Type       *TypeName
	NotNull    bool
	PrimaryKey bool
	Pos        int
}

// Option is a name with an optional value, as in WITH (k = v) of CREATE
// TABLE, the options of COPY and of EXPLAIN. Names are lower case (unless
// quoted). Values are normalised to their text whatever their form: a string
// 'ts', a number 1000000, an identifier csv, TRUE/ON, or * (COPY's
// FORCE_QUOTE *). HasValue is false when the option is given bare (HEADER);
// PostgreSQL reads a bare boolean option as true.
type Option struct {
	Name     string
	Value    string
	HasValue bool
	Pos      int
}

// DropTable is DROP TABLE [IF EXISTS] Names [CASCADE].
type DropTable struct {
	StmtInfo
	Names    []TableName
	IfExists bool
	Cascade  bool
	Pos      int
}

// AlterTableSet is ALTER TABLE [IF EXISTS] Name SET (Options).
type AlterTableSet struct {
	StmtInfo
	Name     TableName
	IfExists bool
	Options  []Option
	Pos      int
}

// Explain is EXPLAIN [ANALYZE] [VERBOSE] Stmt or EXPLAIN (options) Stmt.
// ANALYZE and VERBOSE are read into their flags; other options (FORMAT,
// COSTS, BUFFERS, ...) stay in Options for the planner to accept or refuse.
type Explain struct {
	StmtInfo
	Analyze bool
	Verbose bool
	Options []Option
	Stmt    Stmt // *Query or *Insert
	Pos     int
}

// Set is SET [LOCAL | SESSION] Name {TO | =} Values, or SET Name TO DEFAULT.
// Names are as PostgreSQL spells the setting: SET TIME ZONE sets "timezone",
// SET NAMES sets "client_encoding". Values are literals; words such as on,
// off and true arrive as string literals, as in PostgreSQL.
type Set struct {
	StmtInfo
	Name    string
	Values  []*Literal
	Default bool // SET x TO DEFAULT, SET TIME ZONE LOCAL | DEFAULT
	Local   bool
	Pos     int
}

// TransactionModes are the characteristics of a transaction. Isolation is
// "" when not given, else "serializable", "repeatable read", "read committed"
// or "read uncommitted". ReadOnly and Deferrable are nil when not given.
type TransactionModes struct {
	Isolation  string
	ReadOnly   *bool
	Deferrable *bool
}

// SetTransaction is SET TRANSACTION modes (Session false: the current
// transaction) or SET SESSION CHARACTERISTICS AS TRANSACTION modes (Session
// true: the defaults, default_transaction_*).
type SetTransaction struct {
	StmtInfo
	Session bool
	TransactionModes
	Pos int
}

// Show is SHOW Name. SHOW ALL has Name "all"; SHOW TRANSACTION ISOLATION
// LEVEL has "transaction_isolation" and SHOW TIME ZONE "timezone".
type Show struct {
	StmtInfo
	Name string
	Pos  int
}

// Reset is RESET Name; RESET ALL has Name "all".
type Reset struct {
	StmtInfo
	Name string
	Pos  int
}

// Begin is BEGIN or START TRANSACTION with optional modes.
type Begin struct {
	StmtInfo
	TransactionModes
	Pos int
}

// Commit is COMMIT or END.
type Commit struct {
	StmtInfo
	Pos int
}

// Rollback is ROLLBACK or ABORT.
type Rollback struct {
	StmtInfo
	Pos int
}

// Copy is COPY Table [(Columns)] FROM|TO File, or COPY (Query) TO File.
// File is "" for STDIN (From) or STDOUT (not From); otherwise it is the
// quoted name as written, such as 's3://bucket/key' or '/tmp/out.csv'.
type Copy struct {
	StmtInfo
	Table   *TableName // nil when Query is set
	Query   *Query
	Columns []string
	From    bool
	File    string
	Options []Option
	Pos     int
}

// Discard is DISCARD ALL | PLANS | SEQUENCES | TEMP; Target is lower case.
type Discard struct {
	StmtInfo
	Target string
	Pos    int
}

// Deallocate is DEALLOCATE [PREPARE] Name or DEALLOCATE ALL.
type Deallocate struct {
	StmtInfo
	Name string
	All  bool
	Pos  int
}
