package datafile

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// TestDecodeHybrid32 checks the word-at-a-time unpacking of bit-packed
// runs against the value-by-value decoder, for every width, with RLE runs
// between and a count that stops mid-group.
func TestDecodeHybrid32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for width := 1; width <= 32; width++ {
		var enc []byte
		var want []uint32
		mask := uint64(1)<<width - 1
		for range 5 {
			// A bit-packed run of some groups of eight.
			groups := 1 + rng.IntN(4)
			enc = binary.AppendUvarint(enc, uint64(groups<<1|1))
			packed := make([]byte, groups*width)
			for i := range groups * 8 {
				v := rng.Uint64() & mask
				want = append(want, uint32(v))
				for bit := range width {
					if v>>bit&1 == 1 {
						p := i*width + bit
						packed[p/8] |= 1 << (p % 8)
					}
				}
			}
			enc = append(enc, packed...)
			// An RLE run.
			run, v := 1+rng.IntN(20), uint32(rng.Uint64()&mask)
			enc = binary.AppendUvarint(enc, uint64(run<<1))
			for i := range (width + 7) / 8 {
				enc = append(enc, byte(v>>(8*i)))
			}
			for range run {
				want = append(want, v)
			}
		}
		n := len(want) - rng.IntN(8)
		got, err := decodeHybrid32(enc, width, n, nil)
		if err != nil {
			t.Fatalf("width %d: %v", width, err)
		}
		if !slices.Equal(got, want[:n]) {
			t.Fatalf("width %d: got %v\nwant %v", width, got, want[:n])
		}
	}
}

// TestLayOutByteArrays lays out PLAIN byte arrays of every length around
// the 16-byte moves, in random orders (so that values short and long
// follow each other at every distance from the start), and checks the
// bytes and offsets against the values; malformed pages are errors.
func TestLayOutByteArrays(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 200 {
		var page []byte
		var want [][]byte
		for range rng.IntN(40) {
			v := make([]byte, []int{0, 1, 3, 12, 15, 16, 17, 31, 40}[rng.IntN(9)])
			for i := range v {
				v[i] = byte(rng.IntN(256))
			}
			page = binary.LittleEndian.AppendUint32(page, uint32(len(v)))
			page = append(page, v...)
			want = append(want, v)
		}
		vals, offs, err := layOutByteArrays(page, nil, len(want))
		if err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		if len(offs) != len(want)+1 || offs[0] != 0 || int(offs[len(want)]) != len(vals) {
			t.Fatalf("iteration %d: offsets %v for %d values of %d bytes", iter, offs, len(want), len(vals))
		}
		for i, v := range want {
			if got := vals[offs[i]:offs[i+1]]; !slices.Equal(got, v) {
				t.Fatalf("iteration %d, value %d: %x, want %x", iter, i, got, v)
			}
		}
	}
	for _, bad := range [][]byte{
		{1, 0},                        // a length cut short
		{5, 0, 0, 0, 'a'},             // a value past the end
		{0xff, 0xff, 0xff, 0xff, 'a'}, // a length past any page
	} {
		if _, _, err := layOutByteArrays(slices.Clone(bad), nil, 1); err == nil {
			t.Errorf("%x: laid out, want an error", bad)
		}
	}
}

// TestDecompressEmptyZstdValues: a DATA_PAGE_V2 of only NULLs may carry
// an empty "compressed" values section (parquet-java, Spark:
// apache/parquet-java#3122, apache/arrow#45252, parquet-testing's
// page_v2_empty_compressed.parquet). It decompresses to no bytes, with
// libzstd as with arrow-go's codec; an empty section where the header
// promises bytes is still an error.
func TestDecompressEmptyZstdValues(t *testing.T) {
	arrowCodec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	for name, codec := range map[string]compress.Codec{"arrow-go": arrowCodec, "libzstd": zstdCodec{arrowCodec}} {
		if out, err := decompress(codec, []byte{}, 0, nil); err != nil || len(out) != 0 {
			t.Errorf("%s: %d bytes, %v; want none", name, len(out), err)
		}
		if _, err := decompress(codec, []byte{}, 5, nil); err == nil {
			t.Errorf("%s: an empty section for 5 bytes decompressed", name)
		}
	}
}
