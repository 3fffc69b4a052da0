package local

import (
	"encoding/binary"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Watching a directory with inotify lets a reader learn, without looking
// up a key, that nothing was added to it: the kernel queues an event for
// every entry created, renamed in or removed, before the call that did it
// returns, whichever process on this machine made it. A reader that
// drains the queue and finds nothing new for a directory knows that every
// change finished before it looked was seen by an earlier look. Readers
// of a transaction log use this to skip asking for the log's next entry
// (txlog), which every statement otherwise does, once for the catalog and
// once per table.
//
// Only file systems whose changes all pass through this machine's kernel
// qualify: a network file system changed from another machine queues no
// event here, so there Watch declines and readers keep asking.

// watchMask is what changes a directory's entries.
const watchMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// localFS are the file systems (statfs magic numbers) whose every change
// is made by this machine's kernel.
var localFS = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:      true, // also ext2 and ext3
	unix.XFS_SUPER_MAGIC:       true,
	unix.BTRFS_SUPER_MAGIC:     true,
	unix.TMPFS_MAGIC:           true,
	unix.OVERLAYFS_SUPER_MAGIC: true,
	unix.F2FS_SUPER_MAGIC:      true,
	0x2fc12fc1:                 true, // ZFS
}

// watcher is a Store's inotify instance, made on first use.
type watcher struct {
	mu     sync.Mutex
	fd     int // -1 once broken: every Watch function then answers 0
	byWD   map[int32]*dirWatch
	byPath map[string]*dirWatch
	gen    uint64 // the last generation handed out
	buf    []byte
	// drained is when the last drain that emptied the queue began: every
	// change that finished before it had been seen once it returned.
	drained time.Time
}

// dirWatch is one watched directory.
type dirWatch struct {
	path string
	wd   int32  // -1 while not watched (the directory is missing)
	gen  uint64 // changes with every event of the directory
}

// Watch returns a function that reports the generation of the objects
// directly under prefix (a key prefix ending in "/", such as a log's
// "tables/<id>/log/"): a number that changes whenever an object is
// created, replaced or removed there, by any process on this machine, or
// 0 when the store cannot tell (the directory does not exist yet, or the
// kernel dropped events), when the caller must look for itself. A caller
// that read the objects after seeing generation g, and later sees g
// again, knows that nothing changed there since it saw g. ok is false
// when the store cannot watch at all (see localFS).
//
// A caller that needs only the changes finished before a time since (the
// start of its statement: objstore.FreshSince) is answered without asking
// the kernel when a look that began at or after since has already been
// made, by any caller; the zero since asks the kernel every time.
func (s *Store) Watch(prefix string) (gen func(since time.Time) uint64, ok bool) {
	if prefix == "" || !strings.HasSuffix(prefix, "/") || checkKey(strings.TrimSuffix(prefix, "/")) != nil {
		return nil, false
	}
	w := s.watcher()
	if w == nil {
		return nil, false
	}
	path := s.root + "/" + strings.TrimSuffix(prefix, "/")
	if s.root == "/" {
		path = "/" + strings.TrimSuffix(prefix, "/")
	}
	w.mu.Lock()
	d := w.byPath[path]
	if d == nil {
		d = &dirWatch{path: path, wd: -1}
		w.byPath[path] = d
	}
	w.mu.Unlock()
	return func(since time.Time) uint64 { return w.generation(d, since) }, true
}

// watcher returns the store's inotify instance, or nil if it has none.
func (s *Store) watcher() *watcher {
	s.watchOnce.Do(func() {
		var st unix.Statfs_t
		if err := unix.Statfs(s.root, &st); err != nil || !localFS[int64(st.Type)] {
			return
		}
		fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
		if err != nil {
			return // e.g. the per-user limit of instances: readers just look
		}
		s.watch = &watcher{fd: fd, byWD: map[int32]*dirWatch{}, byPath: map[string]*dirWatch{}}
		// A Store has no Close: the instance goes with the Store.
		runtime.AddCleanup(s, func(fd int) { unix.Close(fd) }, fd)
	})
	return s.watch
}

// generation drains the events queued so far, unless a drain that began
// at or after since already has, and returns d's generation, watching d
// first if it is not watched yet (the generation it then gets is new, so
// a caller looks once more).
func (w *watcher) generation(d *dirWatch, since time.Time) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		return 0
	}
	if d.wd >= 0 && !since.IsZero() && !w.drained.IsZero() && !w.drained.Before(since) {
		return d.gen
	}
	start := time.Now()
	if err := w.drain(); err != nil {
		unix.Close(w.fd)
		w.fd = -1
		return 0
	}
	if start.After(w.drained) {
		w.drained = start
	}
	if d.wd < 0 {
		wd, err := unix.InotifyAddWatch(w.fd, d.path, watchMask)
		if err != nil {
			return 0 // missing (not yet made) or out of watches: look
		}
		if old := w.byWD[int32(wd)]; old != nil && old != d {
			// The same directory under another path: share nothing, keep
			// both looking.
			return 0
		}
		d.wd = int32(wd)
		w.byWD[d.wd] = d
		d.gen = w.next()
	}
	return d.gen
}

func (w *watcher) next() uint64 {
	w.gen++
	return w.gen
}

// drain reads every queued event and moves the generation of each
// directory that had one. w.mu must be held.
func (w *watcher) drain() error {
	for {
		n, err := unix.IoctlGetInt(w.fd, unix.TIOCINQ) // FIONREAD
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if cap(w.buf) < n {
			w.buf = make([]byte, max(n, 4096))
		}
		m, err := unix.Read(w.fd, w.buf[:cap(w.buf)])
		if err == unix.EAGAIN {
			return nil
		}
		if err != nil {
			return err
		}
		w.events(w.buf[:m])
	}
}

// events applies a buffer of inotify events.
func (w *watcher) events(b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:]))
		mask := binary.NativeEndian.Uint32(b[4:])
		nameLen := int(binary.NativeEndian.Uint32(b[12:]))
		b = b[min(len(b), unix.SizeofInotifyEvent+nameLen):]
		if mask&unix.IN_Q_OVERFLOW != 0 {
			// Events were lost: every directory may have changed.
			for _, d := range w.byWD {
				d.gen = w.next()
			}
			continue
		}
		d := w.byWD[wd]
		if d == nil {
			continue
		}
		d.gen = w.next()
		if mask&(unix.IN_IGNORED|unix.IN_MOVE_SELF) != 0 {
			// The directory went, or moved away from its path: watch its
			// path again when there is a directory there.
			if mask&unix.IN_MOVE_SELF != 0 {
				unix.InotifyRmWatch(w.fd, uint32(wd))
			}
			delete(w.byWD, wd)
			d.wd = -1
		}
	}
}
