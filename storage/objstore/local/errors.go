package local

import "errors"

// ErrInvalidKey is returned for a key that cannot name a file under the
// root: empty, absolute, with empty, "." or ".." components, or with a
// component that looks like one of our temporary files.
var ErrInvalidKey = errors.New("invalid object key")
