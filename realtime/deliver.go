package realtime

import (
	"errors"
	"slices"
	"sync"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

type messageOut = subscriptions.Message

// recipients returns the connections that may receive ch, from the
// index: the subscribed members of the record's groups, the record's own
// user for a users record, and the subscribed superusers. Nil before the
// index is loaded, at the first subscription: no one has subscribed.
// ruleGroups are the groups the record's rule path leads to (without the
// group an update moved it from), for admittedLocked.
func (h *hub) recipients(ch *change) (conns []*conn, ruleGroups []string, err error) {
	if !h.isLoaded() {
		return nil, nil, nil
	}
	groups, self, err := h.groupsOf(ch)
	if err != nil {
		return nil, nil, err
	}
	ruleGroups = groups
	if s := collections.SpecOf(ch.collection).Scope; s.Field != "" && s.Parent == "" {
		// GroupsOf adds the group an update moved the record from, whose
		// members are candidates, but the rule reads the group it is in.
		ruleGroups = []string{ch.record.GetString(s.Field)}
	}
	if ch.oldGroup != "" {
		groups = append(slices.Clone(groups), ch.oldGroup)
	}
	return h.candidates(groups, self), ruleGroups, nil
}

// decide returns, per recipient, the messages one change sends, judging
// every candidate at once; a deletion's capture uses it, before its row
// goes.
func (h *hub) decide(ch *change) ([]delivery, error) {
	conns, _, err := h.recipients(ch)
	if err != nil || len(conns) == 0 {
		return nil, err
	}
	return h.judge(ch, conns, "", false, newPayloads()), nil
}

// judge returns the messages ch sends to conns (those of owner, when it is
// set): each one's subscriptions judged exactly as PocketBase's broadcast
// judges them. admitted says that the index held owner's user as a member
// of the record's group, which answers the rules it knows
// (index_rules.go). A topic is judged
// once per viewer: the same collection, record and options on several of
// one user's connections (or twice on one, under two names) cost one rule
// check, filter query and encoding, and are delivered under every name.
func (h *hub) judge(ch *change, conns []*conn, owner string, admitted bool, shared *payloads) []delivery {
	collection := ch.record.Collection()
	// A struct key, not a concatenation: judge runs once per recipient,
	// and building the strings showed in the profile of groups of 500.
	type viewerTopic struct{ collection, auth, topic string }
	decided := map[viewerTopic][]byte{} // nil when not sent
	var out []delivery
	for _, c := range conns {
		auth, _ := c.client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		topics, ok := h.current(c, auth, owner)
		if !ok {
			continue
		}
		var msgs []messageOut
		for _, t := range topics {
			rule, match := t.matches(collection, ch.record.Id)
			if !match {
				continue
			}
			key := viewerTopic{auth.Collection().Id, auth.Id, t.key}
			data, seen := decided[key]
			if !seen {
				data = h.judgeTopic(ch, auth, t, rule, admitted, shared)
				decided[key] = data
			}
			if data != nil {
				msgs = append(msgs, messageOut{Name: t.name, Data: data})
			}
		}
		if len(msgs) > 0 {
			out = append(out, delivery{conn: c, msgs: msgs})
		}
	}
	return out
}

// judgeTopic returns the data ch sends to auth through t, or nil.
func (h *hub) judgeTopic(ch *change, auth *core.Record, t topic, rule *string, admitted bool, shared *payloads) []byte {
	collection := ch.record.Collection()
	key := payloadKey{t.optionsKey, viewerOf(auth, collection, t)}
	if admitted && h.rules.answers(collection, rule) {
		rule = &everyone
		// Given the empty rule and no filter, PocketBase's check admits
		// without a query (realtimeCanAccessRecord), so the payload
		// another member with the same options was sent is this one's
		// too: in a group of 500 most members take only this look-up.
		if t.options.Query[search.FilterQueryParam] == "" {
			if data, ok := shared.get(key); ok {
				return data
			}
		}
	}
	info := &core.RequestInfo{
		Context: core.RequestInfoContextRealtime,
		Method:  "GET",
		Query:   t.options.Query,
		Headers: t.options.Headers,
		Auth:    auth,
	}
	if !realtimeCanAccessRecord(h.app, ch.record, info, rule) {
		return nil
	}
	if data, ok := shared.get(key); ok {
		return data
	}
	data, err := h.payload(ch, info, t)
	if err != nil {
		h.app.Logger().Debug("realtime: payload", "collection", collection.Name, "id", ch.record.Id, "error", err)
		return nil
	}
	shared.put(key, data)
	return data
}

// everyone is the empty rule, which PocketBase's access check admits
// without a query.
var everyone = ""

// payloads holds one change's encoded payloads by options and viewer, for
// every owner's task; two tasks racing on one key both encode it, and
// either result is the same.
type payloads struct {
	mu   sync.Mutex
	data map[payloadKey][]byte
}

// payloadKey is a struct, not a concatenation: it is built once per
// recipient of a change, 500 times for a group of 500.
type payloadKey struct {
	options string
	viewer  viewer
}

func newPayloads() *payloads { return &payloads{data: map[payloadKey][]byte{}} }

func (p *payloads) get(key payloadKey) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	data, ok := p.data[key]
	return data, ok
}

func (p *payloads) put(key payloadKey, data []byte) {
	p.mu.Lock()
	p.data[key] = data
	p.mu.Unlock()
}

// current returns c's topics when its auth is still the one it was
// indexed under. PocketBase clears a connection's auth when its user's
// token key changes (a password change) or the user is deleted; such a
// connection receives nothing until it subscribes again with new auth.
// When owner is set, c must still count against it: a connection that
// subscribed again as someone else is served by that owner's tasks only,
// which keeps its messages in one queue, in commit order.
func (h *hub) current(c *conn, auth *core.Record, owner string) ([]topic, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if auth == nil || owner != "" && c.owner != owner {
		return nil, false
	}
	if c.superuser {
		return c.topics, auth.IsSuperuser()
	}
	return c.topics, c.user != "" && auth.Id == c.user && auth.Collection().Name == collections.Users
}

// viewer says whose view a payload is: every member with the same
// options sees the same payload of a group-scoped record, unless it is
// expanded (each expanded relation is filtered by the viewer's rules) or
// is a user (whose email only they see); superusers see hidden fields.
// Enrich hooks on group-scoped collections must therefore not depend on
// which member asks (Hearth's own do not; docs/hooks.md).
type viewer struct {
	kind string // "superuser", "user" or "member"
	user string // the user's id, for kind "user"
}

func viewerOf(auth *core.Record, collection *core.Collection, t topic) viewer {
	switch {
	case auth != nil && auth.IsSuperuser(): // RequestInfo.HasSuperuserAuth
		return viewer{kind: "superuser"}
	case t.options.Query["expand"] != "" || collection.IsAuth():
		return viewer{kind: "user", user: auth.Id}
	default:
		return viewer{kind: "member"}
	}
}

// groupsOf returns the groups of ch's record, whose members may receive
// it, and the user who may receive it as themselves (a users record); the
// group an update moved the record from is recipients' to add.
func (h *hub) groupsOf(ch *change) ([]string, string, error) {
	s := collections.SpecOf(ch.collection).Scope
	switch {
	case s.Members:
		return h.groupsOfUser(ch.record.Id), ch.record.Id, nil
	case s.Parent != "":
		groups, err := collections.GroupsOf(h.app, ch.record)
		var gone *collections.ParentGoneError
		if errors.As(err, &gone) {
			return nil, "", nil // no parent, no group: no member can see it
		}
		return groups, "", err
	default:
		groups, err := collections.GroupsOf(h.app, ch.record)
		return groups, "", err
	}
}

// errNoPayload reports a subscription that gets no message because an
// enrich hook failed or the record did not encode (the copy logged why).
var errNoPayload = errors.New("no payload: enrich hook or encoding failed")

// payload builds the message data as PocketBase's realtimeBroadcastRecord
// does for one subscription (realtimeRecordData is its code, verbatim).
func (h *hub) payload(ch *change, info *core.RequestInfo, t topic) ([]byte, error) {
	data, ok := realtimeRecordData(h.app, h.app, ch.action, ch.record, ch.record.Collection(), info.Auth, info, t.name, t.options)
	if !ok {
		return nil, errNoPayload
	}
	return data, nil
}
