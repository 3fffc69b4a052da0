package sql

import "time"

// SetClock makes e time transactions' writes by now.
func SetClock(e *Engine, now func() time.Time) { e.now = now }
