//go:build !linux

package local

import "time"

// watcher is Linux's inotify instance (watch_linux.go); elsewhere a Store
// does not watch.
type watcher struct{}

// Watch reports that the store cannot watch: readers look for themselves.
func (s *Store) Watch(prefix string) (gen func(since time.Time) uint64, ok bool) {
	return nil, false
}
