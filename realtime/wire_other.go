//go:build !unix

package realtime

import "syscall"

// rawSockets is false where syscall's Read and Write do not take a
// socket: every connection takes net/http's path.
const rawSockets = false

type rawWriter struct{}

func (*rawWriter) init() {}

func (*rawWriter) write(syscall.RawConn, []byte) (int, error) { return 0, nil }

func peerGone(syscall.RawConn, []byte) bool { return false }
