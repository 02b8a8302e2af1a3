package realtime

import (
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// Test access to the index of an app made by hearthtest.

// IsMember reports whether the index holds user as a member of group.
func IsMember(app core.App, group, user string) bool {
	h := hubOf(app)
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.members[group][user]
	return ok
}

// SubscribedMembers returns the members of group with a subscribed conn.
func SubscribedMembers(app core.App, group string) []string {
	h := hubOf(app)
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	for user := range h.members[group] {
		if len(h.byUser[user]) > 0 {
			out = append(out, user)
		}
	}
	return out
}

func GroupsOfUser(app core.App, user string) []string { return hubOf(app).groupsOfUser(user) }

// SetClientBuffer changes the queue limit of connections opened from now on.
func SetClientBuffer(app core.App, n int) {
	h := hubOf(app)
	h.mu.Lock()
	h.cfg.ClientBuffer = n
	h.mu.Unlock()
}

// Connected reports whether the client with id is still connected.
func Connected(app core.App, id string) bool { return hubOf(app).connOf(id) != nil }

// SetBareTimeout changes how long a connection opened from now on may
// hold no topic.
func SetBareTimeout(app core.App, d time.Duration) {
	h := hubOf(app)
	h.mu.Lock()
	h.cfg.BareTimeout = d
	h.mu.Unlock()
}

// BareSince returns since when the client with id has held no topic
// (zero while it holds some, or when it is not connected).
func BareSince(app core.App, id string) time.Time {
	h := hubOf(app)
	c := h.connOf(id)
	if c == nil {
		return time.Time{}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.bare
}

// SetLimits changes the caps of subscriptions made from now on.
func SetLimits(app core.App, conns, topics, perChange int) {
	h := hubOf(app)
	h.mu.Lock()
	h.cfg.MaxConnsPerUser, h.cfg.MaxTopicsPerUser, h.cfg.MaxTopicsPerChange = conns, topics, perChange
	h.mu.Unlock()
}

// Snapshot is the copy of a written record that realtime delivers.
var Snapshot = snapshot

// IndexChecker judges records both ways for TestIndexRuleMatchesSQL: with
// the membership index answering the rules it knows, and with SQL alone.
// Its hub is its own and loaded when made, so that its index is the
// state the SQL reads (an app's hub follows writes asynchronously).
type IndexChecker struct {
	h      *hub
	conns  []*conn
	owners []string
}

// Judgement is one record judged for one connection's owner both ways:
// the messages ("topic data") each path sends.
type Judgement struct {
	Owner         string
	Admitted      bool // the index held the owner as a member of the record's group
	ByIndex       bool // and answered the record's list rule
	IndexMessages []Message
	SQLMessages   []Message
}

// Message is one delivered message.
type Message = subscriptions.Message

func NewIndexChecker(app core.App) (*IndexChecker, error) {
	h := newHub(app, Config{}.withDefaults())
	if err := h.ensureLoaded(); err != nil {
		h.stop()
		return nil, err
	}
	return &IndexChecker{h: h}, nil
}

func (k *IndexChecker) Stop() { k.h.stop() }

// Subscribe indexes a connection signed in as auth with topics, as
// setSubscriptions does.
func (k *IndexChecker) Subscribe(auth *core.Record, topics []string) error {
	client := subscriptions.NewDefaultClient()
	client.Set(apis.RealtimeClientAuthKey, auth)
	c := newConn(client, func() {}, nil, 1024)
	k.h.register(c)
	subs, err := readSubscriptions(k.h.app, topics)
	if err != nil {
		return err
	}
	var hearthTopics []topic
	for _, s := range subs {
		hearthTopics = append(hearthTopics, *s.hearth)
	}
	owner := ownerKey(auth, "")
	if err := k.h.indexConn(c, auth, owner, len(subs), hearthTopics); err != nil {
		return err
	}
	k.conns = append(k.conns, c)
	k.owners = append(k.owners, owner)
	return nil
}

// Judge judges an update of record for every subscribed connection.
func (k *IndexChecker) Judge(record *core.Record) ([]Judgement, error) {
	ch := &change{collection: record.Collection().Name, action: actionUpdate, record: snapshot(record), at: time.Now()}
	_, ruleGroups, err := k.h.recipients(ch)
	if err != nil {
		return nil, err
	}
	col := record.Collection()
	var out []Judgement
	// One change's payloads are shared by all its recipients, as the
	// dispatcher shares them; the SQL path's are not, so that it judges
	// every connection from nothing.
	shared := newPayloads()
	for i, c := range k.conns {
		k.h.mu.RLock()
		j := Judgement{Owner: k.owners[i], Admitted: k.h.admittedLocked(c.user, ruleGroups)}
		k.h.mu.RUnlock()
		j.ByIndex = j.Admitted && k.h.rules.answers(col, col.ListRule)
		for _, d := range k.h.judge(ch, []*conn{c}, j.Owner, j.Admitted, shared) {
			j.IndexMessages = append(j.IndexMessages, d.msgs...)
		}
		for _, d := range k.h.judge(ch, []*conn{c}, j.Owner, false, newPayloads()) {
			j.SQLMessages = append(j.SQLMessages, d.msgs...)
		}
		out = append(out, j)
	}
	return out, nil
}

// AppendFrame is appendFrame, for TestFrameMatchesWriteSSE.
var AppendFrame = appendFrame

// SetHijack says whether connections opened from now on may leave
// net/http (wire.go); false serves them on net/http's path.
func SetHijack(app core.App, on bool) {
	h := hubOf(app)
	h.mu.Lock()
	h.noHijack = !on
	h.mu.Unlock()
}

// SetSweepEvery sets how often hijacked connections are checked; call it
// before the first connection.
func SetSweepEvery(app core.App, d time.Duration) { hubOf(app).sweepEvery = d }

// Hijacked reports whether the client with id left net/http.
func Hijacked(app core.App, id string) bool {
	c := hubOf(app).connOf(id)
	return c != nil && c.wire != nil
}

// Registered returns how many connections the hub holds, how many clients
// its registry (the realtime gauges' source) holds, and how many clients
// PocketBase's broker holds.
func Registered(app core.App) (conns, clients, broker int) {
	h := hubOf(app)
	h.mu.RLock()
	conns = len(h.conns)
	h.mu.RUnlock()
	return conns, h.clients.TotalClients(), app.SubscriptionsBroker().TotalClients()
}

// Draining reports whether the hijacked connection with id has a drain
// running: its socket was full when a message was sent.
func Draining(app core.App, id string) bool {
	c := hubOf(app).connOf(id)
	if c == nil || c.wire == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wire.draining
}

// WireBuffers returns the capacity of the buffers the hijacked connection
// with id keeps for its writes.
func WireBuffers(app core.App, id string) int {
	c := hubOf(app).connOf(id)
	if c == nil || c.wire == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return cap(c.wire.out) + cap(c.wire.spare)
}

// WaitJudged waits until the workers hold no task: every change the
// dispatcher handed them is judged and its frames written (or dropped). A
// delivery to one member does not mean another member's task has run.
func WaitJudged(app core.App) { waitIdle(&hubOf(app).work, time.Millisecond) }

// waitIdle polls w every pause until it holds no task.
func waitIdle(w *workers, pause time.Duration) {
	for {
		w.mu.Lock()
		n := len(w.queues)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(pause)
	}
}

// Deliver dispatches an update of record as the dispatcher does (the
// recipients from the index, one task per owner, the workers judging and
// queuing), waits until the workers are idle, and returns the messages
// the subscribed connections received, taking them from their queues.
func (k *IndexChecker) Deliver(record *core.Record) int {
	ch := &change{collection: record.Collection().Name, action: actionUpdate, record: record, at: time.Now()}
	k.h.dispatchChange(ch)
	waitIdle(&k.h.work, 10*time.Microsecond)
	got := 0
	for _, c := range k.conns {
		got += len(c.take())
	}
	return got
}
