package pqwrite

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// TestStoreZstdFrames checks that store's frames of raw blocks are zstd
// that a decoder reads back as the input, across the 128 KiB block
// limit.
func TestStoreZstdFrames(t *testing.T) {
	c, err := newCompressor(compress.Codecs.Zstd, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	if !c.canStore() {
		t.Fatal("zstd cannot store")
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	const block = 128 << 10
	for _, n := range []int{0, 1, 255, 256, 65791, 65792, block - 1, block, block + 1, 2 * block, 3*block + 7} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		frame := c.store([]byte("scratch"), src)
		if want := 9 + 3*max(1, (n+block-1)/block) + n; len(frame) != want {
			t.Errorf("%d bytes: frame of %d bytes, want %d", n, len(frame), want)
		}
		got, err := dec.DecodeAll(frame, nil)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: decoded %d bytes, not the input", n, len(got))
		}
	}
	for _, codec := range []compress.Compression{compress.Codecs.Uncompressed, compress.Codecs.Snappy, compress.Codecs.Lz4Raw} {
		c, err := newCompressor(codec, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.canStore() {
			t.Errorf("%s says it can store zstd frames", codec)
		}
	}
}
