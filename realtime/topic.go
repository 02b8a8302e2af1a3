package realtime

import (
	"encoding/json/v2"
	"fmt"
	"net/url"
	"strings"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// topicPrefix stores a Hearth topic in the PocketBase client's
// subscriptions. PocketBase's broadcast matches "name/...", "id/..." and
// "name?" prefixes, and a collection's name and id cannot contain ':'.
// A client may not send it: its topics would reach Hearth's dispatcher
// without being read as Hearth's.
const topicPrefix = "hearth:"

// topic is one subscription Hearth delivers.
type topic struct {
	name       string // as the client sent it: the SSE event name
	collection string // the collection's name
	recordID   string // "" for the whole collection
	options    subscriptions.SubscriptionOptions
	optionsKey string // the options, canonical: equal options share encoded payloads
	key        string // collection, record id and options: equal keys are one question per user and change
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

// subscription is one topic of a subscribe request as it will be stored
// in the PocketBase client and read by whoever delivers it: Hearth's
// dispatcher (hearth set) or PocketBase's broadcast.
type subscription struct {
	stored     string                            // with topicPrefix when Hearth delivers it
	collection *core.Collection                  // nil when the topic names no collection
	options    subscriptions.SubscriptionOptions // as PocketBase's client parsed them
	hearth     *topic
}

// readSubscriptions reads the topics of a subscribe request once, the way
// they will be consumed: the collection with parseTopic (the dispatcher's
// reading), the options with PocketBase's own client (which both the
// dispatcher, through Client.Subscriptions, and PocketBase's broadcast
// read). The policy then judges exactly what will be evaluated. A topic
// with the reserved prefix, options that do not decode, and options on a
// topic that names no collection (nothing could tell which paths its
// filter may use) are refused.
func readSubscriptions(app core.App, subs []string) ([]subscription, error) {
	var out []subscription
	var stored []string
	for _, sub := range subs {
		if sub == "" {
			continue // PocketBase's client skips empty topics
		}
		if len(sub) >= len(topicPrefix) && strings.EqualFold(sub[:len(topicPrefix)], topicPrefix) {
			return nil, subscriptionsError("validation_reserved_topic",
				fmt.Sprintf("%q: topics starting with %q are reserved for the server.", sub, topicPrefix))
		}
		s := subscription{stored: sub}
		if ref, _, ok := parseTopic(sub); ok {
			if c, err := app.FindCachedCollectionByNameOrId(ref); err == nil {
				s.collection = c
			}
		}
		if s.collection != nil && isScopedName(s.collection.Name) {
			s.stored = topicPrefix + sub
		}
		if err := checkOptions(s, sub); err != nil {
			return nil, err
		}
		out = append(out, s)
		stored = append(stored, s.stored)
	}

	parser := subscriptions.NewDefaultClient()
	parser.Subscribe(stored...)
	parsed := parser.Subscriptions()
	for i := range out {
		s := &out[i]
		s.options = parsed[s.stored]
		if !strings.HasPrefix(s.stored, topicPrefix) {
			continue
		}
		name := strings.TrimPrefix(s.stored, topicPrefix)
		_, id, _ := parseTopic(name)
		canonical, err := json.Marshal(s.options, json.Deterministic(true))
		if err != nil {
			return nil, fmt.Errorf("realtime: encode the options of %q: %w", name, err)
		}
		recordPart := id
		if id == "" {
			recordPart = "*"
		}
		s.hearth = &topic{
			name: name, collection: s.collection.Name, recordID: id, options: s.options,
			optionsKey: string(canonical),
			key:        s.collection.Name + "/" + recordPart + "?" + string(canonical),
		}
	}
	return out, nil
}

// checkOptions refuses the options of s that PocketBase's client would
// read partly or not at all, and options on a topic of no collection.
// sub is the topic as the client sent it, for the message.
func checkOptions(s subscription, sub string) error {
	u, err := url.Parse(s.stored)
	if err != nil {
		if strings.Contains(sub, "?") {
			// PocketBase's client would read no options from it: a filter
			// the client believes applies would not.
			return subscriptionsError("validation_invalid_topic", fmt.Sprintf("%q is not a valid topic: %v.", sub, err))
		}
		return nil
	}
	raw := u.Query().Get("options")
	if raw == "" {
		return nil
	}
	// PocketBase's client ignores options that do not decode, but the
	// decoder may have filled part of them before it failed.
	var options struct {
		Query   map[string]any `json:"query"`
		Headers map[string]any `json:"headers"`
	}
	if err := json.Unmarshal([]byte(raw), &options); err != nil {
		return subscriptionsError("validation_invalid_options", fmt.Sprintf("options of %q: %v", sub, err))
	}
	if s.collection == nil {
		return subscriptionsError("validation_invalid_options",
			fmt.Sprintf("%q has options but names no collection (use name/*, name/ID or name).", sub))
	}
	return nil
}

// subscriptionsError is the 400 naming the request's subscriptions field.
func subscriptionsError(code, message string) error {
	return &collections.Error{Code: collections.EINVALID, Message: "Invalid subscriptions.", Fields: map[string]collections.FieldError{
		"subscriptions": {Code: code, Message: message},
	}}
}
