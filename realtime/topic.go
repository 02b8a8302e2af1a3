package realtime

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// topicPrefix stores a Hearth topic in the PocketBase client's
// subscriptions. PocketBase's broadcast matches "name/...", "id/..." and
// "name?" prefixes, and a collection's name and id cannot contain ':'.
const topicPrefix = "hearth:"

// topic is one subscription Hearth delivers.
type topic struct {
	name       string // as the client sent it: the SSE event name
	collection string // the collection's name
	recordID   string // "" for the whole collection
	options    subscriptions.SubscriptionOptions
	optionsKey string // the raw options, for sharing encoded payloads
}

// matches reports whether t wants a change of collection's record id, and
// with which rule, as PocketBase's broadcast picks it: the view rule for a
// record's topic, the list rule for the collection's.
func (t topic) matches(collection *core.Collection, id string) (*string, bool) {
	if t.collection != collection.Name {
		return nil, false
	}
	if t.recordID == "" {
		return collection.ListRule, true
	}
	if t.recordID == id {
		return collection.ViewRule, true
	}
	return nil, false
}

// parseTopic returns the collection reference and record id of a topic in
// the forms PocketBase matches: "col/*", "col/id" and the deprecated "col",
// each optionally followed by "?options=...". ok is false for other forms,
// which PocketBase never matches either.
func parseTopic(sub string) (ref, recordID string, ok bool) {
	path, _, _ := strings.Cut(sub, "?")
	ref, rest, hasSlash := strings.Cut(path, "/")
	switch {
	case ref == "":
		return "", "", false
	case !hasSlash, rest == "*":
		return ref, "", true
	case rest != "" && !strings.Contains(rest, "/"):
		return ref, rest, true
	}
	return "", "", false
}

// split separates the topics Hearth delivers (those of group-scoped
// collections) from the ones left to PocketBase, and returns the list to
// store in the PocketBase client with Hearth's marked by topicPrefix.
func split(app core.App, subs []string) (stored []string, others int) {
	for _, sub := range subs {
		if sub == "" {
			continue
		}
		if ref, _, ok := parseTopic(sub); ok {
			if c, err := app.FindCachedCollectionByNameOrId(ref); err == nil && isScopedName(c.Name) {
				stored = append(stored, topicPrefix+sub)
				continue
			}
		}
		stored = append(stored, sub)
		others++
	}
	return stored, others
}

// hearthTopics reads back the Hearth topics of client, with the options
// as PocketBase's client parsed them.
func hearthTopics(app core.App, client subscriptions.Client) []topic {
	var out []topic
	for stored, options := range client.Subscriptions(topicPrefix) {
		name := strings.TrimPrefix(stored, topicPrefix)
		ref, id, _ := parseTopic(name)
		c, err := app.FindCachedCollectionByNameOrId(ref)
		if err != nil {
			continue
		}
		_, raw, _ := strings.Cut(name, "?")
		out = append(out, topic{name: name, collection: c.Name, recordID: id, options: options, optionsKey: raw})
	}
	return out
}
