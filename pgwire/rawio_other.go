//go:build !linux

package pgwire

import (
	"io"
	"net"
)

// rawIO has no raw path outside Linux (rawio_linux.go).
type rawIO struct{ io.ReadWriter }

// newRawIO returns nil: the connection is read and written as it is.
func newRawIO(nc net.Conn) *rawIO { return nil }
