package datafile

import (
	"testing"
	"unsafe"
)

// TestPoolAllocator checks the pool's contract, that of Go's allocator:
// zeroed, 64-byte aligned memory of the size asked for, whether the
// buffer is new or reused, and Reallocate keeping the bytes it had.
func TestPoolAllocator(t *testing.T) {
	p := newPoolAllocator()
	aligned := func(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%poolAlign == 0 }
	zero := func(b []byte) bool {
		for _, x := range b {
			if x != 0 {
				return false
			}
		}
		return true
	}
	for _, size := range []int{1, 100, 16<<10 - 1, 16 << 10, 20000, 32 << 10, 32<<10 + 1, 48 << 10, 100000,
		1 << 20, 1<<20 + 1, 3 << 19, 3<<19 + 1} {
		// Dirty buffers of every size go back to the pool; what comes out
		// again must be clean, reused or not.
		for round := range 3 {
			b := p.Allocate(size)
			if len(b) != size {
				t.Fatalf("Allocate(%d) gave %d bytes", size, len(b))
			}
			if !aligned(b) {
				t.Errorf("Allocate(%d) is not %d-byte aligned", size, poolAlign)
			}
			if !zero(b) {
				t.Fatalf("Allocate(%d), round %d: not zeroed", size, round)
			}
			if c := poolClass(size); c >= 0 && cap(b) != classSize(c) {
				t.Errorf("Allocate(%d): capacity %d, want its class's %d", size, cap(b), classSize(c))
			}
			for i := range b[:cap(b)] {
				b[:cap(b)][i] = 0xA5
			}
			p.Free(b)
		}
	}

	// Reallocate: growing within the capacity clears what lies past the old
	// length; growing past it copies.
	b := p.Allocate(40 << 10)
	for i := range b {
		b[i] = byte(i)
	}
	b = p.Reallocate(30<<10, b) // shrink
	for i := range b[:cap(b)] {
		b[:cap(b)][i] = 7
	}
	b = p.Reallocate(50<<10, b) // grow within the 64 KiB class
	if len(b) != 50<<10 || b[0] != 7 || b[30<<10-1] != 7 || !zero(b[30<<10:]) {
		t.Errorf("grow within capacity: kept or cleared the wrong bytes")
	}
	b = p.Reallocate(200<<10, b) // grow past it
	if len(b) != 200<<10 || b[0] != 7 || b[30<<10-1] != 7 || !zero(b[30<<10:]) {
		t.Errorf("grow past capacity: kept or cleared the wrong bytes")
	}
	p.Free(b)
	p.Free(nil) // ignored, as Go's allocator's small buffers are
}

// TestPoolClasses checks the size classes: each size is served by the
// smallest class that holds it, wasting less than a third of the buffer,
// and a buffer's capacity names its class again for Free.
func TestPoolClasses(t *testing.T) {
	if poolClass(16<<10-1) != -1 || poolClass(1<<poolMaxShift+1) != -1 {
		t.Errorf("sizes outside the pool got classes")
	}
	for i := 2 * poolMinShift; i <= 2*poolMaxShift; i++ {
		n := classSize(i)
		if capClass(n) != i {
			t.Errorf("class %d: buffers of %d bytes are pooled in class %d", i, n, capClass(n))
		}
		for _, size := range []int{n - 1, n, n + 1} {
			c := poolClass(size)
			if c < 0 {
				if size <= 1<<poolMaxShift {
					t.Errorf("size %d has no class", size)
				}
				continue
			}
			got := classSize(c)
			if got < size || (c > 2*poolMinShift && classSize(c-1) >= size) {
				t.Errorf("size %d got class %d of %d bytes, not the smallest that holds it", size, c, got)
			}
			if c > 2*poolMinShift && 3*(got-size) >= got {
				t.Errorf("size %d wastes %d of its class's %d bytes", size, got-size, got)
			}
		}
	}
	for _, n := range []int{1 << 14, 3 << 13, 5 << 16, 1<<20 + 64, 3 << 30} {
		if capClass(n) != -1 {
			t.Errorf("capacity %d is pooled in class %d", n, capClass(n))
		}
	}
}
