package push_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/metrics"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

func deviceExists(t testing.TB, app core.App, token string) bool {
	t.Helper()
	n, err := app.CountRecords(collections.Devices, dbx.HashExp{"token": token})
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func stateOf(t testing.TB, app core.App, token string) pushRow {
	t.Helper()
	rows := pushRows(t, app, dbx.HashExp{"token": token})
	if len(rows) != 1 {
		t.Fatalf("%d pushes to %s", len(rows), token)
	}
	return rows[0]
}

// Tickets and receipts: an ok receipt delivers, DeviceNotRegistered on a
// ticket or a receipt removes the phone, other errors only fail the push,
// and a receipt Expo does not have yet is asked for again until Expo
// would have dropped it.
func TestReceipts(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	const (
		fine          = "ExponentPushToken[fine]"
		goneAtTicket  = "ExponentPushToken[gone-at-ticket]"
		goneAtReceipt = "ExponentPushToken[gone-at-receipt]"
		reinstalled   = "ExponentPushToken[reinstalled]"
		tooBig        = "ExponentPushToken[too-big]"
		late          = "ExponentPushToken[late]"
	)
	for _, tok := range []string{fine, goneAtTicket, goneAtReceipt, reinstalled, tooBig, late} {
		addDevice(t, app, hearthtest.Alice, tok)
	}
	fake.ticketErrors[goneAtTicket] = "DeviceNotRegistered"
	fake.ticketErrors[tooBig] = "MessageTooBig"
	fake.receiptErrors[goneAtReceipt] = "DeviceNotRegistered"
	fake.receiptErrors[reinstalled] = "DeviceNotRegistered"
	fake.pendingReceipts[late] = true

	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Anyone?")
	flush(t, app)
	if r := stateOf(t, app, goneAtTicket); r.State != "failed" || r.Error != "ticket: DeviceNotRegistered" || deviceExists(t, app, goneAtTicket) {
		t.Errorf("DeviceNotRegistered ticket: %+v, device kept: %v", r, deviceExists(t, app, goneAtTicket))
	}
	if r := stateOf(t, app, tooBig); r.State != "failed" || r.Error != "ticket: MessageTooBig" || !deviceExists(t, app, tooBig) {
		t.Errorf("MessageTooBig ticket: %+v, device kept: %v", r, deviceExists(t, app, tooBig))
	}
	// Receipts are not asked for before their time.
	flush(t, app)
	if _, _, reqs := fake.snapshot(); len(reqs) != 0 {
		t.Fatalf("receipts asked for at once: %v", reqs)
	}

	// The reinstalled phone registers its token again after the push went:
	// the receipt about the old install does not remove it.
	clk.advance(time.Minute)
	addDevice(t, app, hearthtest.Alice, reinstalled)
	clk.advance(14 * time.Minute)
	flush(t, app)
	if _, _, reqs := fake.snapshot(); len(reqs) != 1 || len(reqs[0]) != 4 {
		t.Fatalf("receipt requests: %v", reqs)
	}
	for tok, want := range map[string]struct {
		state, err string
		device     bool
	}{
		fine:          {"delivered", "", true},
		goneAtReceipt: {"failed", "receipt: DeviceNotRegistered", false},
		reinstalled:   {"failed", "receipt: DeviceNotRegistered", true},
		late:          {"accepted", "", true},
	} {
		if r := stateOf(t, app, tok); r.State != want.state || r.Error != want.err || deviceExists(t, app, tok) != want.device {
			t.Errorf("%s: %+v, device %v; want %+v", tok, r, deviceExists(t, app, tok), want)
		}
	}

	// Asked for again every 15 minutes, until a day has passed.
	clk.advance(15 * time.Minute)
	flush(t, app)
	if _, _, reqs := fake.snapshot(); len(reqs) != 2 || len(reqs[1]) != 1 {
		t.Fatalf("receipt requests: %v", reqs)
	}
	clk.advance(24 * time.Hour)
	flush(t, app)
	if r := stateOf(t, app, late); r.State != "unconfirmed" {
		t.Errorf("a receipt that never came: %+v", r)
	}
	if s := stats(t, app); s.DevicesRemoved != 2 || s.Delivered != 1 || s.Failed != 4 || s.Unconfirmed != 1 || s.Accepted != 4 || s.AwaitingReceipt != 0 || s.Pending != 0 {
		t.Errorf("stats: %+v", s)
	}
	// The metrics count the same outcomes.
	got := outcomeMetrics(t, app)
	for outcome, want := range map[string]float64{"accepted": 4, "delivered": 1, "failed": 4, "unconfirmed": 1, "retried": 0, "dropped": 0} {
		if got[outcome] != want {
			t.Errorf("hearth_push_notifications_total{outcome=%q} = %v, want %v", outcome, got[outcome], want)
		}
	}
}

// outcomeMetrics reads hearth_push_notifications_total from app's
// registry, by outcome.
func outcomeMetrics(t *testing.T, app core.App) map[string]float64 {
	t.Helper()
	families, err := metrics.Gatherer(app).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hearth_push_notifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no hearth_push_notifications_total series")
	}
	return out
}

// A message to more phones than one request holds goes in requests of at
// most 100, and its receipts in requests of at most 300.
func TestBatches(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	const n = 350
	for i := range n {
		addDevice(t, app, hearthtest.Alice, fmt.Sprintf("ExponentPushToken[phone-%03d]", i))
	}
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Everyone?")
	flush(t, app)
	sends, accepted, _ := fake.snapshot()
	var sizes []int
	for _, s := range sends {
		sizes = append(sizes, len(s))
	}
	if fmt.Sprint(sizes) != "[100 100 100 50]" {
		t.Errorf("request sizes %v, want [100 100 100 50]", sizes)
	}
	seen := map[string]int{}
	for _, m := range accepted {
		seen[m.To]++
	}
	if len(seen) != n {
		t.Errorf("%d phones got the push, want %d", len(seen), n)
	}
	for tok, k := range seen {
		if k != 1 {
			t.Errorf("%s got it %d times", tok, k)
		}
	}

	clk.advance(15 * time.Minute)
	flush(t, app)
	_, _, reqs := fake.snapshot()
	sizes = nil
	for _, r := range reqs {
		sizes = append(sizes, len(r))
	}
	if fmt.Sprint(sizes) != "[300 50]" {
		t.Errorf("receipt request sizes %v, want [300 50]", sizes)
	}
	if s := stats(t, app); s.Delivered != n || s.Requests != 6 {
		t.Errorf("stats: %+v", s)
	}
}
