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
// on when the client also subscribes to unscoped collections) and the
// bounded queue of Hearth's deliveries, drained by the connection's own
// handler goroutine so that no other goroutine ever waits on it.
type conn struct {
	client subscriptions.Client
	cancel context.CancelFunc
	rc     *http.ResponseController
	notify chan struct{} // cap 1: "the queue has messages"
	limit  int

	mu     sync.Mutex
	queue  []subscriptions.Message
	closed bool

	// Guarded by hub.mu.
	user      string // the indexed member ("" when none)
	superuser bool
	topics    []topic
	owner     string // whose caps the conn counts against ("" before its first subscription)
	count     int    // its topics, both paths, for the owner's topic cap
	since     uint64 // when it last subscribed, in hub.subscribed: the oldest is evicted first
	inBroker  bool   // also registered in PocketBase's broker
	gone      bool   // unregistered: a late subscription must not index it
}

func newConn(client subscriptions.Client, cancel context.CancelFunc, rc *http.ResponseController, limit int) *conn {
	return &conn{client: client, cancel: cancel, rc: rc, notify: make(chan struct{}, 1), limit: limit}
}

// enqueue appends msgs in order and wakes the connection's handler. A
// client whose queue would exceed its limit is disconnected instead: its
// request is cancelled and a write it is blocked in fails at once, so the
// dispatcher never waits for it. It reports whether msgs were queued and
// whether this call dropped the client.
func (c *conn) enqueue(msgs []subscriptions.Message) (queued, dropped bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, false
	}
	if len(c.queue)+len(msgs) > c.limit {
		c.mu.Unlock()
		return false, c.drop()
	}
	c.queue = append(c.queue, msgs...)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return true, false
}

// take returns the queued messages and empties the queue.
func (c *conn) take() []subscriptions.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs := c.queue
	c.queue = nil
	return msgs
}

// drop closes the connection from the server's side: its request is
// cancelled and a write it is blocked in fails at once. The app's SDK
// reconnects and resubscribes, and the app catches up with GET /api/sync.
// It reports whether this call closed it.
func (c *conn) drop() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.cancel()
	// A handler blocked writing to a peer that does not read only
	// returns when the write fails.
	_ = c.rc.SetWriteDeadline(time.Now())
	return true
}

// close marks the connection gone: later deliveries are dropped.
func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
}
