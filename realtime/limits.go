package realtime

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/pocketbase/pocketbase/core"
)

// ownerKey names whose caps a subscription counts against: the signed-in
// account (of any auth collection, superusers included), or for a guest
// the client's IP address. Guests receive nothing from Hearth's
// dispatcher (only members and superusers are candidates), so their cap
// bounds PocketBase's path only; guests behind one address share it.
func ownerKey(auth *core.Record, ip string) string {
	if auth != nil {
		return "auth:" + auth.Collection().Id + "/" + auth.Id
	}
	return "ip:" + ip
}

// admitLocked checks c's new subscription (count topics, of which topics
// are Hearth's) against owner's caps, counting the owner's other
// connections, and returns those to close so that the owner keeps at most
// MaxConnsPerUser: the least recently subscribed. It changes nothing.
func (h *hub) admitLocked(c *conn, owner string, count int, topics []topic) ([]*conn, error) {
	if count == 0 {
		return nil, nil // a connection without topics costs no one anything
	}
	others := make([]*conn, 0, len(h.owners[owner]))
	for o := range h.owners[owner] {
		if o != c {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *conn) int { return cmp.Compare(a.since, b.since) })
	var evict []*conn
	if n := len(others) - (h.cfg.MaxConnsPerUser - 1); n > 0 {
		evict, others = others[:n], others[n:]
	}
	total := count
	sets := [][]topic{topics}
	for _, o := range others {
		total += o.count
		sets = append(sets, o.topics)
	}
	if total > h.cfg.MaxTopicsPerUser {
		return nil, subscriptionsError("validation_too_many_topics", fmt.Sprintf(
			"%d topics over your connections, at most %d are allowed (docs/access-rules.md, Realtime).", total, h.cfg.MaxTopicsPerUser))
	}
	if cost := changeCost(sets...); cost > h.cfg.MaxTopicsPerChange {
		return nil, subscriptionsError("validation_too_many_topics", fmt.Sprintf(
			"%d different topics over your connections match the same record, at most %d are allowed (docs/access-rules.md, Realtime).", cost, h.cfg.MaxTopicsPerChange))
	}
	return evict, nil
}

// changeCost returns how many distinct topics (by key) of the sets one
// change of a record can match at most: a collection's wildcard topics
// plus the topics of the one record changed.
func changeCost(sets ...[]topic) int {
	wild := map[string]map[string]struct{}{}       // collection → keys
	records := map[[2]string]map[string]struct{}{} // collection, id → keys
	add := func(m map[string]struct{}, key string) map[string]struct{} {
		if m == nil {
			m = map[string]struct{}{}
		}
		m[key] = struct{}{}
		return m
	}
	for _, set := range sets {
		for _, t := range set {
			if t.recordID == "" {
				wild[t.collection] = add(wild[t.collection], t.key)
			} else {
				k := [2]string{t.collection, t.recordID}
				records[k] = add(records[k], t.key)
			}
		}
	}
	perRecord := map[string]int{} // collection → the most keys of one record
	for k, keys := range records {
		perRecord[k[0]] = max(perRecord[k[0]], len(keys))
	}
	cost := 0
	for col, n := range perRecord {
		cost = max(cost, n+len(wild[col]))
	}
	for col, keys := range wild {
		cost = max(cost, len(keys)+perRecord[col])
	}
	return cost
}
