package datafile

import (
	"github.com/dormousedb/dormouse/storage/datafile/pqwrite"
	"github.com/dormousedb/dormouse/storage/schema"
)

// Why these encodings.
//
// zstd is most of what writing costs: at level 1 it compresses PLAIN
// pages at about 150 MB/s, because it searches each one for repeats byte
// by byte (sorted keys share long prefixes with their neighbours;
// numbers repeat their high bytes). Encodings that remove the repeats
// first leave it fewer bytes, mostly literals to entropy-code, which it
// does several times faster. pqwrite's BenchmarkPerColumn writes each
// column of 1M sorted rows of bench/gen alone (a 16-byte VARCHAR key, a
// random BIGINT, a DOUBLE of three decimals, a VARCHAR of 100,000 values;
// the value columns nullable), in a table's default 1 MiB pages with zstd
// level 1; file bytes and CPU a row, two runs on a shared 2-core AMD EPYC:
//
//	key  PLAIN  6.8 B, 135-145 ns   DELTA_BYTE_ARRAY     4.9 B, 55-74 ns
//	a    PLAIN  3.3 B,  58-78 ns    DELTA_BINARY_PACKED  2.7 B, 13-20 ns
//	b    PLAIN  3.6 B,  71-85 ns
//	c    PLAIN  3.2 B,  91-119 ns   DELTA_BYTE_ARRAY     2.5 B, 60 ns
//	     a dictionary, given up after 4096 rows for DELTA_BYTE_ARRAY:
//	                                                     2.5 B, 46-49 ns
//
// and the four together (BenchmarkWrite) 17.0 B and 350-410 ns a row
// PLAIN, 13.7 B and 165-205 ns as chosen here. So integers (BIGINT,
// INTEGER, TIMESTAMP, DATE) are DELTA_BINARY_PACKED: sorted keys and
// timestamps become a few bits a value, random ones their width. Byte
// arrays are DELTA_BYTE_ARRAY when they are key columns (sorted keys
// share prefixes and repeat a key in a zero-length suffix), else
// dictionary-encoded while the dictionary pays and DELTA_BYTE_ARRAY when
// it does not: a dictionary of few values is smaller still and the
// fastest to read, and pqwrite weighs it on each column chunk's first
// 4096 rows, which costs nothing noticeable when it loses. DOUBLE is
// PLAIN or, where it pays, a dictionary: BYTE_STREAM_SPLIT would spare
// zstd most of its work on b (21 against 58 ns, 64 KiB pages) but make
// the column twice as large (7.4 against 3.8 bytes). BOOLEAN is PLAIN, a
// bit a value. Nullable columns are encoded as NOT NULL ones: pqwrite's
// delta encoders write a page of only NULLs like any other page (arrow-go's
// could not). The readers decode each page once into PLAIN's layout
// (read_recode.go).

// columnEncodings returns the columns of sch as pqwrite writes them, each
// with its encoding.
func columnEncodings(sch *schema.Schema) []pqwrite.Column {
	cols := sch.Columns()
	out := make([]pqwrite.Column, len(cols))
	for i, c := range cols {
		enc, fallback := columnEncoding(c, i < sch.NumKeys())
		out[i] = pqwrite.Column{Name: c.Name, Type: c.Type.Arrow(), Nullable: c.Nullable, Encoding: enc, Fallback: fallback}
	}
	return out
}

// columnEncoding returns the encoding of column c (a key column when
// key) and, for a dictionary, the encoding of chunks where it does not
// pay.
func columnEncoding(c schema.Column, key bool) (enc, fallback pqwrite.Encoding) {
	switch {
	case c.Type.IntegerLike():
		return pqwrite.DeltaBinaryPacked, pqwrite.Plain
	case c.Type == schema.Varchar || c.Type == schema.Varbinary:
		if key {
			return pqwrite.DeltaByteArray, pqwrite.Plain
		}
		return pqwrite.Dictionary, pqwrite.DeltaByteArray
	case c.Type == schema.Double:
		return pqwrite.Dictionary, pqwrite.Plain
	}
	return pqwrite.Plain, pqwrite.Plain
}
