package realtime_test

import (
	"fmt"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// BenchmarkPocketBaseBrokerWalk is the part of PocketBase's broadcast that
// runs for every change whatever the subscriptions: for each client in its
// broker, one prefix lookup per topic form (apis/realtime.go). With 10,000
// clients in the broker it is why Hearth keeps its clients out of it
// (package doc); go test -run '^$' -bench BrokerWalk ./realtime
func BenchmarkPocketBaseBrokerWalk(b *testing.B) {
	broker := subscriptions.NewBroker()
	for range 10000 {
		c := subscriptions.NewDefaultClient()
		c.Subscribe(`messages/*?options={"query":{},"headers":{}}`)
		broker.Register(c)
	}
	prefixes := []string{"rsvps/abc?", "pbc_1/abc?", "rsvps/*?", "pbc_1/*?", "rsvps?", "pbc_1?"}
	for b.Loop() {
		for _, chunk := range broker.ChunkedClients(150) {
			for _, c := range chunk {
				for _, p := range prefixes {
					if len(c.Subscriptions(p)) > 0 {
						b.Fatal("no client subscribes to rsvps")
					}
				}
			}
		}
	}
}

// BenchmarkDeliverGroupOf500 is the server's own part of one change into a
// group of 500, each member subscribed to the group's messages (the
// bench/ fanout-500 scenario's topic): the dispatcher's recipients and
// tasks, and the workers' judging and encoding, up to each connection's
// queue (the socket write is not in it). Reported per delivery;
// go test -run '^$' -bench DeliverGroupOf500 -benchmem ./realtime
func BenchmarkDeliverGroupOf500(b *testing.B) {
	const size = 500
	app := hearthtest.NewApp(b)
	users, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		b.Fatal(err)
	}
	alice, err := app.FindRecordById(collections.Users, hearthtest.Alice)
	if err != nil {
		b.Fatal(err)
	}
	group := hearthtest.Climbers // its fixture members are not subscribed
	members := make([]*core.Record, size)
	for i := range members {
		u := core.NewRecord(users)
		u.SetEmail(fmt.Sprintf("member%d@crews.test", i))
		// Alice's hash: hashing 500 passwords would take most of a minute.
		u.SetRaw(core.FieldNamePassword, alice.GetRaw(core.FieldNamePassword))
		if err := app.SaveNoValidate(u); err != nil {
			b.Fatal(err)
		}
		if _, err := collections.AddMember(app, group, u.Id, collections.RoleMember); err != nil {
			b.Fatal(err)
		}
		members[i] = u
	}
	// After the memberships: the checker's index is loaded when made.
	checker, err := realtime.NewIndexChecker(app)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(checker.Stop)
	for _, u := range members {
		if err := checker.Subscribe(u, []string{collections.Messages}); err != nil {
			b.Fatal(err)
		}
	}
	msg := hearthtest.Save(b, app, collections.Messages, "", map[string]any{"group": group, "author": hearthtest.Alice, "body": "to everyone"})
	b.ResetTimer()
	for b.Loop() {
		if got := checker.Deliver(msg); got != size {
			b.Fatalf("%d deliveries, want %d", got, size)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/delivery")
}
