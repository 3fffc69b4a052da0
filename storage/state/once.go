package state

import "slices"

// OnceHistoryLen bounds the Once keys a state remembers (AddFiles.Once).
// A bulk import job's retry comes a lease after its first attempt, so the
// key it looks for is among the last few hundred, far inside the bound.
const OnceHistoryLen = 10000

// once records key (none when empty), or returns ErrDuplicate when the
// state has seen it. The slice is shared by every clone, so it is copied,
// never appended to in place: one copy per keyed commit, not per clone.
func (s *State) once(key string) error {
	if key == "" {
		return nil
	}
	if slices.Contains(s.onces, key) {
		return ErrDuplicate
	}
	drop := max(len(s.onces)+1-OnceHistoryLen, 0)
	keys := make([]string, 0, len(s.onces)-drop+1)
	keys = append(keys, s.onces[drop:]...)
	s.onces = append(keys, key)
	return nil
}

// Committed reports whether an AddFiles with this Once key has been
// applied (among the last OnceHistoryLen), so that a worker that takes
// over a job whose first worker died can tell that its rows are in.
func (s *State) Committed(once string) bool { return once != "" && slices.Contains(s.onces, once) }
