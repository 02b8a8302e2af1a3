package realtime_test

import (
	"testing"

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
