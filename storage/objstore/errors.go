package objstore

import "errors"

var (
	// ErrNotFound is returned when an object does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrExists is returned by PutIfAbsent when the key is taken.
	ErrExists = errors.New("object already exists")
)
