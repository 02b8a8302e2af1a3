package realtime_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
)

// TestBareConnectionsAreClosed: a connection that holds no topic counts
// against no cap, so it may not stay: one that never subscribes, and one
// whose subscriptions removed its last topic (asking for none again does
// not restart its clock), are closed once bare for the bare timeout, on
// both paths; one that holds a topic stays.
func TestBareConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	for _, hijack := range []bool{true, false} {
		app := hearthtest.NewApp(t)
		realtime.SetHijack(app, hijack)
		realtime.SetSweepEvery(app, 10*time.Millisecond)
		const bare = 300 * time.Millisecond
		realtime.SetBareTimeout(app, bare)
		srv := hearthtest.Serve(t, app)

		kept := openRaw(t, srv, getRealtime)
		if code := subscribeStatus(t, app, srv, kept.id, hearthtest.Alice, "messages"); code != http.StatusNoContent {
			t.Fatalf("subscribe: %d", code)
		}
		never := openRaw(t, srv, getRealtime)
		left := openRaw(t, srv, getRealtime)
		if code := subscribeStatus(t, app, srv, left.id, hearthtest.Bob, "messages"); code != http.StatusNoContent {
			t.Fatalf("subscribe: %d", code)
		}
		if !realtime.BareSince(app, left.id).IsZero() || !realtime.BareSince(app, kept.id).IsZero() {
			t.Fatalf("hijack %v: a connection holding a topic counts as bare", hijack)
		}
		if code := subscribeStatus(t, app, srv, left.id, hearthtest.Bob); code != http.StatusNoContent {
			t.Fatalf("unsubscribe: %d", code)
		}
		emptied := realtime.BareSince(app, left.id)
		if code := subscribeStatus(t, app, srv, left.id, hearthtest.Bob); code != http.StatusNoContent {
			t.Fatalf("unsubscribe again: %d", code)
		}
		if emptied.IsZero() || !realtime.BareSince(app, left.id).Equal(emptied) {
			t.Fatalf("hijack %v: bare since %v after its topics went, %v after asking for none again; want the first, unchanged", hijack, emptied, realtime.BareSince(app, left.id))
		}

		for name, s := range map[string]*rawStream{"never subscribed": never, "unsubscribed from everything": left} {
			_ = s.nc.SetReadDeadline(time.Now().Add(waitFor))
			if _, err := io.Copy(io.Discard, s.body); err != nil {
				t.Errorf("hijack %v: %s: the stream did not end: %v", hijack, name, err)
			}
			if realtime.Connected(app, s.id) {
				t.Errorf("hijack %v: %s: still registered after the server closed it", hijack, name)
			}
		}
		if !realtime.Connected(app, kept.id) {
			t.Errorf("hijack %v: a connection holding a topic was closed", hijack)
		}
	}
}
