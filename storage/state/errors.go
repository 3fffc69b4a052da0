package state

import "errors"

var (
	// ErrDuplicate is returned for a transaction whose id the state has
	// already applied: a retried job's commit. Callers treat it as success.
	ErrDuplicate = errors.New("transaction already applied")
	// ErrInvalid wraps every reason a transaction does not apply.
	ErrInvalid = errors.New("transaction does not apply")
)
