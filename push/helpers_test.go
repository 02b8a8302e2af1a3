package push_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pushApp returns a test app whose pushes go to fake, with fast retries;
// tune changes the push config further.
func pushApp(t testing.TB, fake *fakeExpo, tune func(*push.Config)) *tests.TestApp {
	t.Helper()
	return hearthtest.NewAppWith(t, func(app core.App, cfg crews.Config) {
		cfg.Push = push.Config{
			URL:          fake.URL(),
			AccessToken:  fake.accessToken,
			Client:       &http.Client{Timeout: 5 * time.Second},
			RetryBase:    time.Second,
			RetryCap:     time.Minute,
			ReceiptDelay: 15 * time.Minute,
		}
		if tune != nil {
			tune(&cfg.Push)
		}
		crews.Register(app, cfg)
	})
}

// steppedApp is pushApp on a clock the test moves, for tests that run the
// worker's rounds themselves with push.Flush.
func steppedApp(t testing.TB, fake *fakeExpo, tune func(*push.Config)) (*tests.TestApp, *clock) {
	t.Helper()
	app := pushApp(t, fake, tune)
	clk := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	hearthtest.SetNow(t, app, clk.now)
	return app, clk
}

func flush(t testing.TB, app core.App) {
	t.Helper()
	if err := push.Flush(context.Background(), app); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// addDevice registers a phone for user, as the app would.
func addDevice(t testing.TB, app core.App, user, token string) *core.Record {
	t.Helper()
	return hearthtest.Save(t, app, collections.Devices, "", map[string]any{"user": user, "token": token, "platform": collections.PlatformIOS})
}

func post(t testing.TB, app core.App, group, author, body string) *core.Record {
	t.Helper()
	return hearthtest.Save(t, app, collections.Messages, "", map[string]any{"group": group, "author": author, "body": body})
}

// pushRow is one row of the push table, as the tests read it.
type pushRow struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	User     string `db:"user"`
	Token    string `db:"token"`
	Body     string `db:"body"`
	Count    int    `db:"count"`
	State    string `db:"state"`
	Attempts int    `db:"attempts"`
	Due      int64  `db:"due"`
	NextAt   int64  `db:"next_at"`
	Sent     int64  `db:"sent"`
	Error    string `db:"error"`
}

func pushRows(t testing.TB, app core.App, where dbx.Expression) []pushRow {
	t.Helper()
	var rows []pushRow
	q := app.DB().Select("id", "kind", "user", "token", "body", "count", "state", "attempts", "due", "next_at", "sent", "error").From("_hearth_pushes").OrderBy("id")
	if where != nil {
		q = q.Where(where)
	}
	if err := q.All(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func stats(t testing.TB, app core.App) push.Snapshot {
	t.Helper()
	s, err := push.Stats(app)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deliver runs the worker of an app the test serves (tests build the
// router without a server, so no worker runs by itself) until everything
// due is sent, and checks that nothing is left waiting to go.
func deliver(t testing.TB, app core.App) {
	t.Helper()
	flush(t, app)
	if s := stats(t, app); s.Outbox != 0 {
		t.Fatalf("outbox rows left after a flush: %+v", s)
	}
}
