package hearthtest

import (
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// clockKey stores a test app's clock in its app store.
const clockKey = "hearthtest.clock"

// clock is a test app's domain clock: the real time until a test sets
// another. Each app has its own, so tests that move time run in parallel.
type clock struct {
	mu sync.Mutex
	f  func() time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	f := c.f
	c.mu.Unlock()
	if f == nil {
		return time.Now()
	}
	return f()
}

// SetNow makes f the clock of app's time-based rules (message edit window,
// invite expiry, waitlist order) from now on. app must come from NewApp or
// Factory.
func SetNow(t testing.TB, app core.App, f func() time.Time) {
	t.Helper()
	c, ok := app.Store().Get(clockKey).(*clock)
	if !ok {
		t.Fatal("hearthtest: SetNow: the app was not made by hearthtest")
	}
	c.mu.Lock()
	c.f = f
	c.mu.Unlock()
}
