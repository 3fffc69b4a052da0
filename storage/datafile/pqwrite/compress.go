package pqwrite

import (
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// compressor compresses pages with a file's codec, by the same libraries
// and settings as arrow-go's compress package: its files are the bytes
// arrow-go would write.
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
			// arrow-go's settings (compress.zstdCodec.EncodeLevel).
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(level),
				zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true))
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
