package realtime

import (
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// An SSE connection over HTTP/1.1 without TLS leaves net/http once it is
// accepted (the connect hooks have run): Hearth hijacks the socket,
// writes the status line and the headers the response holds (those set
// here and by every middleware, CORS's included) itself, with no chunked
// encoding and "Connection: close" (the body ends when the socket
// closes, as an event stream does), and the handler returns. The
// connection then costs no goroutine and none of net/http's buffers: in
// the heap profile of 10,000 idle clients those were two goroutines per
// connection (its server goroutine, whose stack the router's middleware
// chain had grown, and its background reader) and about 9 KB of buffers,
// most of the 59 to 65 KB a client cost.
//
// The workers that judge a change write its frames to the socket
// themselves, each write an attempt that never waits (rawWriter): a
// connection whose socket buffer is full keeps the rest and gets a
// goroutine of its own that writes it out (drain), until it has caught
// up; messages sent meanwhile are appended after it, so order holds. The
// client's limit (Config.ClientBuffer) bounds the messages waiting, past
// which it is disconnected as on net/http's path.
//
// No goroutine reads the socket: every sweepEvery the sweeper asks each
// socket, without waiting, whether the peer closed it (peerGone), and
// ends the connections idle or open for longer than the connect event's
// IdleTimeout and MaxTimeout, as PocketBase's handler does. A failed
// write ends a connection at once.
//
// HTTP/2, TLS served by Hearth itself, platforms without raw socket
// access, and a response that cannot be hijacked take net/http's path
// (connect.go), with the same bytes on the wire inside the framing.

// defaultSweepEvery is how often hijacked sockets are checked for a peer
// that closed and for their timeouts. A closed peer's subscriptions are
// freed within it; a sweep of 10,000 connections costs one non-blocking
// read each.
const defaultSweepEvery = 5 * time.Second

// wire is a hijacked connection's socket and what waits to be written to
// it; the fields after ce are guarded by the conn's mu.
type wire struct {
	nc      net.Conn
	raw     syscall.RawConn // nil when the socket offers none: every write is drain's
	rw      rawWriter       // the attempts that never wait, on raw
	ce      *core.RealtimeConnectRequestEvent
	sse     sseWriter
	started time.Time

	out      []byte    // written by nobody yet
	queued   int       // messages in out
	inflight int       // messages drain is writing
	draining bool      // drain runs: only it writes
	spare    []byte    // drain's buffer when it is not writing
	sent     time.Time // the last message written, for the idle timeout
}

// wireResponse is the connect event's response once the socket is
// hijacked: what the OnRealtimeMessageSend hooks write (the frame
// included) is appended to what the connection sends next.
type wireResponse struct {
	w      *wire
	header http.Header
}

func (r *wireResponse) Header() http.Header { return r.header }
func (r *wireResponse) WriteHeader(int)     {}
func (r *wireResponse) Flush()              {}
func (r *wireResponse) Write(b []byte) (int, error) {
	r.w.out = append(r.w.out, b...)
	return len(b), nil
}

// canHijack reports whether e's connection may leave net/http.
func (h *hub) canHijack(e *core.RequestEvent) bool {
	h.mu.RLock()
	off := h.noHijack
	h.mu.RUnlock()
	return rawSockets && !off && e.Request.ProtoMajor == 1 && e.Request.TLS == nil
}

// hijack takes ce's connection out of net/http and registers it. It
// returns nil when the response cannot be hijacked (nothing is written
// then, and net/http's path serves it).
func (h *hub) hijack(ce *core.RealtimeConnectRequestEvent) *conn {
	// The response's own header map: net/http no longer reads it once the
	// socket is hijacked, and a copy would cost each client 1.2 KB (the
	// heap profile of 10,000 idle clients).
	header := ce.Response.Header()
	nc, _, err := http.NewResponseController(ce.Response).Hijack()
	if err != nil {
		return nil
	}
	// The server set no deadline on an SSE connection (connect clears
	// the write deadline), and the peer sends nothing more: what its
	// buffered reader holds is dropped with it.
	_ = nc.SetDeadline(time.Time{})
	w := &wire{nc: nc, ce: ce, sse: sseWriter{id: ce.Client.Id(), sent: h.metrics.messages.Inc}, started: time.Now()}
	w.sent = w.started
	w.rw.init()
	if sc, ok := nc.(syscall.Conn); ok {
		w.raw, _ = sc.SyscallConn()
	}
	ce.Response = &wireResponse{w: w, header: header}
	w.out = appendHead(w.out, header, w.started)

	c := &conn{client: ce.Client, limit: h.cfg.ClientBuffer, wire: w, slow: h.metrics.dropped.Inc}
	// Unregistered before the socket closes, so that a client which sees
	// the end is no longer counted.
	c.end = func() {
		h.unregister(c)
		_ = nc.Close()
	}
	h.register(c)
	h.startSweeper()
	return c
}

// appendHead appends the response head net/http would send for header,
// without its chunked encoding.
func appendHead(b []byte, header http.Header, now time.Time) []byte {
	b = append(b, "HTTP/1.1 200 OK\r\n"...)
	header.Set("Date", now.UTC().Format(http.TimeFormat))
	header.Set("Connection", "close")
	bw := &appendWriter{b}
	_ = header.Write(bw)
	return append(bw.b, "\r\n"...)
}

type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) { a.b = append(a.b, p...); return len(p), nil }

// send writes msgs through the OnRealtimeMessageSend hooks, as one write
// of their frames after what is waiting, if nothing is; it is called with
// c.mu held and releases it. It reports as enqueue does.
func (w *wire) send(c *conn, msgs []subscriptions.Message) bool {
	if w.queued+w.inflight+len(msgs) > c.limit {
		c.mu.Unlock()
		c.drop(c.slow)
		return false
	}
	for i := range msgs {
		if err := w.sse.write(w.ce, &msgs[i]); err != nil {
			// A hook refused the message: PocketBase's handler returns,
			// which ends the connection.
			c.mu.Unlock()
			c.drop(nil)
			return false
		}
	}
	w.queued += len(msgs)
	if w.draining {
		c.mu.Unlock()
		return true
	}
	n, err := w.rw.write(w.raw, w.out)
	if err != nil {
		c.mu.Unlock()
		c.drop(nil)
		return false
	}
	if n == len(w.out) {
		w.out, w.queued, w.sent = w.out[:0], 0, time.Now()
		c.mu.Unlock()
		return true
	}
	// The socket took part of it (or nothing): the rest is written by a
	// goroutine of the connection's own, which may wait.
	w.out = w.out[:copy(w.out, w.out[n:])]
	w.draining = true
	c.mu.Unlock()
	go w.drain(c)
	return true
}

// drain writes what waits until nothing does, then ends; a write that
// fails (the peer left, or drop closed the socket) ends the connection.
func (w *wire) drain(c *conn) {
	for {
		c.mu.Lock()
		if c.closed || len(w.out) == 0 {
			w.draining, w.inflight = false, 0
			// Neither buffer is kept: both may hold the capacity of a
			// burst the client fell behind in (megabytes), which an
			// idle client would keep for its lifetime. The next send
			// allocates one its own size.
			w.out, w.spare = nil, nil
			c.mu.Unlock()
			return
		}
		buf := w.out
		w.out, w.spare = w.spare[:0], nil
		w.inflight, w.queued = w.queued, 0
		c.mu.Unlock()

		if _, err := w.nc.Write(buf); err != nil {
			c.drop(nil)
			return
		}
		c.mu.Lock()
		w.spare, w.sent = buf[:0], time.Now()
		c.mu.Unlock()
	}
}

// expired reports whether c has been idle or open for longer than its
// connect event allows.
func (w *wire) expired(c *conn, now time.Time) bool {
	c.mu.Lock()
	sent := w.sent
	c.mu.Unlock()
	return now.Sub(sent) >= w.ce.IdleTimeout || now.Sub(w.started) >= w.ce.MaxTimeout
}

// pump sends what PocketBase's broadcast sends the client (its topics of
// unscoped collections) once it is in PocketBase's broker; the channel
// closes when it leaves the broker, at unregister.
func (w *wire) pump(c *conn) {
	for msg := range w.ce.Client.Channel() {
		c.enqueue([]subscriptions.Message{msg})
	}
}

// startSweeper starts the sweep of hijacked connections, once.
func (h *hub) startSweeper() {
	h.sweepOnce.Do(func() {
		h.sweepDone = make(chan struct{})
		go h.sweeper(h.sweepEvery, h.sweepDone)
	})
}

func (h *hub) sweeper(every time.Duration, done chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	var buf [512]byte
	for {
		select {
		case <-h.quit:
			close(done)
			return
		case now := <-t.C:
			bare := h.bareTimeout()
			for _, c := range h.wired() {
				if h.bareFor(c, now) >= bare || c.wire.expired(c, now) || peerGone(c.wire.raw, buf[:]) {
					c.drop(nil)
				}
			}
		}
	}
}

// wired returns the hijacked connections.
func (h *hub) wired() []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		if c.wire != nil {
			out = append(out, c)
		}
	}
	return out
}

// stopWires ends the sweeper and closes every hijacked connection, which
// the HTTP server no longer knows of.
func (h *hub) stopWires() {
	h.quitOnce.Do(func() { close(h.quit) })
	// No sweeper starts after this one, and one that started is seen.
	h.sweepOnce.Do(func() {})
	if h.sweepDone != nil {
		<-h.sweepDone
	}
	for _, c := range h.wired() {
		c.drop(nil)
	}
}

// sweepState is the hub's part of the hijacked path.
type sweepState struct {
	noHijack   bool          // tests: serve every connection on net/http's path (guarded by hub.mu)
	sweepEvery time.Duration // tests shorten it before the first connection
	sweepOnce  sync.Once
	sweepDone  chan struct{}
	quit       chan struct{}
	quitOnce   sync.Once
}
