package push_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/dbx"
)

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ []expoMessage) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
	return true
}

// slow takes d and then answers nothing: a client with a shorter timeout
// has given up by then.
func slow(d time.Duration) func(http.ResponseWriter, []expoMessage) bool {
	return func(http.ResponseWriter, []expoMessage) bool {
		time.Sleep(d)
		return true
	}
}

func retryAfter(seconds int) func(http.ResponseWriter, []expoMessage) bool {
	return func(w http.ResponseWriter, _ []expoMessage) bool {
		w.Header().Set("Retry-After", fmt.Sprint(seconds))
		expoError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Slow down.")
		return true
	}
}

// Transient failures (429, 5xx, a dropped connection, a timeout) send the
// same pushes again after an exponential backoff with jitter, capped;
// nothing is sent before its time, and each push is accepted once.
func TestRetryWithBackoff(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	const base, limit = time.Second, 8 * time.Second
	app, clk := steppedApp(t, fake, func(c *push.Config) {
		c.RetryBase, c.RetryCap, c.MaxAttempts = base, limit, 10
		c.Client = &http.Client{Timeout: 300 * time.Millisecond}
	})
	tokens := []string{"ExponentPushToken[a1]", "ExponentPushToken[a2]", "ExponentPushToken[a3]"}
	for _, tok := range tokens {
		addDevice(t, app, hearthtest.Alice, tok)
	}
	fake.answer(status(http.StatusTooManyRequests), status(http.StatusInternalServerError), hangUp, slow(time.Second), status(http.StatusBadGateway), status(http.StatusServiceUnavailable))
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")

	for attempt := 1; attempt <= 6; attempt++ {
		flush(t, app)
		sends, accepted, _ := fake.snapshot()
		if len(sends) != attempt || len(accepted) != 0 {
			t.Fatalf("attempt %d: %d requests, %d accepted", attempt, len(sends), len(accepted))
		}
		rows := pushRows(t, app, nil)
		step := min(limit, base<<(attempt-1))
		for _, r := range rows {
			wait := time.Duration(r.NextAt-clk.now().UnixMilli()) * time.Millisecond
			if r.State != "pending" || r.Attempts != attempt || wait < step/2 || wait > step {
				t.Fatalf("attempt %d: push %+v waits %s, want pending from %s to %s", attempt, r, wait, step/2, step)
			}
		}
		// Not before its time: a round now sends nothing.
		flush(t, app)
		if sends, _, _ := fake.snapshot(); len(sends) != attempt {
			t.Fatalf("attempt %d: a push went again before its backoff", attempt)
		}
		clk.advance(step)
	}
	flush(t, app)
	for _, tok := range tokens {
		if n := len(fake.acceptedTo(tok)); n != 1 {
			t.Errorf("%s accepted %d times", tok, n)
		}
	}
	for _, r := range pushRows(t, app, nil) {
		if r.State != "accepted" || r.Attempts != 7 {
			t.Errorf("push %+v", r)
		}
	}
	if s := stats(t, app); s.Retried != 18 || s.RequestFailures != 6 || s.Accepted != 3 {
		t.Errorf("stats: %+v", s)
	}
}

// A Retry-After longer than the backoff is honoured; MaxAttempts ends it.
func TestRetryAfterAndGivingUp(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, func(c *push.Config) {
		c.RetryBase, c.RetryCap, c.MaxAttempts = time.Second, time.Minute, 3
	})
	addDevice(t, app, hearthtest.Alice, alicePhone)
	fake.answer(retryAfter(30), status(http.StatusInternalServerError), status(http.StatusInternalServerError))
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")
	flush(t, app)
	r := pushRows(t, app, nil)[0]
	if wait := time.Duration(r.NextAt-clk.now().UnixMilli()) * time.Millisecond; wait != 30*time.Second {
		t.Fatalf("after Retry-After: 30 the push waits %s", wait)
	}
	clk.advance(30 * time.Second)
	flush(t, app)
	clk.advance(time.Minute)
	flush(t, app)
	r = pushRows(t, app, nil)[0]
	if r.State != "failed" || r.Attempts != 3 || r.Error != "gave up after 3 attempts: HTTP 500: ERROR: Internal Server Error" {
		t.Fatalf("after 3 failures: %+v", r)
	}
	clk.advance(time.Hour)
	flush(t, app)
	if sends, _, _ := fake.snapshot(); len(sends) != 3 {
		t.Errorf("%d requests after giving up, want 3", len(sends))
	}
}

// MessageRateExceeded on one ticket sends that push again, and only it;
// the others of its request were accepted and are not sent again.
func TestRateExceededTicketIsRetriedAlone(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	addDevice(t, app, hearthtest.Alice, "ExponentPushToken[busy]")
	fake.ticketErrors["ExponentPushToken[busy]"] = "MessageRateExceeded"
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")
	flush(t, app)
	busy := pushRows(t, app, dbx.HashExp{"token": "ExponentPushToken[busy]"})[0]
	if busy.State != "pending" || busy.Attempts != 1 || busy.Error != "ticket: MessageRateExceeded" {
		t.Fatalf("rate-limited push: %+v", busy)
	}
	delete(fake.ticketErrors, "ExponentPushToken[busy]")
	clk.advance(time.Second)
	flush(t, app)
	sends, _, _ := fake.snapshot()
	if len(sends) != 2 || len(sends[1]) != 1 || sends[1][0].To != "ExponentPushToken[busy]" {
		t.Fatalf("second request: %+v", sends)
	}
	if len(fake.acceptedTo(alicePhone)) != 1 || len(fake.acceptedTo("ExponentPushToken[busy]")) != 1 {
		t.Errorf("accepted: %d and %d", len(fake.acceptedTo(alicePhone)), len(fake.acceptedTo("ExponentPushToken[busy]")))
	}
}

// Answers that retrying cannot change (400, a wrong access token) fail the
// request's pushes at once.
func TestPermanentRequestErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		setup  func(*fakeExpo)
		tune   func(*push.Config)
		errMsg string
	}{
		{"bad request", func(f *fakeExpo) { f.answer(status(http.StatusBadRequest)) }, nil, "HTTP 400: ERROR: Bad Request"},
		{"wrong access token", func(f *fakeExpo) { f.accessToken = "right" }, func(c *push.Config) { c.AccessToken = "wrong" }, "HTTP 401: UNAUTHORIZED: The bearer token is invalid."},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeExpo(t)
			c.setup(fake)
			app, clk := steppedApp(t, fake, c.tune)
			addDevice(t, app, hearthtest.Alice, alicePhone)
			post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")
			flush(t, app)
			clk.advance(time.Hour)
			flush(t, app)
			rows := pushRows(t, app, nil)
			sends, _, _ := fake.snapshot()
			if len(rows) != 1 || rows[0].State != "failed" || rows[0].Error != c.errMsg || len(sends) != 1 {
				t.Fatalf("rows %+v after %d requests", rows, len(sends))
			}
		})
	}
}

// The access token, when configured, goes with every request.
func TestAccessToken(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	fake.accessToken = "secret-expo-token"
	app, clk := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")
	flush(t, app)
	clk.advance(time.Hour)
	flush(t, app)
	if r := pushRows(t, app, nil)[0]; r.State != "delivered" {
		t.Fatalf("push %+v", r)
	}
}
