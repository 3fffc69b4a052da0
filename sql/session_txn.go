package sql

import (
	"context"
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// Transaction blocks.
//
// A transaction block (BEGIN … COMMIT) is tracked as PostgreSQL tracks it,
// because clients depend on what it reports: the status in each
// ReadyForQuery, an aborted block that refuses statements until ROLLBACK
// after an error, and READ ONLY, which refuses writes. Writes inside a
// block, or inside an implicit transaction, are kept until it ends and
// committed or deleted then (session_writes.go); every statement reads the
// newest committed snapshot of each table plus the transaction's own
// writes, as PostgreSQL's READ COMMITTED does.
//
// DDL (CREATE, DROP and ALTER TABLE) commits to the catalog at once, so it
// cannot be part of a block that ROLLBACK undoes: inside a block it is
// refused with feature_not_supported (0A000). The clients that matter send
// none there: Trino's PostgreSQL connector runs its DDL with autocommit on
// and only its INSERT batches in transactions; pgJDBC with autocommit off
// starts a block before any statement, which is fine for queries and
// writes.

// TxnStatus is where a session stands with respect to a transaction block;
// its values are the letters PostgreSQL's ReadyForQuery carries.
type TxnStatus byte

const (
	TxnIdle   TxnStatus = 'I' // not in a transaction block
	TxnOpen   TxnStatus = 'T' // in a transaction block
	TxnFailed TxnStatus = 'E' // in a failed block: only ROLLBACK is accepted
)

// txnState is the session's transaction block, idle in its zero value.
type txnState struct {
	open, failed, readOnly bool
	// implicit is set while a front door runs statements outside a block
	// as one implicit transaction (BeginImplicit).
	implicit bool
	// saved are the settings as they were when the block (or implicit
	// transaction) began, kept from its first SET on: SET is
	// transactional, and a block that fails or rolls back restores them.
	saved map[string]string
	// writes are the transaction's uncommitted writes (session_writes.go).
	writes *pendingWrites
}

// saveSettings keeps the settings before a SET changes them inside a
// block or an implicit transaction.
func (s *Session) saveSettings() {
	if (s.txn.open || s.txn.implicit) && s.txn.saved == nil {
		s.txn.saved = make(map[string]string, len(s.settings))
		for k, v := range s.settings {
			s.txn.saved[k] = v
		}
	}
}

// restoreSettings undoes the SETs of a block or implicit transaction
// that did not commit.
func (s *Session) restoreSettings() {
	if s.txn.saved != nil {
		s.settings = s.txn.saved
		s.settingsGen++
	}
}

// BeginImplicit starts an implicit transaction, as PostgreSQL runs the
// statements of one simple Query, or the extended-protocol messages up to
// a Sync, outside a transaction block. EndImplicit ends it: its writes
// commit, or if a statement failed, its writes are deleted and the SETs it
// made undone, as a failed transaction undoes them. Inside a block both do
// nothing; the block decides.
func (s *Session) BeginImplicit() {
	if !s.txn.open && !s.txn.implicit {
		s.txn.implicit = true
		s.txn.saved = nil
	}
}

// EndImplicit ends the implicit transaction BeginImplicit started; failed
// says that one of its statements failed. The error is the commit's: the
// transaction's writes are then deleted and its SETs undone.
func (s *Session) EndImplicit(ctx context.Context, failed bool) error {
	if !s.txn.implicit {
		return nil
	}
	s.txn.implicit = false
	if s.txn.open {
		// BEGIN turned it into a block, which keeps what it saved.
		return nil
	}
	var err error
	if failed {
		s.rollbackWrites(ctx)
	} else {
		err = s.commitWrites(ctx)
	}
	if failed || err != nil {
		s.restoreSettings()
	}
	s.txn.saved = nil
	return err
}

// TxnStatus reports the session's transaction block status.
func (s *Session) TxnStatus() TxnStatus {
	switch {
	case s.txn.failed:
		return TxnFailed
	case s.txn.open:
		return TxnOpen
	}
	return TxnIdle
}

// StatementFailed tells the session that a statement failed after it was
// started — while a front door read its rows, or before it ran (a bad
// parameter). Inside a transaction block the block is now failed, as
// PostgreSQL aborts it on any error. Errors Session methods return have
// already done this.
func (s *Session) StatementFailed() {
	if s.txn.open {
		s.txn.failed = true
	}
}

// Notice is a message that does not fail the statement (PostgreSQL's
// NoticeResponse): a warning such as "there is no transaction in
// progress".
type Notice = sqlerr.Error

// noticeRows is a result that comes with a notice.
type noticeRows struct {
	Rows
	notice *Notice
}

// NoticesOf returns the notices a statement's result carries.
func NoticesOf(rows Rows) []*Notice {
	if n, ok := rows.(*noticeRows); ok {
		return []*Notice{n.notice}
	}
	return nil
}

func withNotice(r Rows, code, msg string) Rows {
	return &noticeRows{Rows: r, notice: &Notice{Code: code, Message: msg}}
}

// checkTxn refuses a statement that the block's state does not allow: any
// but COMMIT and ROLLBACK in a failed block, writes in a read-only one,
// DDL and bulk imports in any block, anything once the block's writes are
// too old to commit.
func (s *Session) checkTxn(st ast.Stmt) error {
	switch st.(type) {
	case *ast.Commit, *ast.Rollback:
		return nil
	}
	if s.txn.failed {
		return sqlerr.New("25P02", "current transaction is aborted, commands ignored until end of transaction block")
	}
	if s.readOnly() {
		if what := writeCommand(st); what != "" {
			return sqlerr.New(sqlerr.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", what)
		}
	}
	if s.txn.open {
		if what := nonTransactional(st); what != "" {
			return sqlerr.New(sqlerr.FeatureNotSupported, "%s cannot run inside a transaction block", what).
				WithHint("It commits on its own, so ROLLBACK could not undo it: run it outside BEGIN … COMMIT (with autocommit on).")
		}
	}
	return s.checkWritesAge()
}

// nonTransactional names a statement that commits on its own and so
// cannot be part of a transaction block, "" for others: DDL, and COPY
// FROM a file or S3, which runs as bulk import jobs.
func nonTransactional(st ast.Stmt) string {
	switch st := st.(type) {
	case *ast.CreateTable, *ast.DropTable, *ast.AlterTableSet:
		return writeCommand(st)
	case *ast.Copy:
		if st.From && st.File != "" {
			return "COPY FROM a file"
		}
	}
	return ""
}

// Aborted refuses st while the session's block is failed, unless st ends
// the block: what PostgreSQL checks at Parse and Bind.
func (s *Session) Aborted(st *Statement) error {
	if !s.txn.failed {
		return nil
	}
	switch st.stmt.(type) {
	case *ast.Commit, *ast.Rollback:
		return nil
	}
	return sqlerr.New("25P02", "current transaction is aborted, commands ignored until end of transaction block")
}

// readOnly reports whether writes are refused now: in a READ ONLY block,
// or outside a block when default_transaction_read_only is on.
func (s *Session) readOnly() bool {
	if s.txn.open {
		return s.txn.readOnly
	}
	return isOn(s.settings["default_transaction_read_only"])
}

// writeCommand names a statement that changes the store, "" for others.
func writeCommand(st ast.Stmt) string {
	switch st := st.(type) {
	case *ast.Insert:
		return "INSERT"
	case *ast.CreateTable:
		return "CREATE TABLE"
	case *ast.DropTable:
		return "DROP TABLE"
	case *ast.AlterTableSet:
		return "ALTER TABLE"
	case *ast.Copy:
		if st.From {
			return "COPY FROM"
		}
	}
	return ""
}

func isOn(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "t", "y":
		return true
	}
	return false
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (s *Session) begin(st *ast.Begin) (Rows, error) {
	tag := "BEGIN"
	if strings.HasPrefix(strings.ToUpper(st.Span().Text), "START") {
		tag = "START TRANSACTION"
	}
	if s.txn.open {
		return withNotice(tagOnly(tag), "25001", "there is already a transaction in progress"), nil
	}
	ro := isOn(s.settings["default_transaction_read_only"])
	if st.ReadOnly != nil {
		ro = *st.ReadOnly
	}
	s.txn = txnState{open: true, readOnly: ro, implicit: s.txn.implicit, saved: s.txn.saved, writes: s.txn.writes}
	s.saveSettings()
	s.setSetting("transaction_read_only", onOff(ro))
	return tagOnly(tag), nil
}

// endTxn ends the block with COMMIT (commit true) or ROLLBACK. COMMIT of a
// failed block rolls it back, as in PostgreSQL. A COMMIT that fails to
// commit the block's writes ends the block as ROLLBACK would and returns
// why.
func (s *Session) endTxn(ctx context.Context, commit bool) (Rows, error) {
	tag := "ROLLBACK"
	if commit && !s.txn.failed {
		tag = "COMMIT"
	}
	if !s.txn.open {
		return withNotice(tagOnly(tag), "25P01", "there is no transaction in progress"), nil
	}
	var err error
	if tag == "COMMIT" {
		err = s.commitWrites(ctx)
	} else {
		s.rollbackWrites(ctx)
	}
	if tag == "ROLLBACK" || err != nil {
		s.restoreSettings()
	}
	// Statements after COMMIT in the same simple Query run in a new
	// implicit transaction.
	s.txn = txnState{implicit: s.txn.implicit}
	s.setSetting("transaction_read_only", s.settings["default_transaction_read_only"])
	if err != nil {
		return nil, err
	}
	return tagOnly(tag), nil
}

// setTransaction is SET TRANSACTION (this block) and SET SESSION
// CHARACTERISTICS AS TRANSACTION (the defaults of later ones).
func (s *Session) setTransaction(st *ast.SetTransaction) (Rows, error) {
	s.saveSettings()
	if st.ReadOnly != nil {
		if st.Session {
			s.setSetting("default_transaction_read_only", onOff(*st.ReadOnly))
		} else if s.txn.open {
			s.txn.readOnly = *st.ReadOnly
			s.setSetting("transaction_read_only", onOff(*st.ReadOnly))
		}
	}
	if st.Isolation != "" && st.Session {
		s.setSetting("default_transaction_isolation", st.Isolation)
	}
	return tagOnly("SET"), nil
}

// Set sets a session setting as SET name = 'value' would: the front doors
// apply the settings a client sends when it connects this way.
func (s *Session) Set(name, value string) error {
	_, err := s.set(&ast.Set{Name: name, Values: []*ast.Literal{{Kind: ast.LitString, Text: value}}, Pos: -1})
	return err
}
