package realtime_test

import (
	"encoding/json/v2"
	"net/http"
	"net/url"
	"testing"

	"github.com/crews/hearth/internal/hearthtest"
)

// topicWith returns base with options whose query is query, encoded as
// the SDK encodes them.
func topicWith(t *testing.T, base string, query map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	return base + "?options=" + url.QueryEscape(string(raw))
}

// fieldCode returns the code of field in a 400's body, or "".
func fieldCode(t *testing.T, body, field string) string {
	t.Helper()
	var res struct {
		Data map[string]struct {
			Code string `json:"code"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return res.Data[field].Code
}

// The oracle: a filter through back-relations asks, on every
// change, a question about another crew's invite code. Refused whether
// the topic goes to Hearth's dispatcher (groups) or to PocketBase's
// broadcast (devices), written with the reserved prefix or not, and in
// any spelling the dispatcher reads as the same collection.
func TestForbiddenFilterRefusedOnBothPaths(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	s := connect(t, app, srv, hearthtest.Carol)
	oracle := `memberships_via_group.user.memberships_via_user.group.invites_via_group.code !~ "A%"`
	groups := topicWith(t, "groups/*", map[string]any{"filter": oracle})
	devices := topicWith(t, "devices/*", map[string]any{"filter": `user.memberships_via_user.group.invites_via_group.code ~ "A%"`})
	for _, c := range []struct {
		name, topic, field, code string
	}{
		{"Hearth path", groups, "filter", "validation_path_not_allowed"},
		{"Hearth path, upper case", topicWith(t, "GROUPS/*", map[string]any{"filter": oracle}), "filter", "validation_path_not_allowed"},
		{"Hearth path, one record", topicWith(t, "groups/"+hearthtest.Climbers, map[string]any{"filter": oracle}), "filter", "validation_path_not_allowed"},
		{"PocketBase path", devices, "filter", "validation_path_not_allowed"},
		{"reserved prefix, Hearth path", "hearth:" + groups, "subscriptions", "validation_reserved_topic"},
		{"reserved prefix, PocketBase path", "hearth:" + devices, "subscriptions", "validation_reserved_topic"},
		{"reserved prefix in capitals", "HEARTH:" + groups, "subscriptions", "validation_reserved_topic"},
		{"reserved prefix without options", "hearth:messages/*", "subscriptions", "validation_reserved_topic"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := subscribeAnswer(t, app, srv, s.id, hearthtest.Carol, "messages/*", c.topic)
			if code != http.StatusBadRequest || fieldCode(t, body, c.field) != c.code {
				t.Fatalf("want 400 with %s %s, got %d %s", c.field, c.code, code, body)
			}
		})
	}
	// The filter policy is not the superuser's (the prefix is everyone's).
	root := connect(t, app, srv, "superuser")
	if code, body := subscribeAnswer(t, app, srv, root.id, "superuser", groups, devices); code != http.StatusNoContent {
		t.Errorf("superuser: want 204, got %d %s", code, body)
	}
	if code, _ := subscribeAnswer(t, app, srv, root.id, "superuser", "hearth:"+groups); code != http.StatusBadRequest {
		t.Errorf("superuser with the reserved prefix: want 400, got %d", code)
	}
	// Allowed filters pass on both paths.
	allowed := []string{
		topicWith(t, "groups/*", map[string]any{"filter": `name != ""`}),
		topicWith(t, "devices/*", map[string]any{"filter": `platform = "ios"`}),
	}
	if code, body := subscribeAnswer(t, app, srv, s.id, hearthtest.Carol, allowed...); code != http.StatusNoContent {
		t.Errorf("allowed filters: want 204, got %d %s", code, body)
	}
}

// Options the server cannot attach to a collection are refused rather
// than left unchecked: nothing could say which paths their filter may use.
func TestUnresolvableOptionsFailClosed(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	s := connect(t, app, srv, hearthtest.Carol)
	filter := map[string]any{"filter": `id != ""`}
	for _, c := range []struct {
		name, topic, code string
	}{
		{"unknown collection", topicWith(t, "nosuch/*", filter), "validation_invalid_options"},
		{"unparsable collection reference", topicWith(t, "messages/a/b", filter), "validation_invalid_options"},
		{"empty collection reference", topicWith(t, "/*", filter), "validation_invalid_options"},
		{"options that do not decode", "messages/*?options=" + url.QueryEscape(`{"query":{"filter":"id != ''"}`), "validation_invalid_options"},
		// PocketBase's client would read no options at all from it.
		{"not a URL", topicWith(t, "messages/*\x01", filter), "validation_invalid_topic"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := subscribeAnswer(t, app, srv, s.id, hearthtest.Carol, c.topic)
			if code != http.StatusBadRequest || fieldCode(t, body, "subscriptions") != c.code {
				t.Fatalf("want 400 naming subscriptions (%s), got %d %s", c.code, code, body)
			}
		})
	}
	// Topics without options that name no collection stay PocketBase's
	// (custom topics of JS hooks, "@oauth2").
	if code, body := subscribeAnswer(t, app, srv, s.id, hearthtest.Carol, "@oauth2", "nosuch/*"); code != http.StatusNoContent {
		t.Errorf("topics without options: want 204, got %d %s", code, body)
	}
}
