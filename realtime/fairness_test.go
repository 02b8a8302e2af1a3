package realtime_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
)

// A user whose topics are slow to judge holds up no one else: while the
// work for Erin's subscription is stuck (an enrich hook that blocks for
// her), another group's member and her own group's other member receive
// their messages; hers follow, in commit order, once her work proceeds.
func TestSlowUserDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	entered, unblock := blockErin(t, app)
	// An expand makes Erin's payload her own, so the hook sees her.
	erin := connect(t, app, srv, hearthtest.Erin, topicWith(t, "messages/*", map[string]any{"expand": "author"}))
	dave := connect(t, app, srv, hearthtest.Dave, "messages/*")
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")

	first := message(t, app, hearthtest.Chess, hearthtest.Dave, "first")
	<-entered // Erin's work for it has started and is stuck
	second := message(t, app, hearthtest.Chess, hearthtest.Dave, "second")
	climb := message(t, app, hearthtest.Climbers, hearthtest.Alice, "another group")

	if got := ids(bob.until(climb.Id)); !slices.Equal(got, []string{climb.Id}) {
		t.Errorf("Bob received %v, want %s", got, climb.Id)
	}
	if got := ids(dave.until(second.Id)); !slices.Equal(got, []string{first.Id, second.Id}) {
		t.Errorf("Dave received %v, want %s then %s", got, first.Id, second.Id)
	}
	select {
	case ev := <-erin.events:
		t.Fatalf("Erin received %s while her work was stuck", ev.Data)
	default:
	}

	unblock()
	if got := ids(erin.until(second.Id)); !slices.Equal(got, []string{first.Id, second.Id}) {
		t.Errorf("Erin received %v, want %s then %s", got, first.Id, second.Id)
	}
}

// A user whose share of the changes falls further behind than a client's
// queue may is disconnected, as a client that stops reading is: the app
// reconnects and resyncs instead of the server holding their backlog.
func TestUserFarBehindIsDisconnected(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetClientBuffer(app, 8)
	entered, _ := blockErin(t, app) // released when the test ends
	erin := connect(t, app, srv, hearthtest.Erin, topicWith(t, "messages/*", map[string]any{"expand": "author"}))
	dave := connect(t, app, srv, hearthtest.Dave, "messages/*")

	message(t, app, hearthtest.Chess, hearthtest.Dave, "stuck")
	<-entered
	// One task runs, eight wait: the limit. The next one is one too many.
	// Dave reads each message before the next is sent, so that only Erin
	// falls behind, however slowly the machine runs his tasks.
	for i := range 9 {
		dave.until(message(t, app, hearthtest.Chess, hearthtest.Dave, string(rune('a'+i))).Id)
	}
	erin.closed()
	// Dave's ten messages are counted as delivered, Erin's connection as
	// dropped (families of realtime/metrics.go).
	if got := counterValue(t, app, "hearth_realtime_dropped_clients_total"); got != 1 {
		t.Errorf("dropped clients = %v, want 1", got)
	}
	// A delivery is counted once written, so Dave may read his last
	// message just before it is counted.
	deliveries := func() float64 { return counterValue(t, app, "hearth_realtime_deliveries_total") }
	for deadline := time.Now().Add(waitFor); deliveries() < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := deliveries(); got < 10 {
		t.Errorf("deliveries = %v, want Dave's 10 at least", got)
	}
	if realtime.Connected(app, erin.id) {
		t.Error("Erin's connection is still registered")
	}
}

// counterValue reads a counter without labels from app's registry.
func counterValue(t *testing.T, app core.App, name string) float64 {
	t.Helper()
	families, err := metrics.Gatherer(app).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no family %s", name)
	return 0
}

// blockErin makes the judging of Erin's messages block, in an enrich hook
// that sees her (an expand makes her payload her own), until unblock;
// entered receives once her work has started. unblock runs at the end of
// the test too, before the app stops (which waits for the workers).
func blockErin(t *testing.T, app core.App) (entered <-chan struct{}, unblock func()) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	unblock = func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	app.OnRecordEnrich(collections.Messages).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo.Auth != nil && e.RequestInfo.Auth.Id == hearthtest.Erin {
			select {
			case started <- struct{}{}:
			default:
			}
			<-release
		}
		return e.Next()
	})
	return started, unblock
}
