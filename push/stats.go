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
	devicesRemoved                                atomic.Uint64
}

// tally counts the outcomes recorded by one transaction; they are added to
// the counters once it commits, so the totals count only what is stored.
type tally struct {
	accepted, retried, failed, dropped, delivered, devicesRemoved uint64
}

func (c *counters) add(n tally) {
	c.accepted.Add(n.accepted)
	c.retried.Add(n.retried)
	c.failed.Add(n.failed)
	c.dropped.Add(n.dropped)
	c.delivered.Add(n.delivered)
	c.devicesRemoved.Add(n.devicesRemoved)
}

// inTx runs fn in a transaction and counts its tally once it commits.
func (w *worker) inTx(fn func(tx core.App, n *tally) error) error {
	var n tally
	if err := w.app.RunInTransaction(func(tx core.App) error { return fn(tx, &n) }); err != nil {
		return err
	}
	w.counters.add(n)
	return nil
}

// Snapshot is the state of an app's push outbox, for monitoring (the
// metrics endpoint reads it). The gauges are read from the database; the
// totals count since the app started and only grow.
type Snapshot struct {
	// Outbox is how many outbox rows wait to be expanded.
	Outbox int64
	// Pushes counts the stored pushes by state: pending (waiting to be
	// sent, retries included), accepted (waiting for a receipt),
	// delivered, failed, dropped, unconfirmed (the last four within the
	// retention window).
	Pushes map[string]int64

	// Requests to the push service (sends and receipt reads), and how many
	// of them got no tickets or receipts (network errors, HTTP errors).
	Requests, RequestFailures uint64
	// Pushes accepted by Expo, sent again after a transient failure,
	// failed for good, dropped before sending, and confirmed delivered.
	Accepted, Retried, Failed, Dropped, Delivered uint64
	// DevicesRemoved counts phones deleted on DeviceNotRegistered.
	DevicesRemoved uint64
}

// Stats reads app's push outbox: its depth and each state's count, and the
// worker's totals since start.
func Stats(app core.App) (Snapshot, error) {
	w, err := workerOf(app)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{
		Pushes: map[string]int64{
			statePending: 0, stateAccepted: 0, stateDelivered: 0, stateFailed: 0, stateDropped: 0, stateUnconfirmed: 0,
		},
		Requests:        w.counters.requests.Load(),
		RequestFailures: w.counters.requestFailures.Load(),
		Accepted:        w.counters.accepted.Load(),
		Retried:         w.counters.retried.Load(),
		Failed:          w.counters.failed.Load(),
		Dropped:         w.counters.dropped.Load(),
		Delivered:       w.counters.delivered.Load(),
		DevicesRemoved:  w.counters.devicesRemoved.Load(),
	}
	if err := app.DB().Select("COUNT(*)").From(outboxTable).Where(dbx.HashExp{"expanded": 0}).Row(&s.Outbox); err != nil {
		return Snapshot{}, fmt.Errorf("push: outbox depth: %w", err)
	}
	var rows []struct {
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	if err := app.DB().Select("state", "COUNT(*) AS n").From(pushesTable).GroupBy("state").All(&rows); err != nil {
		return Snapshot{}, fmt.Errorf("push: pushes by state: %w", err)
	}
	for _, r := range rows {
		s.Pushes[r.State] = r.N
	}
	return s, nil
}
