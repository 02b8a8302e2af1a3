//go:build unix

package realtime

import (
	"errors"
	"syscall"
)

// rawSockets says the platform lets Hearth write to and probe a socket
// without waiting (wire.go).
const rawSockets = true

// rawWrite writes what the socket takes of b now, without waiting for
// room: the callback returns true, so the runtime never parks on it.
func rawWrite(raw syscall.RawConn, b []byte) (int, error) {
	if raw == nil || len(b) == 0 {
		return 0, nil
	}
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if e == syscall.EINTR {
				continue
			}
			if e != nil {
				if e != syscall.EAGAIN {
					werr = e
				}
				break
			}
			n += m
		}
		return true
	})
	return n, errors.Join(err, werr)
}

// peerGone reports whether the peer closed the socket (a read of zero
// bytes) or it failed, reading what is there into buf without waiting.
// An SSE client sends nothing after its request; what it might send is
// dropped.
func peerGone(raw syscall.RawConn, buf []byte) bool {
	if raw == nil {
		return false
	}
	gone := false
	err := raw.Read(func(fd uintptr) bool {
		n, e := syscall.Read(int(fd), buf)
		gone = n == 0 && e == nil || e != nil && e != syscall.EAGAIN && e != syscall.EINTR
		return true
	})
	return gone || err != nil
}
