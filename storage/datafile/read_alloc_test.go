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
	for _, size := range []int{1, 100, 16<<10 - 1, 16 << 10, 20000, 32 << 10, 32<<10 + 1, 100000, 1 << 20} {
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
			if c := poolClass(size); c >= 0 && cap(b) != 1<<c {
				t.Errorf("Allocate(%d): capacity %d, want its class's %d", size, cap(b), 1<<c)
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
