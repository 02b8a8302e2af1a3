//go:build unix

package realtime

import (
	"errors"
	"syscall"
	"unsafe"
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
			m, e := writeNow(fd, b[n:])
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
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

// writeNow is write(2) on a non-blocking socket, which returns at once
// (EAGAIN when it is full), as a raw system call: without the runtime's
// notice of a call that may block. With that notice (syscall.Write), a
// write that takes longer than 20 µs (on loopback the kernel's TCP work
// for sender and receiver, 13 to 17 µs on average into groups of 500)
// has the runtime's sysmon hand the worker's processor to another thread,
// and the worker take one back after: perf stat counted 0.34 to 0.41
// context switches of the server per delivery that way, 0.13 to 0.22
// with the raw call (docs/benchmarks.md, fourth pass). b is not empty.
func writeNow(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
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
