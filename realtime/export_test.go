package realtime

import "github.com/pocketbase/pocketbase/core"

// Test access to the index of an app made by hearthtest.

func IsMember(app core.App, group, user string) bool { return hubOf(app).isMember(group, user) }

func SubscribedMembers(app core.App, group string) []string {
	return hubOf(app).subscribedMembers(group)
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
