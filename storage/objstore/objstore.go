package objstore

import (
	"context"
	"io"
	"time"
)

// Store is an object store: a flat namespace of immutable-by-convention
// objects addressed by slash-separated keys. Keys never start with a slash.
//
// Every method is safe for concurrent use by many goroutines and, for the
// same underlying store, by many processes on many machines.
type Store interface {
	// Put writes the whole object, replacing any existing one.
	Put(ctx context.Context, key string, data []byte) error

	// PutIfAbsent writes the object only if no object with that key exists.
	// It returns ErrExists when another writer got there first. Exactly one
	// of any number of racing PutIfAbsent calls for one key succeeds.
	//
	// An error other than ErrExists is ambiguous: the object may or may not
	// have been written. Callers that must know read the key back.
	PutIfAbsent(ctx context.Context, key string, data []byte) error

	// Get reads the whole object, or returns ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)

	// GetRange reads length bytes starting at offset. A range that runs past
	// the end of the object is cut short; length < 0 means to the end.
	GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error)

	// Open returns a reader of the object's bytes that fetches ranges on
	// demand; the caller closes it. Parquet readers use it.
	Open(ctx context.Context, key string) (Object, error)

	// Stat returns the object's size and modification time, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Info, error)

	// Delete removes the object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error

	// Create starts a streamed upload of a possibly large object (multipart
	// on S3, a temporary file renamed into place on a local disk). Nothing is
	// visible under key until Close returns nil; Abort discards the upload.
	Create(ctx context.Context, key string) (Writer, error)

	// URL names the store, e.g. "file:///data" or "s3://bucket/prefix".
	URL() string
}

// Info describes one object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Object is an open object for random access reads.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Writer streams an object's bytes. Exactly one of Close or Abort must be
// called; after Close returns nil the object is visible in full.
type Writer interface {
	io.Writer
	Close() error
	Abort() error
}
