package datafile

// PeakFetchedHeld is the most fetched bytes (page indexes aside) that r
// has held at once: what a read of whole row groups keeps in memory.
func PeakFetchedHeld(r *Reader) int64 { return r.cache.peakHeld() }

// WindowsReadAhead is how many fetch windows r has read ahead.
func WindowsReadAhead(r *Reader) int64 { return r.cache.aheads.Load() }
