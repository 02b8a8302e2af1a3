package push

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
)

// logSender stands in for Expo when no push URL is configured (dev mode
// without HEARTH_PUSH_URL): each push is written to the app log, so a
// developer sees what a phone would get, and counts as delivered.
type logSender struct {
	logger func() *slog.Logger // the app's, once it is bootstrapped
	n      atomic.Int64
}

func (s *logSender) send(_ context.Context, msgs []message) ([]ticket, error) {
	tickets := make([]ticket, len(msgs))
	for i, m := range msgs {
		s.logger().Info("push: logged, not sent (no HEARTH_PUSH_URL)", "to", m.To, "title", m.Title, "body", m.Body, "data", string(m.Data))
		tickets[i] = ticket{Status: "ok", ID: "logged-" + strconv.FormatInt(s.n.Add(1), 10)}
	}
	return tickets, nil
}

func (s *logSender) receipts(_ context.Context, ids []string) (map[string]ticket, error) {
	out := make(map[string]ticket, len(ids))
	for _, id := range ids {
		out[id] = ticket{Status: "ok"}
	}
	return out, nil
}
