package ingest

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a reader or sorter used after Close.
var ErrClosed = errors.New("ingest: use after close")

// ErrFinished is returned by Sorter.Add and Sorter.Finish after Finish.
var ErrFinished = errors.New("ingest: sorter already finished")

// ValueError reports a bad value in an input file: where it is and what is
// wrong with it. Its text reads like
//
//	data.csv:1234: column "v": invalid input syntax for type bigint: "abc"
//
// Line is the physical line in the file (a quoted field can span lines: it
// is the line on which the bad field starts); Row counts data rows from 1
// and is set when there is no line (Parquet). Column is empty for errors
// about a whole record, such as a wrong number of fields.
type ValueError struct {
	File   string
	Line   int
	Row    int64
	Column string
	Msg    string
}

func (e *ValueError) Error() string {
	loc := e.File
	switch {
	case e.Line > 0:
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Row > 0:
		loc = fmt.Sprintf("%s: row %d", e.File, e.Row)
	}
	if e.Column == "" {
		return loc + ": " + e.Msg
	}
	return fmt.Sprintf("%s: column %q: %s", loc, e.Column, e.Msg)
}
