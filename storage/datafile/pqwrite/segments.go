package pqwrite

import "sync"

// segments holds a column chunk's pages until its row group is written:
// a byte sequence in pieces that are never copied as it grows, taken
// from pools and given back when the row group is out. One growing slice
// copied each page about twice and faulted in fresh memory for every
// file: a tenth of the Writer's CPU.
type segments struct {
	segs [][]byte
	n    int
}

// Segments grow from 64 KiB to 1 MiB, so that a small file's chunks hold
// little and a large one's are few pieces.
const (
	minSegmentShift = 16
	maxSegmentShift = 20
)

var segmentPools [maxSegmentShift - minSegmentShift + 1]sync.Pool

func getSegment(class int) []byte {
	if p, ok := segmentPools[class].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<(minSegmentShift+class))
}

func (s *segments) len() int { return s.n }

// append appends p.
func (s *segments) append(p []byte) {
	s.n += len(p)
	for len(p) > 0 {
		last := len(s.segs) - 1
		if last < 0 || len(s.segs[last]) == cap(s.segs[last]) {
			s.segs = append(s.segs, getSegment(min(len(s.segs), maxSegmentShift-minSegmentShift)))
			last++
		}
		seg := s.segs[last]
		k := min(len(p), cap(seg)-len(seg))
		s.segs[last] = append(seg, p[:k]...)
		p = p[k:]
	}
}

// writeTo hands the bytes to write, piece by piece.
func (s *segments) writeTo(write func([]byte) error) error {
	for _, seg := range s.segs {
		if err := write(seg); err != nil {
			return err
		}
	}
	return nil
}

// release gives the pieces back to the pools and empties s.
func (s *segments) release() {
	for i, seg := range s.segs {
		class := min(i, maxSegmentShift-minSegmentShift)
		if cap(seg) == 1<<(minSegmentShift+class) {
			seg = seg[:0]
			segmentPools[class].Put(&seg)
		}
		s.segs[i] = nil
	}
	s.segs, s.n = s.segs[:0], 0
}
