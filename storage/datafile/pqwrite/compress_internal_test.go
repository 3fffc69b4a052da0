package pqwrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"

	"github.com/dormousedb/dormouse/storage/datafile/internal/libzstd"
)

// TestStoreZstdFrames checks that store's frames of raw blocks are zstd
// that a decoder reads back as the input, across the 128 KiB block
// limit.
func TestStoreZstdFrames(t *testing.T) {
	c, err := newCompressor(compress.Codecs.Zstd, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
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
		c, err := newCompressor(codec, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.canStore() {
			t.Errorf("%s says it can store zstd frames", codec)
		}
	}
}

// TestPlanTransitions feeds a chunk's compressData pages whose best plan
// changes: a trial sets the plan for the next planPages-1 pages, whatever
// they hold; a poor page stores the next ones at once; a new chunk
// carries a level over but not storing; and every page reads back as it
// was.
func TestPlanTransitions(t *testing.T) {
	c := levelUpChunk(t, arrow.PrimitiveTypes.Float64)
	rng := rand.New(rand.NewPCG(3, 4))
	const size = 1 << 20
	doubles, random, text := make([]byte, 0, size), make([]byte, size), make([]byte, 0, size)
	for len(doubles) < size {
		doubles = binary.LittleEndian.AppendUint64(doubles, math.Float64bits(float64(rng.Int64N(1_000_000))/1000))
	}
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for len(text) < size {
		text = fmt.Appendf(text, "dormouse %d ", len(text)%1000)
	}
	type step struct {
		body []byte
		plan pagePlan
		left int
	}
	var steps []step
	steps = append(steps, step{doubles, planUp, planPages - 1}) // a trial: level 2 pays
	for i := 2; i < planPages; i++ {
		steps = append(steps, step{text, planUp, planPages - i}) // the plan holds
	}
	steps = append(steps,
		step{doubles, planUp, 0},
		step{text, planBase, planPages - 1},    // a trial: level 2 does not pay
		step{text, planBase, planPages - 2},    // the plan holds
		step{random, planStore, planPages - 1}, // a poor page
		step{doubles, planStore, planPages - 2},
	)
	c.reset()
	for i, s := range steps {
		comp := c.compressData(s.body)
		if c.plan != s.plan || c.planLeft != s.left {
			t.Fatalf("page %d: plan %d with %d pages left, want %d with %d", i+1, c.plan, c.planLeft, s.plan, s.left)
		}
		got := make([]byte, len(s.body))
		if n, err := libzstd.Decompress(got, comp); err != nil || n != len(s.body) || !bytes.Equal(got, s.body) {
			t.Fatalf("page %d: read back %d bytes, %v", i+1, n, err)
		}
	}
	// A new chunk after stored pages starts with a trial; a level
	// carries over.
	c.reset()
	if c.compressData(doubles); c.plan != planUp || c.planLeft != planPages-1 {
		t.Errorf("after reset from stored pages: plan %d with %d pages left, want a trial's", c.plan, c.planLeft)
	}
	c.reset()
	if c.compressData(text); c.plan != planUp || c.planLeft != planPages-2 {
		t.Errorf("after reset from level up: plan %d with %d pages left, want level up with %d", c.plan, c.planLeft, planPages-2)
	}
}

// TestTrialStoresIncompressible: with a higher level, a trial page
// larger than the sample whose sample compresses poorly is stored at
// once, not compressed (a frame of raw blocks, the plan storing), and
// reads back.
func TestTrialStoresIncompressible(t *testing.T) {
	c := levelUpChunk(t, arrow.PrimitiveTypes.Int64)
	codec := c.codec
	// Random bytes with a 10-byte motif every 500: compression shrinks
	// them, by less than 1/poorGain, so that a stored page and a
	// compressed one differ.
	rng := rand.New(rand.NewPCG(5, 6))
	body := make([]byte, upSample+100_000)
	for i := range body {
		body[i] = byte(rng.Uint32())
		if i%500 < 10 {
			body[i] = "dormouse!!"[i%500]
		}
	}
	if n := len(codec.compress(nil, body)); n >= len(body) || n < len(body)-len(body)/poorGain {
		t.Fatalf("the page compresses to %d of %d bytes: not a poor gain", n, len(body))
	}
	comp := c.compressData(body)
	if want := codec.store(nil, body); !bytes.Equal(comp, want) {
		t.Errorf("a trial page that compresses poorly compressed to %d bytes, not stored (%d)", len(comp), len(want))
	}
	if c.plan != planStore || c.planLeft != planPages-1 {
		t.Errorf("plan %d with %d pages left, want storing with %d", c.plan, c.planLeft, planPages-1)
	}
	got := make([]byte, len(body))
	if n, err := libzstd.Decompress(got, comp); err != nil || n != len(body) || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, %v", n, err)
	}
}

// levelUpChunk is the chunk of a column of type typ in a file written
// with zstd at level 1 and level 2 as its higher level.
func levelUpChunk(t *testing.T, typ arrow.DataType) *chunk {
	t.Helper()
	codec, err := newCompressor(compress.Codecs.Zstd, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Codec: compress.Codecs.Zstd}.withDefaults()
	c, err := newChunk(Column{Name: "x", Type: typ}, &opts, codec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
