package realtime

import (
	"errors"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

type messageOut = subscriptions.Message

// decide returns, per recipient, the messages one change sends. The
// candidates come from the index; each one's subscriptions are then judged
// exactly as PocketBase's broadcast judges them.
func (h *hub) decide(ch *change) ([]delivery, error) {
	if !h.isLoaded() {
		return nil, nil // the index loads at the first subscription: no one has subscribed
	}
	groups, self, err := h.groupsOf(ch)
	if err != nil {
		return nil, err
	}
	candidates := h.candidates(groups, self)
	if len(candidates) == 0 {
		return nil, nil
	}
	collection := ch.record.Collection()
	encoded := map[string][]byte{}
	var out []delivery
	for _, c := range candidates {
		auth, _ := c.client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		topics, ok := h.current(c, auth)
		if !ok {
			continue
		}
		var msgs []messageOut
		for _, t := range topics {
			rule, match := t.matches(collection, ch.record.Id)
			if !match {
				continue
			}
			info := &core.RequestInfo{
				Context: core.RequestInfoContextRealtime,
				Method:  "GET",
				Query:   t.options.Query,
				Headers: t.options.Headers,
				Auth:    auth,
			}
			if !realtimeCanAccessRecord(h.app, ch.record, info, rule) {
				continue
			}
			key := t.optionsKey + "\x00" + viewerKey(info, collection, t)
			data, ok := encoded[key]
			if !ok {
				data, err = h.payload(ch, info, t)
				if err != nil {
					h.app.Logger().Debug("realtime: payload", "collection", collection.Name, "id", ch.record.Id, "error", err)
					continue
				}
				encoded[key] = data
			}
			msgs = append(msgs, messageOut{Name: t.name, Data: data})
		}
		if len(msgs) > 0 {
			out = append(out, delivery{conn: c, msgs: msgs})
		}
	}
	return out, nil
}

// current returns c's topics when its auth is still the one it was
// indexed under. PocketBase clears a connection's auth when its user's
// token key changes (a password change) or the user is deleted; such a
// connection receives nothing until it subscribes again with new auth.
func (h *hub) current(c *conn, auth *core.Record) ([]topic, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if auth == nil {
		return nil, false
	}
	if c.superuser {
		return c.topics, auth.IsSuperuser()
	}
	return c.topics, c.user != "" && auth.Id == c.user && auth.Collection().Name == collections.Users
}

// viewerKey says whose view a payload is: every member with the same
// options sees the same payload of a group-scoped record, unless it is
// expanded (each expanded relation is filtered by the viewer's rules) or
// is a user (whose email only they see); superusers see hidden fields.
// Enrich hooks on group-scoped collections must therefore not depend on
// which member asks (Hearth's own do not; docs/hooks.md).
func viewerKey(info *core.RequestInfo, collection *core.Collection, t topic) string {
	switch {
	case info.HasSuperuserAuth():
		return "superuser"
	case t.options.Query["expand"] != "" || collection.IsAuth():
		return "user:" + info.Auth.Id
	default:
		return "member"
	}
}

// groupsOf returns the groups whose members may receive ch, and the user
// who may receive it as themselves (a users record).
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
		if ch.oldGroup != "" {
			groups = append(groups, ch.oldGroup)
		}
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
