package state

import "errors"

var (
	// ErrDuplicate is returned for a transaction whose id the state has
	// already applied: a retried job's commit. Callers treat it as success.
	ErrDuplicate = errors.New("transaction already applied")
	// ErrInvalid wraps every reason a transaction does not apply.
	ErrInvalid = errors.New("transaction does not apply")
	// ErrJobGone wraps (beside ErrInvalid) the refusal of a job's renewal,
	// release or commit because the job no longer exists or another worker
	// holds it: the worker has lost the job and must drop its work.
	ErrJobGone = errors.New("job no longer held")
)
