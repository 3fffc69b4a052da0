package datafile

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Why a pooled allocator on the read path.
//
// Decoding a row group allocates large buffers and drops them a moment
// later: the page reader's compressed and uncompressed page buffers, the
// record reader's definition levels and values, the fetched byte ranges.
// From Go's allocator each of them is fresh memory that the runtime zeroes
// and the garbage collector then has to notice is garbage; a full scan
// allocates several times the size of the columns it reads, the live heap
// is small, so the collector runs dozens of times per query and, with the
// scavenger returning pages to the OS and faulting them back, took about
// 40% of a narrow scan's CPU. A buffer handed back through Free is reused
// instead, warm in cache.
//
// Size classes are the powers of two from 32 KiB (poolMinShift) up and
// the sizes halfway between them (48 KiB, 96 KiB, …, 1.5 MiB, …): a
// buffer serves any request of its class, so the few sizes a scan asks for
// (a page, a row group's levels or values) reuse each other's buffers,
// and a request just over a power of two (a 1 MiB page with its header
// and levels) wastes a third of its buffer at most, not half.
// Requests under 16 KiB go to Go's allocator, where they are cheap. The pools are sync.Pools, so idle
// buffers go back to the collector after two garbage collections, and a
// Free from any goroutine is fine.
//
// Like memory.GoAllocator, Allocate returns zeroed memory, 64-byte aligned
// (Arrow's alignment): a reused buffer is cleared, which costs far less
// than a fresh one, whose pages the kernel must fault in.
//
// A buffer is reused as soon as it is freed, so a pooled buffer must not
// be read after the last Release of the Arrow buffer that holds it — the
// rule every Arrow allocator but Go's own enforces. The Reader's own
// buffers never leave it. Of the batches it returns, only the fixed-width
// columns come from the pool (see WithAllocator): callers copy numbers out,
// but keep strings that point into a VARCHAR column's buffer
// (array.String.Value) after releasing it, which only Go's allocator makes
// safe.

const (
	poolMinShift = 15 // the smallest class, 32 KiB
	poolMaxShift = 30 // 1 GiB: above, no reuse is worth the memory kept
	poolAlign    = 64
)

// PooledAllocator is the memory.Allocator of a Reader's own buffers and,
// when no WithAllocator is given, of the fixed-width columns of the
// batches it returns. Whoever reads those must follow Arrow's rule: no
// value is read from an array after its last Release.
var PooledAllocator memory.Allocator = readPool

var readPool = newPoolAllocator()

type poolAllocator struct {
	classes [2*poolMaxShift + 1]sync.Pool // each holds *pooledBuf; see poolClass
	// boxes recycles the small structs that carry a buffer into a pool,
	// so that Free allocates nothing.
	boxes sync.Pool
}

// pooledBuf carries a buffer of its class's full size into a pool.
type pooledBuf struct{ buf []byte }

func newPoolAllocator() *poolAllocator {
	p := &poolAllocator{}
	p.boxes.New = func() any { return new(pooledBuf) }
	return p
}

// poolClass is the size class that serves size bytes, or -1 if none
// does. Class 2c holds buffers of 1<<c bytes, class 2c+1 of 3<<(c-1),
// halfway to the next power of two (classSize).
func poolClass(size int) int {
	if size < 1<<(poolMinShift-1) {
		return -1
	}
	c := max(bits.Len(uint(size-1)), poolMinShift) // 1<<c is the power of two that serves it
	if c > poolMaxShift {
		return -1
	}
	if c > poolMinShift && size <= 3<<(c-2) {
		return 2*(c-1) + 1
	}
	return 2 * c
}

// classSize is the size of the buffers of class i.
func classSize(i int) int {
	if i%2 == 0 {
		return 1 << (i / 2)
	}
	return 3 << (i/2 - 1)
}

// capClass is the class whose buffers have capacity n, or -1.
func capClass(n int) int {
	switch {
	case n < 1<<poolMinShift || n > 1<<poolMaxShift:
		return -1
	case n&(n-1) == 0:
		return 2 * (bits.Len(uint(n)) - 1)
	case n%3 == 0 && (n/3)&(n/3-1) == 0:
		return 2*bits.Len(uint(n/3)) + 1 // 3<<(c-1) with c = bits.Len(n/3)
	}
	return -1
}

func (p *poolAllocator) Allocate(size int) []byte {
	b := p.allocate(size)
	clear(b)
	return b
}

// allocate is Allocate without clearing a reused buffer, for callers that
// overwrite it whole.
func (p *poolAllocator) allocate(size int) []byte {
	c := poolClass(size)
	if c < 0 {
		return memory.DefaultAllocator.Allocate(size)
	}
	if v := p.classes[c].Get(); v != nil {
		box := v.(*pooledBuf)
		b := box.buf[:size]
		box.buf = nil
		p.boxes.Put(box)
		return b
	}
	// A large object (over 32 KiB) has a span of its own, so it starts on
	// a page boundary: aligned. Should that ever not hold, Go's allocator
	// aligns one (which Free pools only if its capacity is a class's size,
	// and then it serves that class as well).
	b := make([]byte, classSize(c))
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%poolAlign != 0 {
		return memory.DefaultAllocator.Allocate(size)
	}
	return b[:size]
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:]) // bytes past the old length may be stale
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free pools b if its capacity is a class's size. The buffers of Go's
// allocator that Allocate hands out are smaller than any class, or larger,
// or aligned: any of them of a class's size serves that class.
func (p *poolAllocator) Free(b []byte) {
	c := capClass(cap(b))
	if c < 0 {
		return
	}
	box := p.boxes.Get().(*pooledBuf)
	box.buf = b[:0:cap(b)]
	p.classes[c].Put(box)
}
