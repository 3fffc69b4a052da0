package datafile

import (
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
)

// FuzzRecode feeds arbitrary page values to the decoders of the delta
// and byte stream split encodings, for every physical type they apply to:
// an error or values, never a panic, a read past the page or more values
// than the page has.
func FuzzRecode(f *testing.F) {
	// DELTA_BINARY_PACKED: block of 128 in 4 miniblocks, 5 values from 1,
	// min delta 1, widths 0; and a DELTA_BYTE_ARRAY of "ab", "ac".
	f.Add(int32(encDeltaBinaryPacked), uint8(1), []byte{0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0})
	f.Add(int32(encDeltaByteArray), uint8(4), []byte{0x80, 0x01, 0x04, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80, 0x01, 0x04, 0x02, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 'a', 'b', 'c'})
	f.Add(int32(encByteStreamSplit), uint8(2), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	phys := []parquet.Type{parquet.Types.Int32, parquet.Types.Int64, parquet.Types.Double, parquet.Types.Float, parquet.Types.ByteArray}
	f.Fuzz(func(t *testing.T, enc int32, typ uint8, vals []byte) {
		if !recoded(enc) {
			return
		}
		ci := &chunkInfo{phys: phys[int(typ)%len(phys)]}
		h := pageHeader{typ: pageData, encoding: enc, numValues: 64}
		out, offs, err := recode(ci, h, vals, nil, nil, new(recodeScratch))
		if err != nil {
			return
		}
		if ci.phys == parquet.Types.ByteArray {
			if len(offs) > 65 || len(offs) == 0 || int(offs[len(offs)-1]) != len(out) {
				t.Fatalf("%d offsets ending at %v for %d bytes", len(offs), offs[len(offs)-1:], len(out))
			}
			return
		}
		if w := map[parquet.Type]int{parquet.Types.Int32: 4, parquet.Types.Float: 4}[ci.phys]; w == 4 && len(out) > 4*64 || len(out) > 8*64 {
			t.Fatalf("%d bytes of values for a page of 64", len(out))
		}
	})
}
