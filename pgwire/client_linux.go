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
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
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
