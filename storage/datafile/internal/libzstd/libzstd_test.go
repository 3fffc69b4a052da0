package libzstd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestRoundTrip compresses inputs of several sizes and kinds at several
// levels, and checks that libzstd and klauspost/compress (arrow-go's
// decoder, which other Parquet readers stand for) read them back.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for _, n := range []int{0, 1, 100, 64 << 10, 1<<20 + 3} {
		for _, kind := range []string{"random", "text"} {
			src := make([]byte, n)
			for i := range src {
				if kind == "random" {
					src[i] = byte(rng.Uint32())
				} else {
					src[i] = "dormouse "[i%9] + byte(i/4096%3)
				}
			}
			for _, level := range []int{-1, 1, 2, 3, 19} {
				name := fmt.Sprintf("%d %s bytes, level %d", n, kind, level)
				frame := Compress([]byte("scratch"), src, level)
				if kind == "text" && n > 100 && len(frame) > n/10 {
					t.Errorf("%s: %d bytes compressed, want at most a tenth", name, len(frame))
				}
				got := make([]byte, n)
				k, err := Decompress(got, frame)
				if err != nil || k != n || !bytes.Equal(got, src) {
					t.Fatalf("%s: libzstd read back %d bytes, %v", name, k, err)
				}
				back, err := dec.DecodeAll(frame, nil)
				if err != nil || !bytes.Equal(back, src) {
					t.Fatalf("%s: klauspost read back %d bytes, %v", name, len(back), err)
				}
			}
		}
	}
}

// TestDecompressErrors: a frame larger than the room given, bytes that
// are not zstd and a frame cut short are errors, not panics or short
// reads; no frame at all is no bytes.
func TestDecompressErrors(t *testing.T) {
	frame := Compress(nil, bytes.Repeat([]byte("abc"), 1000), 1)
	cases := map[string]struct {
		dst, src []byte
	}{
		"room short by one": {make([]byte, 2999), frame},
		"no room":           {nil, frame},
		"not zstd":          {make([]byte, 10), []byte("not a zstd frame")},
		"frame cut short":   {make([]byte, 3000), frame[:len(frame)-2]},
	}
	for name, c := range cases {
		if n, err := Decompress(c.dst, c.src); err == nil {
			t.Errorf("%s: %d bytes, no error", name, n)
		}
	}
	if n, err := Decompress(make([]byte, 10), nil); n != 0 || err != nil {
		t.Errorf("no frame: %d bytes, %v; want 0 and no error", n, err)
	}
}
