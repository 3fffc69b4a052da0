// Package libzstd compresses and decompresses zstd frames with libzstd,
// the reference C library (github.com/DataDog/zstd builds it from its
// sources with the binary).
//
// Why not klauspost/compress, which arrow-go uses: on the pages a
// compaction writes (a DELTA_BYTE_ARRAY key, a PLAIN DOUBLE, short
// strings), libzstd compresses at level 1 in about half the time to the
// same size, and decompresses them a quarter faster. Compression was a
// quarter of a compaction's CPU.
package libzstd

import (
	"fmt"
	"sync"

	dd "github.com/DataDog/zstd"
)

// ctxs pools libzstd's contexts: each holds the tables of its last level
// (a few hundred KiB at the low levels), reused by the next frame. A
// context the pool drops is freed by its finalizer.
var ctxs = sync.Pool{New: func() any { return dd.NewCtx() }}

// Compress returns src compressed at level as one zstd frame (with its
// content size, without a checksum), appended to dst[:0].
func Compress(dst, src []byte, level int) []byte {
	if n := dd.CompressBound(len(src)); cap(dst) < n {
		dst = make([]byte, n)
	}
	c := ctxs.Get().(dd.Ctx)
	out, err := c.CompressLevel(dst[:cap(dst)], src, level)
	ctxs.Put(c)
	if err != nil {
		// With room for the bound, compression fails only when libzstd
		// cannot allocate its tables (it clamps levels to its range).
		panic(fmt.Sprintf("libzstd: compress at level %d: %v", level, err))
	}
	return out
}

// Decompress decompresses the zstd frames of src into dst, which must
// be as long as what they hold, and returns the bytes written. No frame
// at all is no bytes, as klauspost/compress reads it: parquet-java and
// Spark write the values of a DATA_PAGE_V2 of only NULLs as an empty
// "compressed" section (apache/parquet-java#3122).
func Decompress(dst, src []byte) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	if len(dst) == 0 {
		// dd needs a byte to point at; an empty page is an empty frame.
		dst = make([]byte, 1)
	}
	c := ctxs.Get().(dd.Ctx)
	n, err := c.DecompressInto(dst, src)
	ctxs.Put(c)
	if err != nil {
		return 0, fmt.Errorf("zstd: %w", err)
	}
	return n, nil
}
