package pqwrite

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
	"github.com/pierrec/lz4/v4"

	"github.com/dormousedb/dormouse/storage/datafile/internal/libzstd"
)

// compressor compresses pages with a file's codec: zstd by libzstd
// (see package libzstd for why), the others by the libraries and
// settings of arrow-go's compress package. zstd frames carry no checksum
// (Parquet readers do not ask for one).
type compressor struct {
	codec compress.Compression
	// level is zstd's level; up, if not 0, a higher level some pages are
	// compressed at (Options.CompressionLevelUp, chunk.plan).
	level, up int
	lz4       *lz4.Compressor
}

func newCompressor(codec compress.Compression, level, up int) (*compressor, error) {
	c := &compressor{codec: codec}
	switch codec {
	case compress.Codecs.Uncompressed, compress.Codecs.Snappy:
	case compress.Codecs.Zstd:
		c.level = level
		if level == 0 {
			c.level = DefaultZstdLevel
		}
		if up != 0 && up <= c.level {
			return nil, fmt.Errorf("pqwrite: zstd level up %d is not above level %d", up, c.level)
		}
		c.up = up
	case compress.Codecs.Lz4Raw:
		c.lz4 = new(lz4.Compressor)
	default:
		return nil, fmt.Errorf("pqwrite: unsupported codec %s", codec)
	}
	return c, nil
}

// compress returns src compressed, appended to dst[:0] (src itself
// without a codec).
func (c *compressor) compress(dst, src []byte) []byte {
	switch c.codec {
	case compress.Codecs.Zstd:
		return libzstd.Compress(dst, src, c.level)
	case compress.Codecs.Snappy:
		n := snappy.MaxEncodedLen(len(src))
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		return snappy.Encode(dst[:n], src)
	case compress.Codecs.Lz4Raw:
		n := lz4.CompressBlockBound(len(src))
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		// With room for the bound, compression cannot fail.
		k, err := c.lz4.CompressBlock(src, dst[:n])
		if err != nil {
			panic(fmt.Sprintf("pqwrite: lz4 with room for its bound: %v", err))
		}
		return dst[:k]
	}
	return src
}

// compressUp is compress at the higher zstd level; only with one.
func (c *compressor) compressUp(dst, src []byte) []byte { return libzstd.Compress(dst, src, c.up) }

// canStore says the codec has a stored form: store may stand for
// compress.
func (c *compressor) canStore() bool { return c.codec == compress.Codecs.Zstd }

// store returns src appended to dst[:0] as a zstd frame of raw blocks,
// which any zstd decoder reads back: what the encoder makes of bytes it
// cannot compress, without the search for matches that finds nothing
// (bit-packed deltas of random integers, for one, where that search is
// a tenth of a compaction's time). Only for zstd (canStore).
func (c *compressor) store(dst, src []byte) []byte {
	const (
		magic = 0xFD2FB528
		// Frame header descriptor: a four-byte content size, a single
		// segment (so no window descriptor), no checksum, no dictionary.
		descriptor = 2<<6 | 1<<5
		maxBlock   = 128 << 10 // a block's largest size
	)
	dst = binary.LittleEndian.AppendUint32(dst[:0], magic)
	dst = append(dst, descriptor)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	for start := 0; ; start += maxBlock {
		n := min(len(src)-start, maxBlock)
		last := uint32(0)
		if start+n == len(src) {
			last = 1
		}
		// Block header: last-block bit, type 0 (raw), size.
		h := uint32(n)<<3 | last
		dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
		dst = append(dst, src[start:start+n]...)
		if last == 1 {
			return dst
		}
	}
}
