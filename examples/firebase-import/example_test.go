// Package firebaseimport_test imports this directory's export of a small
// Crews-like Firebase app into a fresh Hearth with the real binary, as
// docs/firebase-import.md tells, and checks it through the HTTP API: a
// migrated user signs in with the old Firebase password twice (the first
// sign-in checks the Firebase hash, the second is an ordinary one) and
// sees the relation graph the export held.
package firebaseimport_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
)

var bin string

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

func run(t *testing.T, args ...string) string {
	t.Helper()
	res := hearthbin.Run(t, bin, nil, args...)
	if res.ExitCode != 0 {
		t.Fatalf("hearth %s: exit %d\n%s", strings.Join(args, " "), res.ExitCode, res.Output)
	}
	return res.Output
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// list returns the items of a records list as the user sees them.
func (c *client) list(collection string, query url.Values) []map[string]any {
	c.t.Helper()
	status, body := c.do(http.MethodGet, "/api/collections/"+collection+"/records?"+query.Encode(), "")
	if status != http.StatusOK {
		c.t.Fatalf("list %s: %d %v", collection, status, body)
	}
	var items []map[string]any
	for _, it := range body["items"].([]any) {
		items = append(items, it.(map[string]any))
	}
	return items
}

func expanded(item map[string]any, field, key string) string {
	e, _ := item["expand"].(map[string]any)
	r, _ := e[field].(map[string]any)
	s, _ := r[key].(string)
	return s
}

func TestExampleImport(t *testing.T) {
	dir := t.TempDir()
	run(t, "migrate", "up", "--dir", dir)
	out := run(t, "import", "firebase", "auth", abs(t, "export/users.json"), "--hash-config", abs(t, "hash-config.json"), "--dir", dir)
	if !strings.Contains(out, "users       3        0        0") {
		t.Fatalf("auth import:\n%s", out)
	}
	out = run(t, "import", "firebase", "firestore", abs(t, "export/firestore.json"), "--mapping", abs(t, "mapping.json"), "--dir", dir)
	for _, want := range []string{"groups       1", "memberships  3", "messages     2", "rsvps        3", "events       1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("firestore import lacks %q:\n%s", want, out)
		}
	}

	addr := hearthbin.FreeAddr(t)
	srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir})
	alice := &client{t: t, base: srv.URL}

	// Twice with the Firebase password: the first verifies Firebase's
	// scrypt and stores a PocketBase hash, the second is an ordinary one.
	var id string
	for i := 1; i <= 2; i++ {
		status, body := alice.do(http.MethodPost, "/api/collections/users/auth-with-password",
			`{"identity":"alice@crews.example","password":"alice-firebase-pw"}`)
		if status != http.StatusOK {
			t.Fatalf("sign-in %d: %d %v", i, status, body)
		}
		alice.token = body["token"].(string)
		id = body["record"].(map[string]any)["id"].(string)
	}
	status, me := alice.do(http.MethodGet, "/api/collections/users/records/"+id, "")
	if status != http.StatusOK || me["name"] != "Alice Archer" || me["verified"] != true {
		t.Fatalf("own record: %d %v", status, me)
	}
	for _, hidden := range []string{"firebase_uid", "firebase_hash", "firebase_claims", "disabled", "password"} {
		if _, ok := me[hidden]; ok {
			t.Errorf("%s readable: %v", hidden, me)
		}
	}

	// The relation graph, as Alice sees it.
	groups := alice.list("groups", nil)
	if len(groups) != 1 || groups[0]["name"] != "Climbers" || groups[0]["created_by"] != id {
		t.Fatalf("groups %v", groups)
	}
	group := groups[0]["id"].(string)
	members := alice.list("memberships", url.Values{"filter": {fmt.Sprintf("group = %q", group)}, "expand": {"user"}, "sort": {"user.name"}})
	var roster []string
	for _, m := range members {
		roster = append(roster, expanded(m, "user", "name")+":"+m["role"].(string))
	}
	if got := strings.Join(roster, ","); got != "Alice Archer:owner,Bob Baker:member,Carol:member" {
		t.Fatalf("members %s", got)
	}
	messages := alice.list("messages", url.Values{"filter": {fmt.Sprintf("group = %q", group)}, "expand": {"author"}, "sort": {"created"}})
	if len(messages) != 2 || messages[0]["body"] != "Who brings the rope?" || expanded(messages[0], "author", "name") != "Bob Baker" ||
		!strings.HasPrefix(messages[0]["created"].(string), "2023-11-14 22:46:40.5") || expanded(messages[1], "author", "name") != "Alice Archer" {
		t.Fatalf("messages %v", messages)
	}
	events := alice.list("events", url.Values{"expand": {"group"}})
	if len(events) != 1 || expanded(events[0], "group", "name") != "Climbers" || events[0]["created_by"] != id {
		t.Fatalf("events %v", events)
	}
	// Capacity 2, Alice going and Bob waitlisted in Firebase (its
	// goingCount of 7 was left out): the recount promotes Bob.
	if events[0]["going_count"] != float64(2) {
		t.Fatalf("going_count %v", events[0]["going_count"])
	}
	rsvps := alice.list("rsvps", url.Values{"filter": {fmt.Sprintf("event = %q", events[0]["id"])}, "expand": {"user"}, "sort": {"user.name"}})
	var answers []string
	for _, r := range rsvps {
		answers = append(answers, expanded(r, "user", "name")+":"+r["status"].(string))
	}
	if got := strings.Join(answers, ","); got != "Alice Archer:going,Bob Baker:going,Carol:maybe" {
		t.Fatalf("rsvps %s", got)
	}

	// A phone's first sync sees the imported records.
	status, sync := alice.do(http.MethodGet, "/api/sync?cursor=0", "")
	if status != http.StatusOK {
		t.Fatalf("sync: %d %v", status, sync)
	}
	seen := map[string]int{}
	for _, c := range sync["changes"].([]any) {
		seen[c.(map[string]any)["collection"].(string)]++
	}
	if seen["groups"] != 1 || seen["memberships"] != 3 || seen["messages"] != 2 || seen["events"] != 1 || seen["rsvps"] != 3 || seen["users"] != 3 {
		t.Fatalf("sync saw %v", seen)
	}
}
