package ingest

import (
	"bytes"
	"io"
)

const (
	minChunkBytes = 64 << 10
	maxChunkBytes = 64 << 20
)

// splitter cuts CSV text into chunks of whole records, at most batchRows
// records each. It tracks quotes so that a newline inside a quoted field
// never ends a chunk; the parsers then work on chunks independently.
type splitter struct {
	r         io.Reader
	batchRows int
	want      int    // capacity to read into: about batchRows records
	carry     []byte // the start of the next chunk, read but not yet cut
	line      int    // the physical line on which carry starts
	eof       bool
	started   bool
}

func newSplitter(r io.Reader, batchRows int) *splitter {
	return &splitter{r: r, batchRows: batchRows, want: 1 << 20, line: 1}
}

// next fills *buf (growing it as needed) with the next chunk and returns it
// and the line it starts on; io.EOF when the input is exhausted.
func (s *splitter) next(buf *[]byte) ([]byte, int, error) {
	return s.cut(buf, s.batchRows)
}

func (s *splitter) cut(buf *[]byte, maxRecords int) ([]byte, int, error) {
	b := *buf
	if c := max(s.want, 2*len(s.carry)); cap(b) < c {
		b = make([]byte, 0, c)
	}
	b = append(b[:0], s.carry...)
	s.carry = s.carry[:0]
	for {
		if !s.eof {
			var err error
			if b, err = s.fill(b); err != nil {
				*buf = b
				return nil, 0, err
			}
		}
		if len(b) == 0 && s.eof {
			*buf = b
			return nil, 0, io.EOF
		}
		end, records := findCut(b, maxRecords, s.eof)
		if end > 0 {
			*buf = b
			s.carry = append(s.carry, b[end:]...)
			line := s.line
			s.line += bytes.Count(b[:end], []byte{'\n'})
			if records > 0 && maxRecords == s.batchRows {
				per := end / records
				s.want = min(max(per*s.batchRows+per*s.batchRows/8, minChunkBytes), maxChunkBytes)
			}
			return b[:end], line, nil
		}
		// Not one whole record in a full buffer: read more.
		nb := make([]byte, len(b), 2*cap(b))
		copy(nb, b)
		b = nb
	}
}

// fill reads until b is full or the input ends.
func (s *splitter) fill(b []byte) ([]byte, error) {
	for len(b) < cap(b) {
		n, err := s.r.Read(b[len(b):cap(b)])
		if !s.started && n > 0 {
			s.started = true
			if got := b[len(b) : len(b)+n]; bytes.HasPrefix(got, []byte("\xEF\xBB\xBF")) {
				copy(got, got[3:])
				n -= 3
			}
		}
		b = b[:len(b)+n]
		if err == io.EOF {
			s.eof = true
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// findCut returns the end of the first maxRecords records in b (just past
// the newline of the last), and how many records that is. A newline ends a
// record unless an odd number of quotes precede it within the record, which
// is exactly when the parser is inside a quoted field (a doubled quote
// closes and reopens). At EOF the unterminated rest of b is a record too. A
// zero end means that b holds no whole record.
func findCut(b []byte, maxRecords int, eof bool) (end, records int) {
	q := bytes.IndexByte(b, '"')
	if q < 0 {
		n := bytes.Count(b, []byte{'\n'})
		if n > maxRecords {
			pos := 0
			for range maxRecords {
				pos += bytes.IndexByte(b[pos:], '\n') + 1
			}
			return pos, maxRecords
		}
		if eof && (len(b) == 0 || b[len(b)-1] != '\n') {
			return len(b), n + 1
		}
		return bytes.LastIndexByte(b, '\n') + 1, n
	}
	pos := 0
	for records < maxRecords {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			break
		}
		nl += pos
		if q >= 0 && q < pos {
			q = indexFrom(b, pos, '"')
		}
		if q < 0 || q > nl {
			pos = nl + 1
			end, records = pos, records+1
			continue
		}
		// Skip the quoted section that starts at q.
		close := indexFrom(b, q+1, '"')
		if close < 0 {
			break
		}
		pos = close + 1
		q = indexFrom(b, pos, '"')
	}
	if eof && records < maxRecords && end < len(b) {
		return len(b), records + 1
	}
	return end, records
}

func indexFrom(b []byte, from int, c byte) int {
	i := bytes.IndexByte(b[from:], c)
	if i < 0 {
		return -1
	}
	return from + i
}
