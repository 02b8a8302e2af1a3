package push

import (
	"fmt"
	"sync/atomic"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// counters count what a worker did since the app started.
type counters struct {
	requests, requestFailures                     atomic.Uint64
	accepted, retried, failed, dropped, delivered atomic.Uint64
	unconfirmed, devicesRemoved                   atomic.Uint64
}

// tally counts the outcomes recorded by one transaction; they are added to
// the counters once it commits, so the totals count only what is stored.
type tally struct {
	accepted, retried, failed, dropped, delivered, unconfirmed, devicesRemoved uint64
}

func (c *counters) add(n tally) {
	c.accepted.Add(n.accepted)
	c.retried.Add(n.retried)
	c.failed.Add(n.failed)
	c.dropped.Add(n.dropped)
	c.delivered.Add(n.delivered)
	c.unconfirmed.Add(n.unconfirmed)
	c.devicesRemoved.Add(n.devicesRemoved)
}

// byOutcome is n by the outcomes hearth_push_notifications_total counts.
func (n tally) byOutcome() map[string]uint64 {
	return map[string]uint64{
		"accepted": n.accepted, "retried": n.retried, "failed": n.failed, "dropped": n.dropped,
		"delivered": n.delivered, "unconfirmed": n.unconfirmed,
	}
}

// report adds n to hearth_push_notifications_total by outcome.
func (n tally) report(app core.App) {
	m := metricsOf(app)
	for outcome, count := range n.byOutcome() {
		if count > 0 {
			m.outcomes.WithLabelValues(outcome).Add(float64(count))
		}
	}
}

// inTx runs fn in a transaction and counts its tally once it commits.
func (w *worker) inTx(fn func(tx core.App, n *tally) error) error {
	var n tally
	if err := w.app.RunInTransaction(func(tx core.App) error { return fn(tx, &n) }); err != nil {
		return err
	}
	w.counters.add(n)
	n.report(w.app)
	return nil
}

// Snapshot is the state of an app's push outbox, for monitoring (the
// metrics endpoint reads it). The gauges are counted in the database,
// through indexes that hold only the waiting rows, so reading them costs
// the same however many finished pushes are kept; the totals count what
// the worker recorded since the app started, and only grow.
type Snapshot struct {
	// Outbox is how many outbox rows wait to be expanded.
	Outbox int64
	// Pending is how many pushes wait to be sent (retries included);
	// AwaitingReceipt how many Expo accepted whose receipt is not read yet.
	Pending, AwaitingReceipt int64

	// Requests to the push service (sends and receipt reads), and how many
	// of them got no tickets or receipts (network errors, HTTP errors).
	Requests, RequestFailures uint64
	// Pushes accepted by Expo, sent again after a transient failure,
	// failed for good, dropped before sending, confirmed delivered, and
	// left unconfirmed (no receipt within a day).
	Accepted, Retried, Failed, Dropped, Delivered, Unconfirmed uint64
	// DevicesRemoved counts phones deleted on DeviceNotRegistered.
	DevicesRemoved uint64
}

// Stats reads app's push outbox: its depth, the pushes waiting, and the
// worker's totals since start.
func Stats(app core.App) (Snapshot, error) {
	w, err := workerOf(app)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{
		Requests:        w.counters.requests.Load(),
		RequestFailures: w.counters.requestFailures.Load(),
		Accepted:        w.counters.accepted.Load(),
		Retried:         w.counters.retried.Load(),
		Failed:          w.counters.failed.Load(),
		Dropped:         w.counters.dropped.Load(),
		Delivered:       w.counters.delivered.Load(),
		Unconfirmed:     w.counters.unconfirmed.Load(),
		DevicesRemoved:  w.counters.devicesRemoved.Load(),
	}
	for _, c := range []struct {
		n     *int64
		table string
		where dbx.HashExp
	}{
		{&s.Outbox, outboxTable, dbx.HashExp{"expanded": 0}},
		{&s.Pending, pushesTable, dbx.HashExp{"state": statePending}},
		{&s.AwaitingReceipt, pushesTable, dbx.HashExp{"state": stateAccepted}},
	} {
		if err := app.DB().Select("COUNT(*)").From(c.table).Where(c.where).Row(c.n); err != nil {
			return Snapshot{}, fmt.Errorf("push: stats: %w", err)
		}
	}
	return s, nil
}
