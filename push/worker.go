package push

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// storeKey holds an app's worker in its store, for Flush and Stats.
const storeKey = "hearth.push.worker"

// poll is how often an idle worker looks at the outbox even when no write
// woke it: a safety net for writes made by another process on the same
// database (hearth seed, a migration), which wake nothing.
const poll = 5 * time.Second

// stopGrace is how long a stopping worker may finish the request in
// flight, so that Expo's answer to it is recorded rather than lost.
const stopGrace = 10 * time.Second

// worker delivers an app's outbox. It is one goroutine while the app
// serves, and every round (expand, send, read receipts) runs under mu, so
// a push is never expanded into while it is being sent, and Flush can run
// a round from a test.
type worker struct {
	app      core.App
	cfg      Config
	sender   sender
	counters counters
	mu       sync.Mutex
	wake     chan struct{}
	// phones answers the triggers' question whether a write may reach a
	// phone (phones.go).
	phones phoneCheck

	run struct {
		sync.Mutex
		quit   chan struct{}
		cancel context.CancelFunc
		done   chan struct{}
	}
}

func newWorker(app core.App, cfg Config) *worker {
	w := &worker{app: app, cfg: cfg, wake: make(chan struct{}, 1)}
	if cfg.URL == "" {
		w.sender = &logSender{logger: app.Logger}
	} else {
		w.sender = newExpoSender(cfg)
	}
	return w
}

// poke wakes the worker for a write that committed; pokes while it is busy
// fold into one.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// start runs the delivery loop until stop.
func (w *worker) start() {
	w.run.Lock()
	defer w.run.Unlock()
	if w.run.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.run.quit, w.run.cancel, w.run.done = make(chan struct{}), cancel, make(chan struct{})
	go w.loop(ctx, w.run.quit, w.run.done)
}

// stop ends the loop after the round under way, cancelling its request
// only if it takes longer than stopGrace.
func (w *worker) stop() {
	w.run.Lock()
	defer w.run.Unlock()
	if w.run.done == nil {
		return
	}
	close(w.run.quit)
	select {
	case <-w.run.done:
	case <-time.After(stopGrace):
		w.run.cancel()
		<-w.run.done
	}
	w.run.cancel()
	w.run.done = nil
}

func (w *worker) loop(ctx context.Context, quit, done chan struct{}) {
	defer close(done)
	// Reminders that came due while the server was down go out now, not
	// at the next minute.
	if err := w.remind(); err != nil {
		w.app.Logger().Error("push: scheduling reminders failed", "error", err)
	}
	for {
		next, err := w.round(ctx, quit)
		if err != nil && ctx.Err() == nil {
			w.app.Logger().Warn("push: delivery round", "error", err)
		}
		wait := poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.cfg.Now()), 0))
		}
		timer := time.NewTimer(wait)
		select {
		case <-quit:
			timer.Stop()
			return
		case <-w.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// roundSteps bounds each part of a round (a step expands up to 50 outbox
// rows, or sends or reads one request's worth), so that a steady stream of
// writes to expand cannot keep the round from sending, nor the reverse.
const roundSteps = 10

// round expands the outbox, sends what is due and reads the receipts that
// are due, until nothing more is due now, each part runs roundSteps
// times, or quit closes. It returns when the next push or receipt falls
// due: now when a part stopped at its bound, zero for nothing waiting. A
// request that failed ends its part of the round: its pushes wait for
// their backoff, and the rest would most likely fail the same way. Failed
// requests are logged and recorded on their pushes; the error returned is
// any other.
func (w *worker) round(ctx context.Context, quit <-chan struct{}) (time.Time, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	busy := false
	for _, part := range []func() (int, error){w.expand, func() (int, error) { return w.sendDue(ctx) }, func() (int, error) { return w.readReceipts(ctx) }} {
		for step := 0; !closed(quit); step++ {
			if step == roundSteps {
				busy = true
				break
			}
			n, err := part()
			if err != nil {
				var reqErr *requestError
				if errors.As(err, &reqErr) {
					w.app.Logger().Warn("push: a request to the push service failed; its pushes wait for their backoff", "error", err)
				} else {
					errs = append(errs, err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
	}
	if busy {
		return w.cfg.Now(), errors.Join(errs...)
	}
	next, err := w.nextDue()
	return next, errors.Join(append(errs, err)...)
}

// nextDue is when the earliest waiting push or receipt falls due.
func (w *worker) nextDue() (time.Time, error) {
	var next int64
	err := w.app.DB().Select("COALESCE(MIN([[next_at]]), 0)").From(pushesTable).
		Where(dbx.In("state", statePending, stateAccepted)).Row(&next)
	if err != nil || next == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(next), nil
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Flush runs app's worker now and waits until nothing more is due: the
// outbox is expanded, every push due now is sent (or retried, or dropped)
// and every receipt due now is read. Failed requests are recorded on
// their pushes, not returned. A serving app's worker does this by itself;
// Flush is for tests, tools and the fixture world, whose own writes must
// leave the outbox empty.
func Flush(ctx context.Context, app core.App) error {
	w, err := workerOf(app)
	if err != nil {
		return err
	}
	for {
		next, err := w.round(ctx, nil)
		if err != nil || next.IsZero() || next.After(w.cfg.Now()) {
			return err
		}
	}
}

func workerOf(app core.App) (*worker, error) {
	w, ok := app.Store().Get(storeKey).(*worker)
	if !ok {
		return nil, fmt.Errorf("push: not registered on this app (push.Register)")
	}
	return w, nil
}
