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

// rawWriter writes to a hijacked socket what it takes now, without
// waiting for room: the callback returns true, so the runtime never parks
// on it. Its callback is made once, with the connection (init): one made
// for each write escaped to the heap with what it captured (RawConn.Write
// takes it), 3.6 of the 17 allocations per delivery into groups of 500
// (the heap profile of docs/benchmarks.md, fourth pass). Writes are
// serialized by the conn's mu.
type rawWriter struct {
	call func(fd uintptr) bool
	b    []byte // being written by call
	n    int    // of b written
	err  error  // the write's error but EAGAIN
}

func (w *rawWriter) init() { w.call = w.attempt }

// write writes what raw's socket takes of b now.
func (w *rawWriter) write(raw syscall.RawConn, b []byte) (int, error) {
	if raw == nil || len(b) == 0 {
		return 0, nil
	}
	w.b, w.n, w.err = b, 0, nil
	err := raw.Write(w.call)
	n, werr := w.n, w.err
	w.b, w.err = nil, nil // b is the conn's buffer, not the writer's
	return n, errors.Join(err, werr)
}

func (w *rawWriter) attempt(fd uintptr) bool {
	for w.n < len(w.b) {
		m, e := writeNow(fd, w.b[w.n:])
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			if e != syscall.EAGAIN {
				w.err = e
			}
			break
		}
		w.n += m
	}
	return true
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
