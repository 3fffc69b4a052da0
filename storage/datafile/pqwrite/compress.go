package pqwrite

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// compressor compresses pages with a file's codec, by the same libraries
// and settings as arrow-go's compress package, except that zstd frames
// carry no checksum (Parquet readers do not ask for one; computing it
// cost a compaction 2% of its time).
type compressor struct {
	codec compress.Compression
	level zstd.EncoderLevel
	zstd  *zstd.Encoder // from zstdPools, returned by release
	lz4   *lz4.Compressor
}

func newCompressor(codec compress.Compression, level int) (*compressor, error) {
	c := &compressor{codec: codec}
	switch codec {
	case compress.Codecs.Uncompressed, compress.Codecs.Snappy:
	case compress.Codecs.Zstd:
		c.level = zstd.SpeedDefault
		if level != 0 {
			c.level = zstd.EncoderLevelFromZstd(level)
		}
		c.zstd = getZstd(c.level)
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
		return c.zstd.EncodeAll(src, dst[:0])
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

// release gives back the zstd encoder.
func (c *compressor) release() {
	if c.zstd != nil {
		putZstd(c.level, c.zstd)
		c.zstd = nil
	}
}

// zstd encoders are pooled by level: one takes hundreds of kilobytes and
// a compaction or an ingest writes many files.
var (
	zstdMu    sync.Mutex
	zstdPools = map[zstd.EncoderLevel]*sync.Pool{}
)

func zstdPool(level zstd.EncoderLevel) *sync.Pool {
	zstdMu.Lock()
	defer zstdMu.Unlock()
	p, ok := zstdPools[level]
	if !ok {
		p = &sync.Pool{New: func() any {
			// arrow-go's settings (compress.zstdCodec.EncodeLevel), without
			// the frame checksum (see compressor).
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(level),
				zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithEncoderCRC(false))
			if err != nil {
				panic(fmt.Sprintf("pqwrite: zstd encoder: %v", err))
			}
			return enc
		}}
		zstdPools[level] = p
	}
	return p
}

func getZstd(level zstd.EncoderLevel) *zstd.Encoder { return zstdPool(level).Get().(*zstd.Encoder) }

func putZstd(level zstd.EncoderLevel, enc *zstd.Encoder) { zstdPool(level).Put(enc) }
