package realtime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// skipActivityLogKey is the request store key of PocketBase's
// SkipSuccessActivityLog middleware (apis/middlewares.go), which its own
// realtime route binds: an SSE connection is not logged as a request.
const skipActivityLogKey = "__skipSuccessActivityLogger"

// connect serves GET /api/realtime as PocketBase's realtimeConnect does
// (same headers, PB_CONNECT message, idle and maximum lifetimes, hooks),
// with the client registered in Hearth's registry and Hearth's queue
// drained alongside the client's channel.
func (h *hub) connect(e *core.RequestEvent) error {
	e.Set(skipActivityLogKey, true)
	rc := http.NewResponseController(e.Response)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return e.InternalServerError("Failed to initialize SSE connection.", err)
	}
	ctx, cancel := context.WithCancel(e.Request.Context())
	defer cancel()
	// PocketBase clones the request here; a shallow copy with the new
	// context serves as well (nothing else holds the original) and keeps
	// no second copy of the headers and URL for the connection's lifetime
	// (about 1.4 KB a client in the heap profile of 10,000 idle clients).
	e.Request = e.Request.WithContext(ctx)

	setStreamHeaders(e.Response.Header())

	connectEvent := new(core.RealtimeConnectRequestEvent)
	connectEvent.RequestEvent = e
	connectEvent.IdleTimeout = 5 * time.Minute
	connectEvent.MaxTimeout = 30 * time.Minute
	connectEvent.Client = subscriptions.NewDefaultClient()
	connectEvent.Client.Set(apis.RealtimeClientIPKey, e.RealIP())

	return e.App.OnRealtimeConnectRequest().Trigger(connectEvent, func(ce *core.RealtimeConnectRequestEvent) error {
		connected := &subscriptions.Message{Name: "PB_CONNECT", Data: []byte(`{"clientId":"` + ce.Client.Id() + `"}`)}
		if h.canHijack(ce.RequestEvent) {
			// The connection leaves net/http (wire.go): its head and
			// PB_CONNECT go out in one write, and this handler returns.
			if c := h.hijack(ce); c != nil {
				c.enqueue([]subscriptions.Message{*connected})
				return nil
			}
		}
		c := newConn(ce.Client, cancel, rc, h.cfg.ClientBuffer)
		c.slow = h.metrics.dropped.Inc
		h.register(c)
		defer h.unregister(c)

		// One frame buffer per connection, reused for every message it
		// writes: it holds the largest message written so far.
		w := &sseWriter{id: ce.Client.Id(), sent: h.metrics.messages.Inc}
		if err := w.send(ce, connected); err != nil {
			ce.App.Logger().Debug("Realtime connection closed (failed to deliver PB_CONNECT)", slog.String("clientId", ce.Client.Id()), slog.String("error", err.Error()))
			return nil
		}

		maxTimer := time.NewTimer(ce.MaxTimeout)
		defer maxTimer.Stop()
		idleTimer := time.NewTimer(ce.IdleTimeout)
		defer idleTimer.Stop()
		bareTimeout := h.bareTimeout()
		bareTimer := time.NewTimer(bareTimeout)
		defer bareTimer.Stop()

		for {
			select {
			case <-maxTimer.C:
				cancel()
			case <-idleTimer.C:
				cancel()
			case now := <-bareTimer.C:
				if bare := h.bareFor(c, now); bare >= bareTimeout {
					cancel()
				} else {
					bareTimer.Reset(bareTimeout - bare)
				}
			case msg, ok := <-ce.Client.Channel():
				if !ok {
					return nil
				}
				if err := w.send(ce, &msg); err != nil {
					return nil
				}
				idleTimer.Reset(ce.IdleTimeout)
			case <-c.notify:
				// What queued up since the last write goes out in one
				// flush: a client of a busy group gets one write per
				// wake-up, not one per message.
				msgs := c.take()
				for i := range msgs {
					if err := w.write(ce, &msgs[i]); err != nil {
						return nil
					}
				}
				if err := ce.Flush(); err != nil {
					return nil
				}
				idleTimer.Reset(ce.IdleTimeout)
			case <-ce.Request.Context().Done():
				return nil
			}
		}
	})
}

// setStreamHeaders sets the headers PocketBase's realtimeConnect sets on
// an event stream.
func setStreamHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
}

// head serves HEAD /api/realtime: the status and headers a connection's
// response starts with, no body, and the response ends. A HEAD asks what
// a GET would answer, not for a connection, so no client is made, no
// connect hook runs and nothing is held; the net/http connection stays
// free for the client's next request. (Without this, the router hands a
// HEAD to PocketBase's realtimeConnect, which puts a client in its
// broker, walked by every broadcast, and holds the request until the
// client leaves.)
func (h *hub) head(e *core.RequestEvent) error {
	setStreamHeaders(e.Response.Header())
	e.Response.WriteHeader(http.StatusOK)
	return nil
}

// sseWriter writes one connection's messages as PocketBase's
// Message.WriteSSE does, each message with one Write of a frame built in
// a buffer the connection reuses, where WriteSSE builds five slices and
// writes each through the response's wrappers: in the profile of groups
// of 500 that was about a tenth of the server's CPU.
// TestFrameMatchesWriteSSE holds the bytes to WriteSSE's.
//
// With no OnRealtimeMessageSend handler bound (Hearth binds none; a JS or
// Go hook of the deployment would be one) the frame is written without a
// hook event: building the event and running the hook chain around the
// write was a tenth of the server's CPU per delivery in the profile of
// groups of 500. TestMessageSendHookOnHijackedConnection and
// TestMessageSendHookCountsOnce hold both ways to the same bytes and count.
type sseWriter struct {
	id    string // the client's id, each message's event id
	frame []byte
	sent  func() // counts a message written (hearth_realtime_messages_total)
}

// send writes one message through the OnRealtimeMessageSend hooks and
// flushes it.
func (w *sseWriter) send(ce *core.RealtimeConnectRequestEvent, msg *subscriptions.Message) error {
	if err := w.write(ce, msg); err != nil {
		return err
	}
	return ce.Flush()
}

// write writes one message through the OnRealtimeMessageSend hooks, into
// the response's buffer.
func (w *sseWriter) write(ce *core.RealtimeConnectRequestEvent, msg *subscriptions.Message) error {
	var err error
	if hooks := ce.App.OnRealtimeMessageSend(); hooks.Length() == 0 {
		err = w.writeFrame(ce.Response, msg)
	} else {
		me := new(core.RealtimeMessageEvent)
		me.RequestEvent = ce.RequestEvent
		me.Client = ce.Client
		me.Message = msg
		err = hooks.Trigger(me, func(me *core.RealtimeMessageEvent) error {
			return w.writeFrame(me.Response, me.Message)
		})
	}
	if err == nil {
		w.sent()
	}
	return err
}

// writeFrame writes msg's frame, built in the writer's buffer, to out.
func (w *sseWriter) writeFrame(out io.Writer, msg *subscriptions.Message) error {
	w.frame = appendFrame(w.frame[:0], w.id, msg)
	_, err := out.Write(w.frame)
	return err
}

// appendFrame appends msg's SSE frame, the bytes WriteSSE writes.
func appendFrame(b []byte, id string, msg *subscriptions.Message) []byte {
	b = append(b, "id:"...)
	b = append(b, id...)
	b = append(b, "\nevent:"...)
	b = append(b, msg.Name...)
	b = append(b, "\ndata:"...)
	b = append(b, msg.Data...)
	return append(b, "\n\n"...)
}

func (h *hub) register(c *conn) {
	h.clients.Register(c.client)
	h.mu.Lock()
	h.conns[c.client.Id()] = c
	c.bare = time.Now()
	h.mu.Unlock()
}

// bareTimeout is the configured BareTimeout.
func (h *hub) bareTimeout() time.Duration {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cfg.BareTimeout
}

// bareFor returns how long c has held no topic at now (0 while it holds
// some).
func (h *hub) bareFor(c *conn, now time.Time) time.Duration {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if c.bare.IsZero() {
		return 0
	}
	return now.Sub(c.bare)
}

func (h *hub) unregister(c *conn) {
	c.close()
	h.mu.Lock()
	c.gone = true
	h.unindexLocked(c)
	delete(h.conns, c.client.Id())
	inBroker := c.inBroker
	h.mu.Unlock()
	h.clients.Unregister(c.client.Id())
	if inBroker {
		h.app.SubscriptionsBroker().Unregister(c.client.Id())
	}
}

func (h *hub) connOf(id string) *conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conns[id]
}

// stop ends the dispatcher, then the workers, so that nothing reads the
// database after the app closes it.
func (h *hub) stop() {
	h.order.stop()
	h.work.stop()
	h.stopWires()
}
