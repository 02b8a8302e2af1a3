package realtime

import "github.com/pocketbase/pocketbase/core"

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

// SetLimits changes the caps of subscriptions made from now on.
func SetLimits(app core.App, conns, topics, perChange int) {
	h := hubOf(app)
	h.mu.Lock()
	h.cfg.MaxConnsPerUser, h.cfg.MaxTopicsPerUser, h.cfg.MaxTopicsPerChange = conns, topics, perChange
	h.mu.Unlock()
}

// Snapshot is the copy of a written record that realtime delivers.
var Snapshot = snapshot
