package sql

import (
	"strings"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql/ast"
)

// Transaction blocks.
//
// Dormouse has no multi-statement transactions yet: every statement reads
// its own snapshot and every write commits on its own. A transaction block
// (BEGIN … COMMIT) is still tracked as PostgreSQL tracks it, because
// clients depend on what it reports: the status in each ReadyForQuery, an
// aborted block that refuses statements until ROLLBACK after an error, and
// READ ONLY, which refuses writes. Statements inside a block run as they
// come.

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
	}
}

// BeginImplicit starts an implicit transaction, as PostgreSQL runs the
// statements of one simple Query, or the extended-protocol messages up to
// a Sync, outside a transaction block. EndImplicit ends it: if a statement
// failed, the SETs it made are undone, as a failed transaction undoes
// them. Inside a block both do nothing; the block decides.
func (s *Session) BeginImplicit() {
	if !s.txn.open && !s.txn.implicit {
		s.txn.implicit = true
		s.txn.saved = nil
	}
}

// EndImplicit ends the implicit transaction BeginImplicit started; failed
// says that one of its statements failed.
func (s *Session) EndImplicit(failed bool) {
	if !s.txn.implicit {
		return
	}
	s.txn.implicit = false
	if s.txn.open {
		// BEGIN turned it into a block, which keeps what it saved.
		return
	}
	if failed {
		s.restoreSettings()
	}
	s.txn.saved = nil
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
// but COMMIT and ROLLBACK in a failed block, writes in a read-only one.
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
	return nil
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
	s.txn = txnState{open: true, readOnly: ro, implicit: s.txn.implicit, saved: s.txn.saved}
	s.saveSettings()
	s.settings["transaction_read_only"] = onOff(ro)
	return tagOnly(tag), nil
}

// endTxn ends the block with COMMIT (commit true) or ROLLBACK. COMMIT of a
// failed block rolls it back, as in PostgreSQL.
func (s *Session) endTxn(commit bool) (Rows, error) {
	tag := "ROLLBACK"
	if commit && !s.txn.failed {
		tag = "COMMIT"
	}
	if !s.txn.open {
		return withNotice(tagOnly(tag), "25P01", "there is no transaction in progress"), nil
	}
	if tag == "ROLLBACK" {
		s.restoreSettings()
	}
	s.txn = txnState{}
	s.settings["transaction_read_only"] = s.settings["default_transaction_read_only"]
	return tagOnly(tag), nil
}

// setTransaction is SET TRANSACTION (this block) and SET SESSION
// CHARACTERISTICS AS TRANSACTION (the defaults of later ones).
func (s *Session) setTransaction(st *ast.SetTransaction) (Rows, error) {
	s.saveSettings()
	if st.ReadOnly != nil {
		if st.Session {
			s.settings["default_transaction_read_only"] = onOff(*st.ReadOnly)
		} else if s.txn.open {
			s.txn.readOnly = *st.ReadOnly
			s.settings["transaction_read_only"] = onOff(*st.ReadOnly)
		}
	}
	if st.Isolation != "" && st.Session {
		s.settings["default_transaction_isolation"] = st.Isolation
	}
	return tagOnly("SET"), nil
}

// Set sets a session setting as SET name = 'value' would: the front doors
// apply the settings a client sends when it connects this way.
func (s *Session) Set(name, value string) error {
	_, err := s.set(&ast.Set{Name: name, Values: []*ast.Literal{{Kind: ast.LitString, Text: value}}, Pos: -1})
	return err
}
