package main

import (
	"bytes"
	"encoding/json/v2"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The fan-out's clients are read by a few epoll loops rather than a
// goroutine, a bufio.Reader and a decoded payload each: the generator
// shares the server's 2 cores, and at 25,000 deliveries/s that way cost
// it 0.4 cores (15 to 25 µs a delivery), which the server then did not
// have. A loop reads every ready socket with one large read, takes the
// SSE frames out of it (undoing HTTP/1.1's chunked encoding, which plain
// PocketBase's net/http path uses; Hearth's hijacked one sends none) and
// checks each delivery as before: the record's body and group, a member
// receiving it once, the latency from the create's start.
//
// A loop never sleeps in epoll_wait: it asks without waiting and, when no
// socket is ready, sleeps pollEvery in Go. On this machine (a virtual
// machine, where a context switch is costly), with a blocking epoll_wait
// perf put 19 % of the generator's own samples in context switches: its
// epoll_wait's and those of the Go runtime's sysmon, which a blocking
// system call keeps awake; polling, the generator took 7 to 10 µs of CPU
// a delivery at 50 msg/s into groups of 500 where blocking took 12
// (docs/benchmarks.md, fourth pass). The cost to the measure: a message
// may be stamped a sleep late (pollEvery, more on a loaded machine), so
// latencies are overstated by that, never understated.

// readLoops is the number of epoll loops: one per core of the machine
// the benchmarks run on.
const readLoops = 2

// readBuf is one loop's read buffer: a socket's whole backlog in one read.
const readBuf = 256 << 10

// pollEvery is how long a loop sleeps when no socket was ready.
const pollEvery = time.Millisecond

// sseConn is one client's stream as a read loop sees it.
type sseConn struct {
	fd   int
	user int

	chunked bool
	state   chunkState
	left    uint64 // bytes left of the chunk's data, or of the CRLF after it
	line    []byte // a chunk size line read in part
	events  []byte // SSE bytes not yet ending an event
	ended   bool   // the last chunk, or the peer closed
}

type chunkState int

const (
	chunkSize chunkState = iota // reading "<hex size>[;ext]\r\n"
	chunkData                   // left bytes of data
	chunkCRLF                   // left bytes of the "\r\n" after the data
)

var errStreamEnded = errors.New("the event stream ended")

// feed takes p, bytes read from the socket, and calls event with the
// name and data of every event p completes, in order. event must not keep
// its arguments, which point into c's buffer.
func (c *sseConn) feed(p []byte, event func(name, data []byte)) error {
	if !c.chunked {
		c.events = append(c.events, p...)
	}
	for c.chunked && len(p) > 0 {
		switch c.state {
		case chunkSize:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				c.line = append(c.line, p...)
				p = nil
				continue
			}
			c.line = append(c.line, p[:i]...)
			p = p[i+1:]
			size := bytes.TrimSpace(c.line)
			if j := bytes.IndexByte(size, ';'); j >= 0 {
				size = size[:j]
			}
			n, err := strconv.ParseUint(string(size), 16, 63)
			if err != nil {
				return fmt.Errorf("chunk size %q: %w", c.line, err)
			}
			c.line = c.line[:0]
			if n == 0 {
				c.ended = true
				p = nil
				continue
			}
			c.state, c.left = chunkData, n
		case chunkData:
			k := min(c.left, uint64(len(p)))
			c.events = append(c.events, p[:k]...)
			p, c.left = p[k:], c.left-k
			if c.left == 0 {
				c.state, c.left = chunkCRLF, 2
			}
		case chunkCRLF:
			k := min(c.left, uint64(len(p)))
			p, c.left = p[k:], c.left-k
			if c.left == 0 {
				c.state = chunkSize
			}
		}
	}
	done := 0
	for {
		i := bytes.Index(c.events[done:], []byte("\n\n"))
		if i < 0 {
			break
		}
		name, data := eventFields(c.events[done : done+i])
		event(name, data)
		done += i + 2
	}
	c.events = c.events[:copy(c.events, c.events[done:])]
	if c.ended {
		return errStreamEnded
	}
	return nil
}

// eventFields returns an event's "event:" and "data:" values (the data
// of one line: PocketBase writes each payload on one).
func eventFields(ev []byte) (name, data []byte) {
	for len(ev) > 0 {
		line := ev
		if i := bytes.IndexByte(ev, '\n'); i >= 0 {
			line, ev = ev[:i], ev[i+1:]
		} else {
			ev = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("event:")); ok {
			name = v
		} else if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = v
		}
	}
	return name, data
}

// readers are the epoll loops and the clients they read.
type readers struct {
	epfd    [readLoops]int
	conns   []atomic.Pointer[sseConn] // by user, which each epoll event carries
	closing atomic.Bool
	wg      sync.WaitGroup
}

func newReaders(clients int, deliver func(user int, data []byte, arrived time.Time)) (*readers, error) {
	r := &readers{conns: make([]atomic.Pointer[sseConn], clients)}
	for i := range r.epfd {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("epoll: %w", err)
		}
		r.epfd[i] = fd
		r.wg.Add(1)
		go r.loop(fd, deliver)
	}
	return r, nil
}

// add hands c's socket to a loop (level-triggered: what arrived before is
// reported at once).
func (r *readers) add(c *sseConn) error {
	r.conns[c.user].Store(c)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.user)}
	return syscall.EpollCtl(r.epfd[c.user%readLoops], syscall.EPOLL_CTL_ADD, c.fd, &ev)
}

func (r *readers) loop(epfd int, deliver func(user int, data []byte, arrived time.Time)) {
	defer r.wg.Done()
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, readBuf)
	for !r.closing.Load() {
		n, err := epollPoll(epfd, events)
		if err != nil {
			return
		}
		if n == 0 {
			time.Sleep(pollEvery)
			continue
		}
		for _, ev := range events[:n] {
			c := r.conns[ev.Fd].Load()
			m, err := readNow(c.fd, buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			arrived := time.Now()
			if m > 0 {
				err = c.feed(buf[:m], func(_, data []byte) { deliver(c.user, data, arrived) })
			}
			if m == 0 || err != nil {
				// The server closed it (or it failed): its later messages
				// are counted lost.
				_ = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
			}
		}
	}
}

// epollPoll returns the ready events of epfd without waiting. Neither it
// nor readNow can block (a zero timeout, a non-blocking socket), so both
// are raw system calls: the Go runtime's bookkeeping around a call that
// may block (and the sysmon thread it keeps awake) is not needed.
func epollPoll(epfd int, events []syscall.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e == syscall.EINTR {
		return 0, nil
	}
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// readNow reads what fd holds into buf without waiting.
func readNow(fd int, buf []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// close stops the loops, then closes every socket.
func (r *readers) close() {
	r.closing.Store(true)
	r.wg.Wait()
	for i := range r.conns {
		if c := r.conns[i].Load(); c != nil {
			_ = syscall.Close(c.fd)
		}
	}
	for _, fd := range r.epfd {
		_ = syscall.Close(fd)
	}
}

// dialSSE opens user's event stream at base: the request, the response
// head and PB_CONNECT on a blocking socket, and returns the stream ready
// for a read loop with the client id to subscribe.
func dialSSE(base string, user int) (*sseConn, string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, "", err
	}
	nc, err := net.DialTimeout("tcp", u.Host, 30*time.Second)
	if err != nil {
		return nil, "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(nc, "GET /api/realtime HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", u.Host); err != nil {
		return nil, "", err
	}
	var head []byte
	buf := make([]byte, 4096)
	end := -1
	for end < 0 {
		n, err := nc.Read(buf)
		if err != nil {
			return nil, "", fmt.Errorf("response head: %w", err)
		}
		head = append(head, buf[:n]...)
		end = bytes.Index(head, []byte("\r\n\r\n"))
	}
	status, headers, _ := bytes.Cut(head[:end], []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return nil, "", fmt.Errorf("status %q", status)
	}
	c := &sseConn{user: user, chunked: bytes.Contains(bytes.ToLower(headers), []byte("transfer-encoding: chunked"))}
	var id string
	hello := func(name, data []byte) {
		var v struct {
			ClientID string `json:"clientId"`
		}
		if string(name) == "PB_CONNECT" && json.Unmarshal(data, &v) == nil {
			id = v.ClientID
		}
	}
	rest := head[end+4:]
	for {
		if err := c.feed(rest, hello); err != nil {
			return nil, "", err
		}
		if id != "" {
			break
		}
		n, err := nc.Read(buf)
		if err != nil {
			return nil, "", fmt.Errorf("PB_CONNECT: %w", err)
		}
		rest = buf[:n]
	}
	// The loops read a duplicate of the descriptor: closing nc takes it
	// out of Go's poller, and the duplicate keeps the socket open and
	// shares its non-blocking mode.
	raw, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, "", err
	}
	var dupErr error
	if err := raw.Control(func(fd uintptr) { c.fd, dupErr = syscall.Dup(int(fd)) }); err != nil || dupErr != nil {
		return nil, "", errors.Join(err, dupErr)
	}
	return c, id, nil
}
