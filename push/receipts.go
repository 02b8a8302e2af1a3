package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// receiptTTL is how long Expo keeps a receipt ("at least a day"); a push
// without one by then stays unconfirmed.
const receiptTTL = 24 * time.Hour

// accepted is a push with a ticket whose receipt is due.
type accepted struct {
	ID     int64  `db:"id"`
	Token  string `db:"token"`
	Ticket string `db:"ticket"`
	Sent   int64  `db:"sent"`
}

// readReceipts asks Expo for one request's worth of due receipts and
// records them: ok makes the push delivered, an error fails it (and
// DeviceNotRegistered removes the phone), and a receipt Expo does not have
// yet is asked for again later. It returns how many receipts were due.
func (w *worker) readReceipts(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	var batch []accepted
	err := w.app.DB().Select("id", "token", "ticket", "sent").From(pushesTable).
		Where(dbx.HashExp{"state": stateAccepted}).
		AndWhere(dbx.NewExp("[[next_at]] <= {:now}", dbx.Params{"now": now.UnixMilli()})).
		OrderBy("next_at", "id").Limit(receiptBatch).
		All(&batch)
	if err != nil {
		return 0, fmt.Errorf("push: read due receipts: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	ids := make([]string, len(batch))
	for i, a := range batch {
		ids[i] = a.Ticket
	}

	w.counters.requests.Add(1)
	receipts, err := w.sender.receipts(ctx, ids)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	now = w.cfg.Now()
	var reqErr *requestError
	if errors.As(err, &reqErr) {
		// Receipts wait on Expo's side; asking again later loses nothing.
		w.counters.requestFailures.Add(1)
		later := now.Add(backoff(1, w.cfg.ReceiptDelay, w.cfg.ReceiptDelay, reqErr.RetryAfter)).UnixMilli()
		_, uerr := w.app.DB().Update(pushesTable, dbx.Params{"next_at": later, "updated": now.UnixMilli()},
			dbx.In("id", anyIDs(batch)...)).Execute()
		return len(batch), errors.Join(reqErr, uerr)
	}
	if err != nil {
		return 0, fmt.Errorf("push: receipts: %w", err)
	}

	return len(batch), w.inTx(func(tx core.App, n *tally) error {
		for _, a := range batch {
			if err := w.recordReceipt(tx, n, a, receipts, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *worker) recordReceipt(tx core.App, n *tally, a accepted, receipts map[string]ticket, now time.Time) error {
	r, ok := receipts[a.Ticket]
	switch {
	case !ok && now.Sub(time.UnixMilli(a.Sent)) >= receiptTTL:
		return settle(tx, a.ID, stateUnconfirmed, "no receipt within a day", now)
	case !ok:
		return update(tx, a.ID, dbx.Params{"next_at": now.Add(w.cfg.ReceiptDelay).UnixMilli(), "updated": now.UnixMilli()})
	case r.Status == "ok":
		n.delivered++
		return settle(tx, a.ID, stateDelivered, "", now)
	}
	if r.Details.Error == errDeviceNotRegistered {
		if err := removeDevice(tx, n, a.Token, time.UnixMilli(a.Sent)); err != nil {
			return err
		}
	}
	n.failed++
	return settle(tx, a.ID, stateFailed, "receipt: "+r.errorCode(), now)
}

func anyIDs(batch []accepted) []any {
	out := make([]any, len(batch))
	for i, a := range batch {
		out[i] = a.ID
	}
	return out
}
