package datafile

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/datasketches-go/kll"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// SketchK is the KLL accuracy parameter of every sketch: k = 200 gives a
// normalised rank error of about 1.65%, so the median found for a split is
// within about 2% of the true middle, whatever the number of rows.
const SketchK = 200

// Sketch is a KLL quantile sketch of the plain key encodings
// (schema.AppendValue) of one row key column. A data file has one per row
// key column, stored in its sidecar object; the splitter merges the
// sketches of a partition's files and takes their median.
//
// A Sketch is not safe for concurrent use.
type Sketch struct {
	kll *kll.ItemsSketch[string]
}

// lessString orders encodings as bytes.Compare does: Go compares strings
// byte by byte, so any bytes, not only UTF-8, are in order.
func lessString(a, b string) bool { return a < b }

// NewSketch returns an empty sketch.
func NewSketch() *Sketch {
	s, err := kll.NewKllItemsSketch[string](SketchK, 8, lessString, sketchSerde{})
	if err != nil {
		panic(fmt.Sprintf("datafile: new KLL sketch: %v", err)) // constant arguments
	}
	return &Sketch{kll: s}
}

// Update adds one plain key encoding to the sketch. It copies enc.
func (s *Sketch) Update(enc []byte) { s.kll.Update(string(enc)) }

// update adds an encoding already held as a string; the sketch keeps it.
func (s *Sketch) update(enc string) { s.kll.Update(enc) }

// N is the number of values the sketch has seen.
func (s *Sketch) N() uint64 { return s.kll.GetN() }

// Quantile returns the plain key encoding at the given normalised rank in
// [0, 1]: 0.5 is the median; 0 and 1 give the exact least and greatest
// values. It returns ErrEmptySketch if N is 0. The
// caller owns the returned slice.
func (s *Sketch) Quantile(rank float64) ([]byte, error) {
	if s.kll.IsEmpty() {
		return nil, ErrEmptySketch
	}
	var q string
	var err error
	switch rank {
	case 0: // KLL keeps the exact extremes; its rank 0 and 1 may miss them
		q, err = s.kll.GetMinItem()
	case 1:
		q, err = s.kll.GetMaxItem()
	default:
		q, err = s.kll.GetQuantile(rank, true)
	}
	if err != nil {
		return nil, fmt.Errorf("sketch quantile %g: %w", rank, err)
	}
	return []byte(q), nil
}

// Rank returns the estimated fraction of the values seen that lie strictly
// below enc, in [0, 1]: 0 for enc at or below the least value, 1 above the
// greatest. Rank(b) - Rank(a) estimates the share of values in [a, b), the
// half-open ranges partitions use. The error is that of Quantile (about
// 1.65% of N). It returns ErrEmptySketch if N is 0.
func (s *Sketch) Rank(enc []byte) (float64, error) {
	if s.kll.IsEmpty() {
		return 0, ErrEmptySketch
	}
	r, err := s.kll.GetRank(string(enc), false)
	if err != nil {
		return 0, fmt.Errorf("sketch rank: %w", err)
	}
	return r, nil
}

// Merge adds every value other has seen to s. other is unchanged.
func (s *Sketch) Merge(other *Sketch) { s.kll.Merge(other.kll) }

// MarshalBinary encodes the sketch in the DataSketches KLL compact format,
// with items stored as a 4-byte little-endian length and the bytes.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	b, err := s.kll.ToSlice()
	if err != nil {
		return nil, fmt.Errorf("encode sketch: %w", err)
	}
	return b, nil
}

// UnmarshalBinary replaces s with the sketch MarshalBinary encoded.
func (s *Sketch) UnmarshalBinary(data []byte) error {
	k, err := decodeKLL(data)
	if err != nil {
		return err
	}
	s.kll = k
	return nil
}

func decodeKLL(data []byte) (k *kll.ItemsSketch[string], err error) {
	// The library indexes the preamble before it checks lengths; turn a
	// panic on a short or corrupt object into an error.
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("%w: %v", ErrBadSketch, r)
		}
	}()
	k, err = kll.NewKllItemsSketchFromSlice[string](data, lessString, sketchSerde{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSketch, err)
	}
	return k, nil
}

// SketchKey is the key of the sketch object beside the data file dataKey:
// "t/f.parquet" has its sketches in "t/f.sketch".
func SketchKey(dataKey string) string {
	return strings.TrimSuffix(dataKey, ".parquet") + ".sketch"
}

// The sketch object holds one sketch per row key column:
//
//	"DMSK" version(1) count(uvarint) { length(uvarint) sketch }...
const (
	sketchMagic   = "DMSK"
	sketchVersion = 1
)

func encodeSketches(sk []*Sketch) ([]byte, error) {
	out := append([]byte(sketchMagic), sketchVersion)
	out = binary.AppendUvarint(out, uint64(len(sk)))
	for i, s := range sk {
		b, err := s.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("sketch of row key %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

func decodeSketches(data []byte) ([]*Sketch, error) {
	if len(data) < len(sketchMagic)+1 || string(data[:len(sketchMagic)]) != sketchMagic {
		return nil, fmt.Errorf("%w: no sketch header", ErrBadSketch)
	}
	if v := data[len(sketchMagic)]; v != sketchVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadSketch, v, sketchVersion)
	}
	data = data[len(sketchMagic)+1:]
	n, w := binary.Uvarint(data)
	if w <= 0 || n > uint64(len(data)) {
		return nil, fmt.Errorf("%w: bad sketch count", ErrBadSketch)
	}
	data = data[w:]
	out := make([]*Sketch, 0, n)
	for i := uint64(0); i < n; i++ {
		l, w := binary.Uvarint(data)
		if w <= 0 || l > uint64(len(data)-w) {
			return nil, fmt.Errorf("%w: sketch %d is cut short", ErrBadSketch, i)
		}
		s := &Sketch{}
		if err := s.UnmarshalBinary(data[w : w+int(l)]); err != nil {
			return nil, fmt.Errorf("sketch %d: %w", i, err)
		}
		out = append(out, s)
		data = data[w+int(l):]
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last sketch", ErrBadSketch, len(data))
	}
	return out, nil
}

// ReadSketches reads the sketch object sketchKey (Info.SketchKey): one
// sketch per row key column, in schema order.
func ReadSketches(ctx context.Context, store objstore.Store, sketchKey string) ([]*Sketch, error) {
	data, err := store.Get(ctx, sketchKey)
	if err != nil {
		return nil, fmt.Errorf("read sketches %s: %w", sketchKey, err)
	}
	sk, err := decodeSketches(data)
	if err != nil {
		return nil, fmt.Errorf("read sketches %s: %w", sketchKey, err)
	}
	return sk, nil
}

// sketchSerde stores each item as a 4-byte little-endian length and its
// bytes, the layout of the DataSketches string serde, but writes empty
// strings too (the library's writes nothing for them, which would corrupt a
// sketch holding an empty VARCHAR key) and decodes a run of items into one
// allocation.
type sketchSerde struct{}

func (sketchSerde) SizeOf(item string) int { return 4 + len(item) }

func (sketchSerde) SizeOfMany(mem []byte, offset, numItems int) (int, error) {
	start := offset
	for i := 0; i < numItems; i++ {
		if offset < 0 || offset+4 > len(mem) {
			return 0, fmt.Errorf("%w: item %d is cut short", ErrBadSketch, i)
		}
		l := int(binary.LittleEndian.Uint32(mem[offset:]))
		offset += 4
		if l > len(mem)-offset {
			return 0, fmt.Errorf("%w: item %d is cut short", ErrBadSketch, i)
		}
		offset += l
	}
	return offset - start, nil
}

func (sketchSerde) SerializeOneToSlice(item string) []byte {
	return appendItem(make([]byte, 0, 4+len(item)), item)
}

func (sketchSerde) SerializeManyToSlice(items []string) []byte {
	n := 0
	for _, it := range items {
		n += 4 + len(it)
	}
	out := make([]byte, 0, n)
	for _, it := range items {
		out = appendItem(out, it)
	}
	return out
}

func appendItem(dst []byte, item string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(item)))
	return append(dst, item...)
}

func (s sketchSerde) DeserializeManyFromSlice(mem []byte, offset, numItems int) ([]string, error) {
	size, err := s.SizeOfMany(mem, offset, numItems)
	if err != nil {
		return nil, err
	}
	all := string(mem[offset : offset+size]) // one copy; items are substrings
	out := make([]string, numItems)
	p := 0
	for i := range out {
		l := int(binary.LittleEndian.Uint32(mem[offset+p:]))
		out[i] = all[p+4 : p+4+l]
		p += 4 + l
	}
	return out, nil
}
