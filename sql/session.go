package sql

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dormousedb/dormouse/engine"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/sql/ast"
	"github.com/dormousedb/dormouse/sql/parser"
	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/datafile"
)

// Config tunes an Engine. The zero value is usable.
type Config struct {
	// WorkMem bounds the memory one statement's sorts and hash tables hold
	// (default 1 GiB); SET work_mem changes it per session.
	WorkMem int64
	// TempDir is where operators spill; "" means the system's.
	TempDir string
	// Allocator allocates Arrow buffers; nil means memory.DefaultAllocator.
	Allocator memory.Allocator
	// Parallelism is how many partitions a query scans at once (default
	// cores.N()).
	Parallelism int
	// ExportDir confines COPY … TO and FROM a local path to this directory
	// and below, as PostgreSQL's pg_write_server_files does (dormouse
	// serve's --export-dir); "" allows any local path (the CLI). S3
	// targets are not confined.
	ExportDir string
	// PageCacheBytes is the size of the cache of decoded pages that point
	// and narrow range reads share (engine.DefaultPageCacheBytes when 0,
	// none when negative): the engine's buffer pool.
	PageCacheBytes int64
}

// Engine runs SQL over one store. It is shared by every session and safe
// for concurrent use.
type Engine struct {
	db     *storage.DB
	cfg    Config
	nextID atomic.Int64
	// states keeps table states that splits pinned (split.go).
	states stateCache
	// exports is the store's exports log, opened on first use (export.go).
	exports exportsLog
	// readers keeps data file readers open between statements, so that a
	// point lookup does not open its file again.
	readers *engine.ReaderPool
	// now is the clock that times transactions' writes (tests set it).
	now func() time.Time
}

// NewEngine returns an engine over db.
func NewEngine(db *storage.DB, cfg Config) *Engine {
	if cfg.WorkMem <= 0 {
		cfg.WorkMem = 1 << 30
	}
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = cores.N()
	}
	return &Engine{db: db, cfg: cfg, readers: engine.NewReaderPool(0, cfg.PageCacheBytes), now: time.Now}
}

// PageCache returns the cache of decoded pages the engine's scans share
// (nil if it has none), for its metrics.
func (e *Engine) PageCache() *datafile.PageCache { return e.readers.PageCache() }

// Close releases what the engine keeps between statements (open data
// file readers). Sessions must not run statements afterwards.
func (e *Engine) Close() error { return e.readers.Close() }

// DB is the store the engine runs over.
func (e *Engine) DB() *storage.DB { return e.db }

// Session is one client's connection to the engine: its settings and
// transaction state. A Session runs one statement at a time.
type Session struct {
	e        *Engine
	id       int64
	settings map[string]string
	txn      txnState
	// params are the parameters of the statement being bound or run
	// (prepare.go); nil outside Prepare and Execute.
	params *paramState
	// running is the prepared statement Execute runs, whose binding a
	// query may reuse (prepare_cache.go); nil outside Execute.
	running *Statement
	// settingsGen counts changes of settings, which cached bindings
	// depend on (setSetting).
	settingsGen uint64
	// workMemVal is work_mem parsed, and timeZoneVal timezone read, when
	// settingsGen was readGen-1 (readSettings).
	workMemVal  int64
	timeZoneVal string
	readGen     uint64
	// execParams are params during Execute, kept here rather than
	// allocated for each execution.
	execParams paramState
}

// NewSession starts a session with default settings.
func (e *Engine) NewSession() *Session {
	s := &Session{e: e, id: e.nextID.Add(1), settings: map[string]string{}}
	for _, d := range settingDefs {
		s.setSetting(d.name, d.def)
	}
	s.setSetting("work_mem", formatBytes(e.cfg.WorkMem))
	return s
}

// Setting returns the current value of a session setting.
func (s *Session) Setting(name string) (string, bool) {
	v, ok := s.settings[strings.ToLower(name)]
	return v, ok
}

// SettingsGeneration changes whenever a setting does (SET, RESET, a
// rollback that restores them), so that a caller can tell that none has
// without reading each.
func (s *Session) SettingsGeneration() uint64 { return s.settingsGen }

// Script runs the ';'-separated statements of text in order, handing each
// statement's rows to fn, which must consume them (Collect does). It stops
// at the first error.
func (s *Session) Script(ctx context.Context, text string, fn func(Rows) error) error {
	stmts, err := parser.Parse(text)
	if err != nil {
		return parseError(text, err)
	}
	for _, st := range stmts {
		rows, err := s.execute(ctx, text, st)
		if err != nil {
			return err
		}
		err = fn(rows)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Run runs exactly one statement and returns its rows, which the caller
// reads and closes.
func (s *Session) Run(ctx context.Context, text string) (Rows, error) {
	stmts, err := parser.Parse(text)
	if err != nil {
		return nil, parseError(text, err)
	}
	switch len(stmts) {
	case 0:
		return tagOnly("EMPTY"), nil
	case 1:
		return s.execute(ctx, text, stmts[0])
	}
	return nil, sqlerr.New(sqlerr.SyntaxError, "cannot run %d statements at once here", len(stmts))
}

// parseError turns the parser's error into a positioned SQL error.
func parseError(text string, err error) error {
	var pe *parser.Error
	if e, ok := err.(*parser.Error); ok {
		pe = e
		return &sqlerr.Error{Code: pe.SQLSTATE, Message: pe.Message, Position: ast.CharPosition(text, pe.Position), Err: err}
	}
	return err
}

// execute runs one parsed statement.
func (s *Session) execute(ctx context.Context, text string, st ast.Stmt) (Rows, error) {
	rows, err := s.dispatch(ctx, text, st)
	if err != nil {
		s.StatementFailed()
		return nil, positioned(text, err)
	}
	return rows, nil
}

// positioned converts byte offsets carried by binder errors into the
// 1-based character positions PostgreSQL reports.
func positioned(text string, err error) error {
	if pe, ok := err.(*posError); ok {
		e := sqlerr.As(pe.err)
		return e.At(ast.CharPosition(text, pe.pos))
	}
	return err
}

// posError is an error raised at a byte offset of the statement text.
type posError struct {
	pos int
	err error
}

func (e *posError) Error() string { return e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

// errAt attaches a byte offset to err unless it has one.
func errAt(pos int, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*posError); ok || pos < 0 {
		return err
	}
	if e, ok := err.(*sqlerr.Error); ok && e.Position != 0 {
		return err
	}
	return &posError{pos: pos, err: err}
}

func (s *Session) dispatch(ctx context.Context, text string, st ast.Stmt) (Rows, error) {
	if err := s.checkTxn(st); err != nil {
		return nil, err
	}
	switch st := st.(type) {
	case *ast.Query:
		return s.query(ctx, st)
	case *ast.Explain:
		return s.explain(ctx, st)
	case *ast.Insert:
		return s.insert(ctx, st)
	case *ast.CreateTable:
		return s.createTable(ctx, st)
	case *ast.DropTable:
		return s.dropTable(ctx, st)
	case *ast.AlterTableSet:
		return s.alterTable(ctx, st)
	case *ast.Set:
		return s.set(st)
	case *ast.Show:
		return s.show(st)
	case *ast.Reset:
		return s.reset(st)
	case *ast.Begin:
		return s.begin(st)
	case *ast.Commit:
		return s.endTxn(ctx, true)
	case *ast.Rollback:
		return s.endTxn(ctx, false)
	case *ast.SetTransaction:
		return s.setTransaction(st)
	case *ast.Discard:
		return tagOnly("DISCARD " + strings.ToUpper(st.Target)), nil
	case *ast.Copy:
		if st.File != "" {
			return s.copyFile(ctx, st)
		}
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %s is not supported", strings.SplitN(strings.TrimSpace(st.Span().Text), " ", 2)[0])
}

// execContext prepares what the engine needs to run one statement.
func (s *Session) execContext(ctx context.Context, analyze bool) *engine.ExecContext {
	var x struct {
		ec   engine.ExecContext
		eval expr.Context
		mem  engine.MemoryPool
	}
	s.fillExecContext(ctx, &x.ec, &x.eval, &x.mem)
	if analyze {
		x.ec.Stats = &engine.Stats{}
	}
	return &x.ec
}

// fillExecContext makes ec what the engine needs to run one statement,
// with eval as its expression context and mem as its memory pool.
func (s *Session) fillExecContext(ctx context.Context, ec *engine.ExecContext, eval *expr.Context, mem *engine.MemoryPool) {
	mem.Reset(s.workMem())
	*eval = expr.Context{Ctx: ctx, Alloc: s.e.cfg.Allocator, Now: time.Now().UnixMicro(), TimeZone: s.timeZone(), Params: s.params.arrays()}
	*ec = engine.ExecContext{
		Ctx:         ctx,
		Alloc:       s.e.cfg.Allocator,
		Mem:         mem,
		TempDir:     s.e.cfg.TempDir,
		Parallelism: s.e.cfg.Parallelism,
		Readers:     s.e.readers,
		Eval:        eval,
	}
}

// Result is a statement's result read in full, with every value in
// PostgreSQL's text output format.
type Result struct {
	Columns []ResultColumn
	Rows    [][]*string // nil for NULL
	Tag     string
}

// ResultColumn names a result column and its PostgreSQL type.
type ResultColumn struct {
	Name string
	Type string
}

// Collect reads rows to the end, closes them, and renders every value as
// PostgreSQL's text output would.
func Collect(ctx context.Context, rows Rows) (*Result, error) {
	defer rows.Close()
	res := &Result{}
	sch := rows.Schema()
	if sch != nil {
		for _, f := range sch.Fields() {
			res.Columns = append(res.Columns, ResultColumn{Name: f.Name, Type: expr.TypeName(f.Type)})
		}
	}
	for {
		rec, err := rows.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		texts, err := textColumns(ctx, rec)
		if err != nil {
			rec.Release()
			return nil, err
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]*string, len(texts))
			for c, col := range texts {
				row[c] = col[r] // nil stays nil: NULL
			}
			res.Rows = append(res.Rows, row)
		}
		rec.Release()
	}
	res.Tag = rows.Tag()
	return res, nil
}

// Settings known to the session, with PostgreSQL's defaults where they
// apply; clients read several of these at startup.
var settingDefs = []struct{ name, def, desc string }{
	{"application_name", "", "Sets the application name to be reported in statistics and logs."},
	{"client_encoding", "UTF8", "Sets the client's character set encoding."},
	{"datestyle", "ISO, MDY", "Sets the display format for date and time values."},
	{"default_transaction_isolation", "read committed", "Sets the transaction isolation level of each new transaction."},
	{"default_transaction_read_only", "off", "Sets the default read-only status of new transactions."},
	{"extra_float_digits", "1", "Sets the number of digits displayed for floating-point values."},
	{"integer_datetimes", "on", "Shows whether datetimes are integer based."},
	{"intervalstyle", "postgres", "Sets the display format for interval values."},
	{"is_superuser", "on", "Shows whether the current user is a superuser."},
	{"max_parallel_workers", "", "Sets how many partitions a query scans at once."},
	{"search_path", `"$user", public`, "Sets the schema search order for names that are not schema-qualified."},
	{"server_encoding", "UTF8", "Shows the server (database) character set encoding."},
	{"server_version", "15.0 (Dormouse)", "Shows the server version."},
	{"server_version_num", "150000", "Shows the server version as an integer."},
	{"standard_conforming_strings", "on", "Causes '...' strings to treat backslashes literally."},
	{"statement_timeout", "0", "Sets the maximum allowed duration of any statement."},
	{"timezone", "UTC", "Sets the time zone for displaying and interpreting time stamps."},
	{"transaction_isolation", "read committed", "Shows the current transaction's isolation level."},
	{"transaction_read_only", "off", "Shows whether the current transaction is read-only."},
	{"work_mem", "1GB", "Sets the maximum memory one statement's sorts and hash tables may use."},
}

func settingDesc(name string) string {
	for _, d := range settingDefs {
		if d.name == name {
			return d.desc
		}
	}
	return ""
}

func (s *Session) workMem() int64 {
	s.readSettings()
	return s.workMemVal
}

// timeZone is the timezone setting.
func (s *Session) timeZone() string {
	s.readSettings()
	return s.timeZoneVal
}

// readSettings reads the settings each statement needs (workMemVal,
// timeZoneVal) once per change of the settings, not once per statement.
func (s *Session) readSettings() {
	if s.readGen == s.settingsGen+1 {
		return
	}
	v, err := parseMemSetting(s.settings["work_mem"])
	if err != nil || v <= 0 {
		v = s.e.cfg.WorkMem
	}
	s.workMemVal, s.timeZoneVal, s.readGen = v, s.settings["timezone"], s.settingsGen+1
}

// parseMemSetting reads PostgreSQL memory units: 64kB, 4MB, 1GB, or a
// plain number of kilobytes.
func parseMemSetting(v string) (int64, error) {
	v = strings.TrimSpace(v)
	units := []struct {
		suffix string
		mult   int64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"B", 1}}
	mult := int64(1 << 10)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"work_mem\": %q", v).
			WithHint("Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".")
	}
	return n * mult, nil
}

func formatBytes(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dkB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func (s *Session) set(st *ast.Set) (Rows, error) {
	s.saveSettings()
	name := strings.ToLower(st.Name)
	if _, known := s.settings[name]; !known {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", st.Name))
	}
	switch name {
	case "server_version", "server_version_num", "server_encoding", "integer_datetimes", "is_superuser", "transaction_isolation":
		return nil, errAt(st.Pos, sqlerr.New("55P02", "parameter \"%s\" cannot be changed", name)) // cant_change_runtime_param
	}
	if st.Default {
		s.setSetting(name, defaultSetting(name, s))
		return tagOnly("SET"), nil
	}
	vals := make([]string, len(st.Values))
	for i, v := range st.Values {
		vals[i] = v.Text
	}
	val := strings.Join(vals, ", ")
	if name == "work_mem" {
		if _, err := parseMemSetting(val); err != nil {
			return nil, errAt(st.Pos, err)
		}
	}
	s.setSetting(name, val)
	return tagOnly("SET"), nil
}

func defaultSetting(name string, s *Session) string {
	if name == "work_mem" {
		return formatBytes(s.e.cfg.WorkMem)
	}
	for _, d := range settingDefs {
		if d.name == name {
			return d.def
		}
	}
	return ""
}

func (s *Session) reset(st *ast.Reset) (Rows, error) {
	s.saveSettings()
	name := strings.ToLower(st.Name)
	if name == "all" {
		for k := range s.settings {
			s.setSetting(k, defaultSetting(k, s))
		}
		return tagOnly("RESET"), nil
	}
	if _, ok := s.settings[name]; !ok {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", st.Name))
	}
	s.setSetting(name, defaultSetting(name, s))
	return tagOnly("RESET"), nil
}

func (s *Session) show(st *ast.Show) (Rows, error) {
	name := strings.ToLower(st.Name)
	if name == "all" {
		names := make([]string, 0, len(s.settings))
		for k := range s.settings {
			names = append(names, k)
		}
		sort.Strings(names)
		rows := make([][]string, len(names))
		for i, k := range names {
			rows[i] = []string{k, s.settings[k], settingDesc(k)}
		}
		return textRows([]string{"name", "setting", "description"}, rows, "SHOW"), nil
	}
	v, ok := s.settings[name]
	if !ok {
		return nil, errAt(st.Pos, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter \"%s\"", st.Name))
	}
	return textRows([]string{name}, [][]string{{v}}, "SHOW"), nil
}

// setSetting sets a session setting. Every change goes through here, so
// that cached bindings, which may have read a setting, are dropped.
func (s *Session) setSetting(name, value string) {
	if old, ok := s.settings[name]; ok && old == value {
		return
	}
	s.settings[name] = value
	s.settingsGen++
}
