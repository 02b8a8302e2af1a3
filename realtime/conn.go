package realtime

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// conn is one SSE connection served by Hearth: its PocketBase client (the
// store holding its auth, and the channel PocketBase's own broadcast sends
// on when the client also subscribes to unscoped collections) and how
// Hearth's deliveries reach it. A hijacked connection (wire.go) is written
// by the goroutine that delivers, without waiting on the peer; otherwise
// they wait in a bounded queue drained by the connection's own handler
// goroutine, so that no other goroutine ever waits on it.
type conn struct {
	client subscriptions.Client
	end    func()        // closes the connection from the server's side, once
	notify chan struct{} // cap 1: "the queue has messages"
	limit  int
	wire   *wire  // the hijacked socket; nil on net/http's path
	slow   func() // counts a client dropped for falling behind its limit

	mu     sync.Mutex
	queue  []subscriptions.Message
	closed bool

	// Guarded by hub.mu.
	user      string // the indexed member ("" when none)
	superuser bool
	topics    []topic
	owner     string    // whose caps the conn counts against ("" before its first subscription)
	count     int       // its topics, both paths, for the owner's topic cap
	since     uint64    // when it last subscribed, in hub.subscribed: the oldest is evicted first
	inBroker  bool      // also registered in PocketBase's broker
	bare      time.Time // since when it holds no topic (zero while it holds some): Config.BareTimeout
	gone      bool      // unregistered: a late subscription must not index it
}

// newConn returns a connection on net/http's path: ending it cancels its
// request, and a write its handler is blocked in fails at once.
func newConn(client subscriptions.Client, cancel context.CancelFunc, rc *http.ResponseController, limit int) *conn {
	return &conn{client: client, notify: make(chan struct{}, 1), limit: limit, end: func() {
		cancel()
		_ = rc.SetWriteDeadline(time.Now())
	}}
}

// enqueue sends msgs in order: a hijacked connection writes them now
// (wire.go), any other queues them and wakes its handler. A client with
// more than its limit of messages waiting is disconnected instead, so
// that no one ever waits for it (and counted, by drop). It reports
// whether msgs were queued (or written).
func (c *conn) enqueue(msgs []subscriptions.Message) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if c.wire != nil {
		return c.wire.send(c, msgs)
	}
	if len(c.queue)+len(msgs) > c.limit {
		c.mu.Unlock()
		c.drop(c.slow)
		return false
	}
	c.queue = append(c.queue, msgs...)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued messages and empties the queue.
func (c *conn) take() []subscriptions.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs := c.queue
	c.queue = nil
	return msgs
}

// drop closes the connection from the server's side (c.end). The app's
// SDK reconnects and resubscribes, and the app catches up with GET
// /api/sync. It reports whether this call closed it. It must not be called
// under hub.mu: a hijacked connection unregisters itself here. count, when
// not nil, runs once the connection is marked closed and before it ends,
// so that a client which sees its stream end finds the drop counted.
func (c *conn) drop(count func()) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	if count != nil {
		count()
	}
	c.end()
	return true
}

// close marks the connection gone: later deliveries are dropped.
func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
}
