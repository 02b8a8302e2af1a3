package realtime

import (
	"cmp"
	"fmt"
	"sync"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// hub is the app's realtime state: Hearth's clients, the membership index
// and the ordered stream of committed changes.
type hub struct {
	app     core.App
	cfg     Config
	clients *subscriptions.Broker // Hearth's registry, by client id
	metrics *realtimeMetrics

	mu         sync.RWMutex
	conns      map[string]*conn               // client id → conn
	byUser     map[string]map[*conn]struct{}  // member → their subscribed conns
	supers     map[*conn]struct{}             // subscribed superusers
	members    map[string]map[string]struct{} // group → users
	groups     map[string]map[string]struct{} // user → groups
	loaded     bool
	owners     map[string]map[*conn]struct{} // owner → their subscribed conns, for the caps
	subscribed uint64                        // subscriptions indexed so far: conn.since

	rules indexRules // the rules the membership index answers

	sweepState // the hijacked connections' (wire.go)

	order orderer
	work  workers
}

func newHub(app core.App, cfg Config) *hub {
	h := &hub{
		app:     app,
		cfg:     cfg,
		clients: subscriptions.NewBroker(),
		conns:   map[string]*conn{},
		byUser:  map[string]map[*conn]struct{}{},
		supers:  map[*conn]struct{}{},
		members: map[string]map[string]struct{}{},
		groups:  map[string]map[string]struct{}{},
		owners:  map[string]map[*conn]struct{}{},
		rules:   newIndexRules(),
	}
	h.sweepEvery, h.quit = defaultSweepEvery, make(chan struct{})
	// Before the goroutines that report into them start.
	h.metrics = registerMetrics(app, h.clients)
	h.work.init(h, cfg.Workers)
	h.order.init(h)
	return h
}

// ensureLoaded reads every membership once, under the index lock so that
// the dispatcher applies no change while the snapshot is taken: a change
// committed after the read is applied after it, and one applied before was
// committed before it. Replaying changes the snapshot already holds is
// harmless, since each sets or clears one (group, user) pair.
func (h *hub) ensureLoaded() error {
	h.mu.RLock()
	loaded := h.loaded
	h.mu.RUnlock()
	if loaded {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded {
		return nil
	}
	var rows []struct {
		Group string `db:"group"`
		User  string `db:"user"`
	}
	err := h.app.DB().Select("group", "user").From(collections.Memberships).All(&rows)
	if err != nil {
		return fmt.Errorf("realtime: load memberships: %w", err)
	}
	for _, r := range rows {
		h.addMemberLocked(r.Group, r.User)
	}
	h.loaded = true
	return nil
}

func (h *hub) isLoaded() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.loaded
}

func (h *hub) addMemberLocked(group, user string) {
	if h.members[group] == nil {
		h.members[group] = map[string]struct{}{}
	}
	h.members[group][user] = struct{}{}
	if h.groups[user] == nil {
		h.groups[user] = map[string]struct{}{}
	}
	h.groups[user][group] = struct{}{}
}

func (h *hub) removeMemberLocked(group, user string) {
	delete(h.members[group], user)
	if len(h.members[group]) == 0 {
		delete(h.members, group)
	}
	delete(h.groups[user], group)
	if len(h.groups[user]) == 0 {
		delete(h.groups, user)
	}
}

// applyIndex keeps the membership index true for one committed change.
// Only the dispatcher calls it, in commit order. Deleting a group or a
// user deletes its memberships in the same transaction (cascade), which
// arrive as membership deletions; the group and user cases only make sure
// nothing of them stays.
func (h *hub) applyIndex(ch *change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		return // the first load reads the state this change left
	}
	switch ch.collection {
	case collections.Memberships:
		m := collections.As[collections.Membership](ch.record)
		group, user := m.Group(), m.User()
		switch ch.action {
		case actionCreate:
			h.addMemberLocked(group, user)
		case actionUpdate:
			// Only a superuser moves a membership (group and user are
			// fixed for everyone else): the pair it left goes, or its
			// member would still be admitted there.
			if ch.oldGroup != "" || ch.oldUser != "" {
				h.removeMemberLocked(cmp.Or(ch.oldGroup, group), cmp.Or(ch.oldUser, user))
				h.addMemberLocked(group, user)
			}
		case actionDelete:
			h.removeMemberLocked(group, user)
		}
	case collections.Groups:
		if ch.action == actionDelete {
			for user := range h.members[ch.record.Id] {
				h.removeMemberLocked(ch.record.Id, user)
			}
		}
	case collections.Users:
		if ch.action == actionDelete {
			for group := range h.groups[ch.record.Id] {
				h.removeMemberLocked(group, ch.record.Id)
			}
		}
	}
}

// indexConn records who c now delivers to: its owner, its member (or
// superuser) and its Hearth topics, once the owner's caps admit the
// subscription (count is its number of topics on both paths). A conn
// without Hearth topics is in no member index. On refusal c keeps what it
// had.
func (h *hub) indexConn(c *conn, auth *core.Record, owner string, count int, topics []topic) error {
	var evict []*conn
	defer func() {
		// After the unlock below: dropping a hijacked connection
		// unregisters it, which takes the lock.
		for _, old := range evict {
			old.drop(nil)
		}
	}()
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.gone {
		h.unindexLocked(c)
		return nil // the connection ended while its subscription was handled
	}
	evicted, err := h.admitLocked(c, owner, count, topics)
	if err != nil {
		return err
	}
	for _, old := range evicted {
		h.unindexLocked(old)
	}
	evict = evicted
	h.unindexLocked(c)
	c.topics = topics
	if count == 0 {
		// Its last topic went now; asking for none again does not
		// restart the clock.
		if c.bare.IsZero() {
			c.bare = time.Now()
		}
	} else {
		c.bare = time.Time{}
		h.subscribed++
		c.owner, c.count, c.since = owner, count, h.subscribed
		if h.owners[owner] == nil {
			h.owners[owner] = map[*conn]struct{}{}
		}
		h.owners[owner][c] = struct{}{}
	}
	if len(topics) == 0 || auth == nil {
		return nil
	}
	if auth.IsSuperuser() {
		c.superuser = true
		h.supers[c] = struct{}{}
		return nil
	}
	if auth.Collection().Name != collections.Users {
		return nil // only users are members of groups
	}
	c.user = auth.Id
	if h.byUser[c.user] == nil {
		h.byUser[c.user] = map[*conn]struct{}{}
	}
	h.byUser[c.user][c] = struct{}{}
	return nil
}

func (h *hub) unindexLocked(c *conn) {
	if c.superuser {
		delete(h.supers, c)
		c.superuser = false
	}
	if c.user != "" {
		delete(h.byUser[c.user], c)
		if len(h.byUser[c.user]) == 0 {
			delete(h.byUser, c.user)
		}
		c.user = ""
	}
	if c.owner != "" {
		delete(h.owners[c.owner], c)
		if len(h.owners[c.owner]) == 0 {
			delete(h.owners, c.owner)
		}
		c.owner, c.count = "", 0
	}
	c.topics = nil
}

// candidates returns the conns that may receive a change of a record in
// groups: the subscribed members of those groups, the record's own user
// for a users record (who sees themselves without sharing a group), and
// the subscribed superusers.
func (h *hub) candidates(groups []string, self string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	// A conn is indexed under one user or as a superuser, and a group's
	// members are distinct users: only a second group or self can name a
	// conn twice. Without them no set of those seen is kept: candidates,
	// with that set built for every change, was half of the dispatcher's
	// CPU into groups of 500 (docs/benchmarks.md, fourth pass).
	var seen map[*conn]struct{}
	if len(groups) > 1 || self != "" {
		seen = map[*conn]struct{}{}
	}
	n := len(h.supers)
	for _, g := range groups {
		n += len(h.members[g])
	}
	out := make([]*conn, 0, n)
	add := func(c *conn) {
		if seen != nil {
			if _, dup := seen[c]; dup {
				return
			}
			seen[c] = struct{}{}
		}
		out = append(out, c)
	}
	addUser := func(user string) {
		for c := range h.byUser[user] {
			add(c)
		}
	}
	for _, g := range groups {
		for user := range h.members[g] {
			addUser(user)
		}
	}
	if self != "" {
		addUser(self)
	}
	for c := range h.supers {
		add(c)
	}
	return out
}

// groupsOfUser returns the groups user is a member of, from the index.
func (h *hub) groupsOfUser(user string) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.groups[user]))
	for g := range h.groups[user] {
		out = append(out, g)
	}
	return out
}
