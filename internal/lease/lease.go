// Package lease holds what every worker that claims work from a log with a
// lease needs — compaction workers and exporter workers alike: a default
// worker name, the set of items a process's slots are busy with, and the
// loop that keeps a lease renewed while the work runs.
package lease

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

// WorkerName is a name for a worker unique enough across machines and
// processes: host, process id and a random suffix.
func WorkerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
}

// Busy is the items a process's slots are claiming or running, so that
// they do not race each other for one item. The zero value is ready.
type Busy[K comparable] struct {
	mu    sync.Mutex
	items map[K]bool
}

// Add marks k busy and reports whether it was free.
func (b *Busy[K]) Add(k K) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.items[k] {
		return false
	}
	if b.items == nil {
		b.items = map[K]bool{}
	}
	b.items[k] = true
	return true
}

// Remove marks k free.
func (b *Busy[K]) Remove(k K) {
	b.mu.Lock()
	delete(b.items, k)
	b.mu.Unlock()
}

// Keeper renews a held lease while work runs.
type Keeper struct {
	// Every is how often to renew; Lease how long a renewal holds.
	Every, Lease time.Duration
	// Renew commits one renewal.
	Renew func(ctx context.Context) error
	// Refused reports whether a renewal error means the lease is lost
	// (another worker holds the item, or it is gone).
	Refused func(error) bool
	// Lost wraps a refusal into the cause the run is cancelled with;
	// Expired is the cause when the lease runs out before a renewal gets
	// through.
	Lost    func(error) error
	Expired error
	// Log hears of renewals that failed for other reasons (they are
	// retried at the next tick); What names the item in its lines.
	Log  *slog.Logger
	What string
}

// Keep renews until ctx ends. deadline is when the lease held now runs
// out, by the local clock. When a renewal is refused, or the lease runs out
// before one gets through, it cancels the run with the cause.
func (k Keeper) Keep(ctx context.Context, cancel context.CancelCauseFunc, deadline time.Time) {
	expire := time.AfterFunc(time.Until(deadline), func() { cancel(k.Expired) })
	defer expire.Stop()
	tick := time.NewTicker(k.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		err := k.Renew(ctx)
		switch {
		case err == nil:
			expire.Reset(time.Until(start.Add(k.Lease)))
		case k.Refused(err):
			cancel(k.Lost(err))
			return
		case ctx.Err() != nil:
			return
		default:
			k.Log.Warn("renew "+k.What+" lease", "error", err)
		}
	}
}
