package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/dormousedb/dormouse/engine/sqlerr"
	"github.com/dormousedb/dormouse/sql"
)

// runQuery runs SQL statements — from the argument, or from standard input
// when there is none — and prints each result like psql, or as CSV or JSON.
func runQuery(ctx context.Context, args []string) error {
	fs, store := newFlags("query", `["SQL"]`)
	format := fs.String("format", "aligned", "output format: aligned, csv or json")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) > 1 {
		return orUsage(err, fs, "query takes at most one SQL argument (or reads standard input)")
	}
	if *format != "aligned" && *format != "csv" && *format != "json" {
		return usageError{fmt.Sprintf("unknown --format %q (want aligned, csv or json)", *format)}
	}
	text := ""
	if len(pos) == 1 {
		text = pos[0]
	} else {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read statements: %w", err)
		}
		text = string(b)
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	sess := sql.NewEngine(db, sql.Config{}).NewSession()
	err = sess.Script(ctx, text, func(rows sql.Rows) error {
		res, err := sql.Collect(ctx, rows)
		if err != nil {
			return err
		}
		return printResult(os.Stdout, res, *format)
	})
	if err != nil {
		return describeSQLError(text, err)
	}
	return nil
}

// describeSQLError renders an error as psql does: severity, SQLSTATE,
// message, and the line of the statement with a caret at the position.
func describeSQLError(text string, err error) error {
	e := sqlerr.As(err)
	msg := fmt.Sprintf("ERROR:  %s (SQLSTATE %s)", e.Message, e.Code)
	if e.Position > 0 {
		msg += "\n" + caretLine(text, e.Position)
	}
	if e.Detail != "" {
		msg += "\nDETAIL:  " + e.Detail
	}
	if e.Hint != "" {
		msg += "\nHINT:  " + e.Hint
	}
	return fmt.Errorf("%s", msg)
}

// caretLine shows the line holding the 1-based character position pos with
// a caret under it.
func caretLine(text string, pos int) string {
	runes := []rune(text)
	if pos > len(runes) {
		pos = len(runes)
	}
	start := pos - 1
	for start > 0 && runes[start-1] != '\n' {
		start--
	}
	end := pos - 1
	for end < len(runes) && runes[end] != '\n' {
		end++
	}
	prefix := "LINE " + fmt.Sprint(strings.Count(string(runes[:pos-1]), "\n")+1) + ": "
	return prefix + string(runes[start:end]) + "\n" + strings.Repeat(" ", len(prefix)+pos-1-start) + "^"
}

func printResult(w io.Writer, res *sql.Result, format string) error {
	if len(res.Columns) == 0 {
		if format == "aligned" {
			fmt.Fprintln(w, res.Tag)
		}
		return nil
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		header := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			header[i] = c.Name
		}
		cw.Write(header)
		for _, row := range res.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				if v != nil {
					rec[i] = *v
				}
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		out := make([]map[string]any, len(res.Rows))
		for r, row := range res.Rows {
			m := make(map[string]any, len(row))
			for i, v := range row {
				if v == nil {
					m[res.Columns[i].Name] = nil
				} else {
					m[res.Columns[i].Name] = *v
				}
			}
			out[r] = m
		}
		enc := json.NewEncoder(w)
		return enc.Encode(out)
	}
	printAligned(w, res)
	return nil
}

// printAligned prints a result the way psql's aligned format does: a
// centred header, numbers right-aligned, and a row count.
func printAligned(w io.Writer, res *sql.Result) {
	n := len(res.Columns)
	width := make([]int, n)
	right := make([]bool, n)
	for i, c := range res.Columns {
		width[i] = utf8.RuneCountInString(c.Name)
		right[i] = isNumericType(c.Type)
	}
	for _, row := range res.Rows {
		for i, v := range row {
			if v != nil {
				width[i] = max(width[i], utf8.RuneCountInString(*v))
			}
		}
	}
	var b strings.Builder
	for i, c := range res.Columns {
		if i > 0 {
			b.WriteString("|")
		}
		pad := width[i] - utf8.RuneCountInString(c.Name)
		fmt.Fprintf(&b, " %s%s%s ", strings.Repeat(" ", pad/2), c.Name, strings.Repeat(" ", pad-pad/2))
	}
	b.WriteString("\n")
	for i := range res.Columns {
		if i > 0 {
			b.WriteString("+")
		}
		b.WriteString(strings.Repeat("-", width[i]+2))
	}
	b.WriteString("\n")
	for _, row := range res.Rows {
		for i, v := range row {
			if i > 0 {
				b.WriteString("|")
			}
			s := ""
			if v != nil {
				s = *v
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if right[i] {
				fmt.Fprintf(&b, " %s%s ", pad, s)
			} else {
				fmt.Fprintf(&b, " %s%s ", s, pad)
			}
		}
		b.WriteString("\n")
	}
	if len(res.Rows) == 1 {
		b.WriteString("(1 row)\n\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n\n", len(res.Rows))
	}
	// psql leaves no trailing blanks on a line.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	io.WriteString(w, strings.Join(lines, "\n"))
}

func isNumericType(t string) bool {
	switch t {
	case "smallint", "integer", "bigint", "real", "double precision", "numeric":
		return true
	}
	return false
}
