package ast

import "strings"

func (p *printer) stmt(s Stmt) {
	switch s := s.(type) {
	case *Query:
		p.query(s)
	case *Insert:
		p.insert(s)
	case *CreateTable:
		p.createTable(s)
	case *DropTable:
		p.WriteString("DROP TABLE ")
		if s.IfExists {
			p.WriteString("IF EXISTS ")
		}
		for i, n := range s.Names {
			if i > 0 {
				p.WriteString(", ")
			}
			p.tableName(n)
		}
		if s.Cascade {
			p.WriteString(" CASCADE")
		}
	case *AlterTableSet:
		p.WriteString("ALTER TABLE ")
		if s.IfExists {
			p.WriteString("IF EXISTS ")
		}
		p.tableName(s.Name)
		p.WriteString(" SET ")
		p.options(s.Options, " = ")
	case *Explain:
		p.explain(s)
	case *Set:
		p.set(s)
	case *SetTransaction:
		if s.Session {
			p.WriteString("SET SESSION CHARACTERISTICS AS TRANSACTION")
		} else {
			p.WriteString("SET TRANSACTION")
		}
		p.transactionModes(s.TransactionModes)
	case *Show:
		p.WriteString("SHOW ")
		p.varName(s.Name)
	case *Reset:
		p.WriteString("RESET ")
		p.varName(s.Name)
	case *Begin:
		p.WriteString("BEGIN")
		p.transactionModes(s.TransactionModes)
	case *Commit:
		p.WriteString("COMMIT")
	case *Rollback:
		p.WriteString("ROLLBACK")
	case *Copy:
		p.copyStmt(s)
	case *Discard:
		p.WriteString("DISCARD " + strings.ToUpper(s.Target))
	case *Deallocate:
		if s.All {
			p.WriteString("DEALLOCATE ALL")
		} else {
			p.WriteString("DEALLOCATE " + QuoteIdent(s.Name))
		}
	}
}

func (p *printer) insert(s *Insert) {
	if s.With != nil {
		p.with(s.With)
	}
	p.WriteString("INSERT INTO ")
	p.tableName(s.Table)
	if s.Columns != nil {
		p.WriteString(" (")
		p.idents(s.Columns)
		p.WriteByte(')')
	}
	if s.Source == nil {
		p.WriteString(" DEFAULT VALUES")
		return
	}
	p.WriteByte(' ')
	p.query(s.Source)
}

func (p *printer) createTable(s *CreateTable) {
	p.WriteString("CREATE TABLE ")
	if s.IfNotExists {
		p.WriteString("IF NOT EXISTS ")
	}
	p.tableName(s.Name)
	p.WriteString(" (")
	for i, c := range s.Columns {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString(QuoteIdent(c.Name))
		if c.Type != nil {
			p.WriteByte(' ')
			p.typeName(c.Type)
		}
		if c.NotNull {
			p.WriteString(" NOT NULL")
		}
		if c.PrimaryKey {
			p.WriteString(" PRIMARY KEY")
		}
	}
	if s.PrimaryKey != nil {
		if len(s.Columns) > 0 {
			p.WriteString(", ")
		}
		p.WriteString("PRIMARY KEY (")
		p.idents(s.PrimaryKey)
		p.WriteByte(')')
	}
	p.WriteByte(')')
	if len(s.Options) > 0 {
		p.WriteString(" WITH ")
		p.options(s.Options, " = ")
	}
}

func (p *printer) explain(s *Explain) {
	p.WriteString("EXPLAIN ")
	if len(s.Options) == 0 {
		if s.Analyze {
			p.WriteString("ANALYZE ")
		}
		if s.Verbose {
			p.WriteString("VERBOSE ")
		}
	} else {
		p.WriteByte('(')
		sep := ""
		if s.Analyze {
			p.WriteString("ANALYZE")
			sep = ", "
		}
		if s.Verbose {
			p.WriteString(sep + "VERBOSE")
			sep = ", "
		}
		p.WriteString(sep)
		p.optionList(s.Options, " ")
		p.WriteString(") ")
	}
	p.stmt(s.Stmt)
}

func (p *printer) set(s *Set) {
	p.WriteString("SET ")
	if s.Local {
		p.WriteString("LOCAL ")
	}
	p.varName(s.Name)
	p.WriteString(" TO ")
	if s.Default {
		p.WriteString("DEFAULT")
		return
	}
	for i, v := range s.Values {
		if i > 0 {
			p.WriteString(", ")
		}
		p.literal(v)
	}
}

// varName prints a setting name; "all" is the keyword of SHOW ALL and
// RESET ALL.
func (p *printer) varName(name string) {
	if name == "all" {
		p.WriteString("ALL")
		return
	}
	for i, part := range strings.Split(name, ".") {
		if i > 0 {
			p.WriteByte('.')
		}
		p.WriteString(QuoteIdent(part))
	}
}

func (p *printer) transactionModes(m TransactionModes) {
	sep := " "
	if m.Isolation != "" {
		p.WriteString(sep + "ISOLATION LEVEL " + strings.ToUpper(m.Isolation))
		sep = ", "
	}
	if m.ReadOnly != nil {
		if *m.ReadOnly {
			p.WriteString(sep + "READ ONLY")
		} else {
			p.WriteString(sep + "READ WRITE")
		}
		sep = ", "
	}
	if m.Deferrable != nil {
		if *m.Deferrable {
			p.WriteString(sep + "DEFERRABLE")
		} else {
			p.WriteString(sep + "NOT DEFERRABLE")
		}
	}
}

func (p *printer) copyStmt(s *Copy) {
	p.WriteString("COPY ")
	if s.Query != nil {
		p.WriteByte('(')
		p.query(s.Query)
		p.WriteByte(')')
	} else if s.Table != nil {
		p.tableName(*s.Table)
		if s.Columns != nil {
			p.WriteString(" (")
			p.idents(s.Columns)
			p.WriteByte(')')
		}
	}
	switch {
	case s.From && s.File == "":
		p.WriteString(" FROM STDIN")
	case s.From:
		p.WriteString(" FROM " + QuoteString(s.File))
	case s.File == "":
		p.WriteString(" TO STDOUT")
	default:
		p.WriteString(" TO " + QuoteString(s.File))
	}
	if len(s.Options) > 0 {
		p.WriteString(" WITH ")
		p.options(s.Options, " ")
	}
}
