package push_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// bigGroup makes a group of n new members, each with a phone, created by
// the first; it returns the group and the members. The members share
// Alice's password hash: hashing one per user would cost seconds.
func bigGroup(b testing.TB, app core.App, n int) (string, []string) {
	b.Helper()
	alice, err := app.FindRecordById(collections.Users, hearthtest.Alice)
	if err != nil {
		b.Fatal(err)
	}
	users, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range n {
		u := core.NewRecord(users)
		u.Load(map[string]any{"name": fmt.Sprintf("Member %d", i), "email": fmt.Sprintf("big%d@crews.test", i), "verified": true})
		u.SetRaw(core.FieldNamePassword, alice.GetRaw(core.FieldNamePassword))
		if err := app.SaveNoValidate(u); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.Id)
	}
	group := hearthtest.Save(b, app, collections.Groups, "", map[string]any{"name": "Big crew", "created_by": ids[0]})
	for i, id := range ids {
		if i > 0 {
			if _, err := collections.AddMember(app, group.Id, id, collections.RoleMember); err != nil {
				b.Fatal(err)
			}
		}
		addDevice(b, app, id, fmt.Sprintf("ExponentPushToken[big-%04d]", i))
	}
	return group.Id, ids
}

// createVariant is one app in which the create benchmarks create
// messages through the real router.
type createVariant struct {
	name   string
	app    *tests.TestApp
	create func()
	spent  time.Duration
}

// newCreateVariant builds app's router as `hearth serve` does; with serving
// true the serve event carries a server, so that a registered push worker
// starts and delivers beside the creates, as on a serving app.
func newCreateVariant(b *testing.B, name string, app *tests.TestApp, group, poster string, serving bool) *createVariant {
	r, err := apis.NewRouter(app)
	if err != nil {
		b.Fatal(err)
	}
	var mux http.Handler
	se := &core.ServeEvent{App: app, Router: r}
	if serving {
		se.Server = &http.Server{}
	}
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		mux, err = e.Router.BuildMux()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	token := hearthtest.Token(b, app, poster)
	body := `{"group":"` + group + `","body":"See you at the wall at six"}`
	return &createVariant{name: name, app: app, create: func() {
		req := httptest.NewRequest(http.MethodPost, "/api/collections/messages/records", strings.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d: %s", name, rec.Code, rec.Body)
		}
	}}
}

// createVariants are three apps of the same fixture world: without push
// registered (crews.Register minus push.Register); with push, nobody
// having a phone; with push and a group of 50 members with phones, whose
// pushes go to a local Expo.
func createVariants(b *testing.B, serving bool) []*createVariant {
	plain := hearthtest.NewAppWith(b, func(app core.App, cfg crews.Config) {
		collections.Register(app, collections.Config{Now: cfg.Now})
		changefeed.Register(app, changefeed.Config{Retention: cfg.SyncRetention})
		realtime.Register(app, cfg.Realtime)
	})
	noPhones := pushApp(b, newFakeExpo(b), nil)
	phones := pushApp(b, newFakeExpo(b), nil)
	group, members := bigGroup(b, phones, 50)
	return []*createVariant{
		newCreateVariant(b, "nopush", plain, hearthtest.Climbers, hearthtest.Carol, serving),
		newCreateVariant(b, "push", noPhones, hearthtest.Climbers, hearthtest.Carol, serving),
		newCreateVariant(b, "push50", phones, group, members[0], serving),
	}
}

// runCreates creates a message in each variant in turn per iteration, so
// that all see the same machine, with settle run untimed after each, and
// reports each variant's mean time per create and its ratio to the first.
func runCreates(b *testing.B, variants []*createVariant, settle func(*createVariant)) {
	n := 0
	for b.Loop() {
		for _, v := range variants {
			start := time.Now()
			v.create()
			v.spent += time.Since(start)
			if settle != nil {
				b.StopTimer()
				settle(v)
				b.StartTimer()
			}
		}
		n++
	}
	for _, v := range variants {
		b.ReportMetric(float64(v.spent.Nanoseconds())/float64(n), v.name+"-ns/create")
	}
	for _, v := range variants[1:] {
		b.ReportMetric(float64(v.spent)/float64(variants[0].spent), v.name+"/nopush")
	}
}

// BenchmarkMessageCreatePush measures the write path: a message create
// through the API, with push's trigger (one outbox row in the write's
// transaction) and without push. No worker runs; after each create the
// outbox is delivered with push.Flush, untimed.
func BenchmarkMessageCreatePush(b *testing.B) {
	runCreates(b, createVariants(b, false), func(v *createVariant) {
		if v.name != "nopush" {
			flush(b, v.app)
		}
	})
}

// BenchmarkMessageCreatePushUnderLoad is BenchmarkMessageCreatePush with
// each push app's worker running, as on a serving app: woken by every
// committed message, it delivers beside the creates, and its transactions
// compete with them for the CPUs and for SQLite's write lock (the local
// Expo runs in the same process too).
func BenchmarkMessageCreatePushUnderLoad(b *testing.B) {
	runCreates(b, createVariants(b, true), nil)
}

// BenchmarkWorkerThroughput measures the worker against a local Expo: a
// group of 500 members with a phone each, one member posting per
// iteration (each message a window after the last, so none coalesces),
// the worker expanding the message into 499 pushes, sending them in
// requests of 100 and recording the tickets. pushes/s is the rate of
// pushes accepted by the local server.
func BenchmarkWorkerThroughput(b *testing.B) {
	fake := newFakeExpo(b)
	app, clk := steppedApp(b, fake, nil)
	group, members := bigGroup(b, app, 500)
	flush(b, app)
	_, before, _ := fake.snapshot()
	start := len(before)
	i := 0
	b.ResetTimer()
	began := time.Now()
	for b.Loop() {
		clk.advance(2 * time.Minute)
		post(b, app, group, members[i%len(members)], "Who's in tonight?")
		flush(b, app)
		i++
	}
	elapsed := time.Since(began)
	b.StopTimer()
	_, accepted, _ := fake.snapshot()
	pushes := len(accepted) - start
	if pushes != i*(len(members)-1) {
		b.Fatalf("%d pushes accepted for %d messages, want %d", pushes, i, i*(len(members)-1))
	}
	b.ReportMetric(float64(pushes)/elapsed.Seconds(), "pushes/s")
}
