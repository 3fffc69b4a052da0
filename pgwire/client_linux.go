package pgwire

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// clientGone reports whether the peer of nc has closed its end or the
// connection failed, without reading what it sent: poll for POLLRDHUP,
// as PostgreSQL's client_connection_check_interval does, which reports a
// closed end even behind unread messages.
func clientGone(nc net.Conn) bool {
	rc, ok := rawConn(nc)
	if !ok {
		return false
	}
	gone := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		n, err := unix.Poll(fds, 0)
		gone = err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
	})
	return gone
}

// rawConn returns nc's RawConn, if it has a descriptor.
func rawConn(nc net.Conn) (syscall.RawConn, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}
