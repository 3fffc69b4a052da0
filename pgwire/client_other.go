//go:build !linux

package pgwire

import "net"

// clientGone cannot tell without Linux's POLLRDHUP: elsewhere a statement
// whose client went away runs until it next writes to the client.
func clientGone(nc net.Conn) bool { return false }
