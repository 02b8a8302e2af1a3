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
		// The common outcomes, delivered and not yet, take one statement
		// each for the whole request.
		var delivered, later []any
		for _, a := range batch {
			r, ok := receipts[a.Ticket]
			switch {
			case !ok && now.Sub(time.UnixMilli(a.Sent)) >= receiptTTL:
				n.unconfirmed++
				if err := settle(tx, a.ID, stateUnconfirmed, "no receipt within a day", now); err != nil {
					return err
				}
			case !ok:
				later = append(later, a.ID)
			case r.Status == "ok":
				delivered = append(delivered, a.ID)
			default:
				if err := failReceipt(tx, n, a, r, now); err != nil {
					return err
				}
			}
		}
		n.delivered += uint64(len(delivered))
		for _, u := range []struct {
			ids    []any
			params dbx.Params
		}{
			{delivered, dbx.Params{"state": stateDelivered, "error": "", "next_at": 0, "updated": now.UnixMilli()}},
			{later, dbx.Params{"next_at": now.Add(w.cfg.ReceiptDelay).UnixMilli(), "updated": now.UnixMilli()}},
		} {
			if len(u.ids) == 0 {
				continue
			}
			if _, err := tx.DB().Update(pushesTable, u.params, dbx.In("id", u.ids...)).Execute(); err != nil {
				return fmt.Errorf("push: record receipts: %w", err)
			}
		}
		return nil
	})
}

// failReceipt ends a push whose receipt is an error; DeviceNotRegistered
// removes the phone.
func failReceipt(tx core.App, n *tally, a accepted, r ticket, now time.Time) error {
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
