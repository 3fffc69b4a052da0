package datafile

import (
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/dormousedb/dormouse/storage/schema"
)

// Why delta encodings.
//
// zstd was half of a compaction's CPU: at level 1 it compresses PLAIN
// pages of the benchmark rows at about 150 MB/s, because it searches each
// one for repeats byte by byte (sorted keys share long prefixes with their
// neighbours; numbers repeat their high bytes). Encodings that remove the
// repeats first leave it literals to entropy-code, which it does at
// 400-500 MB/s on fewer bytes. Per row of the benchmark's columns (bench/gen:
// 16-byte sorted VARCHAR key, random BIGINT, DOUBLE of three decimals,
// VARCHAR of 100,000 values), zstd level 1 on 64 KiB pages of each
// column's values so encoded (lengths as bytes), input bytes -> output
// bytes and CPU on a shared 2-core AMD EPYC:
//
//	key  PLAIN 20.0 -> 6.5 B, 115-140 ns   DELTA_BYTE_ARRAY    11.7 -> 4.7 B, 30 ns
//	a    PLAIN  8.0 -> 3.5 B,  50-70 ns    DELTA_BINARY_PACKED ~3   -> ~3 B,   2 ns
//	b    PLAIN  8.0 -> 3.8 B,  55-70 ns    BYTE_STREAM_SPLIT    8.0 -> 6.1 B, 15 ns
//	c    PLAIN 14.9 -> 3.2 B,  70 ns       DELTA_BYTE_ARRAY     6.8 -> 2.4 B, 17 ns
//
// So NOT NULL integers (BIGINT, INTEGER, TIMESTAMP, DATE) are written
// DELTA_BINARY_PACKED: sorted keys and timestamps become a few bits a
// value, random ones their width. NOT NULL byte arrays are
// DELTA_BYTE_ARRAY unless a dictionary pays (few distinct values: then
// dictionary indexes, smaller still and the fastest to read); key columns
// always, as sorted keys share prefixes and repeat a key in a zero-length
// suffix. Nullable columns are PLAIN or dictionary-encoded, as before:
// arrow-go's delta encoders break on a page of only NULLs (below). DOUBLE
// stays PLAIN (or a dictionary): BYTE_STREAM_SPLIT made the benchmark's
// decimal-like doubles 60% larger and saved about 15 ns of a compaction's
// ~450 ns a row (CPU profile). Were the benchmark's value columns NOT
// NULL, compaction output would go from 17.0 to 13.7 bytes a row; as they
// are nullable, only the key is delta-encoded: 15.1 bytes a row. The
// readers decode each page once into PLAIN's layout (read_recode.go).

// dictionarySample is how many of a column's first values decide whether
// it is dictionary-encoded.
const dictionarySample = 4096

// columnEncodings returns the writer properties that choose each column's
// encoding, from the file's first rows (nil: none).
func columnEncodings(sch *schema.Schema, first arrow.RecordBatch) []parquet.WriterProperty {
	var props []parquet.WriterProperty
	for i, c := range sch.Columns() {
		var firstValues arrow.Array
		if first != nil {
			firstValues = first.Column(i)
		}
		if enc, ok := deltaEncoding(c, i < sch.NumKeys(), firstValues); ok {
			props = append(props, parquet.WithDictionaryFor(c.Name, false), parquet.WithEncodingFor(c.Name, enc))
			continue
		}
		// Keep a dictionary only where it pays: decided per column chunk
		// from its first page (low-cardinality values keep it; random
		// numbers, which only waste hashing, drop it).
		props = append(props, parquet.WithDictionaryCostFallbackFor(c.Name, true))
	}
	return props
}

// deltaEncoding returns the delta encoding of column c (a key column
// when key; first holds its first values, or is nil), or false when it is
// PLAIN or dictionary-encoded.
func deltaEncoding(c schema.Column, key bool, first arrow.Array) (parquet.Encoding, bool) {
	switch {
	case c.Nullable:
		// arrow-go's (v18.8.0) delta encoders keep a stale bit writer
		// after they flush a page: a page with no values (all NULL) after
		// one with values is cut at once, written with the bytes of the
		// page before, and fails to write when the encoder's pooled
		// buffer is a fresh one (slice bounds out of range), which
		// -race's random pools make happen (TestRandomRoundTrip);
		// DELTA_BYTE_ARRAY's such page no reader can read
		// (TestNullRunInDeltaBytes). Only NOT NULL columns, keys among
		// them, are delta-encoded.
		return 0, false
	case c.Type.IntegerLike():
		return parquet.Encodings.DeltaBinaryPacked, true
	case (c.Type == schema.Varchar || c.Type == schema.Varbinary) &&
		(key || first == nil || !dictionaryPays(first)):
		return parquet.Encodings.DeltaByteArray, true
	}
	return 0, false
}

// dictionaryPays says whether a byte array column's first values
// (dictionarySample of them) take less than half their PLAIN size as a
// dictionary and its indexes: few distinct values, often repeated.
// Half, because the alternative, DELTA_BYTE_ARRAY, is smaller than PLAIN.
func dictionaryPays(col arrow.Array) bool {
	offs, data, ok := byteArrays(col)
	if !ok {
		return false
	}
	n := min(col.Len(), dictionarySample)
	distinct := make(map[string]struct{}, 256)
	plain, dict, values := 0, 0, 0
	for i := range n {
		if col.IsNull(i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		values++
		plain += 4 + len(v)
		// A view of the batch's bytes: the map does not outlive them.
		k := unsafe.String(unsafe.SliceData(v), len(v))
		if _, ok := distinct[k]; !ok {
			distinct[k] = struct{}{}
			dict += 4 + len(v)
		}
	}
	if values == 0 {
		return true
	}
	dict += values * bits.Len(uint(len(distinct))) / 8
	return dict < plain/2
}
