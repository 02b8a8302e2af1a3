package firebase_test

import (
	"strings"
	"testing"

	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/internal/hearthtest"
)

// A first import into empty tables inserts without an upsert (fresh in
// documents.go); a record that is there after all still gets the
// upsert's handling: a path twice in the export updates its record, a
// moved membership is refused as on a rerun, and a unique index's
// refusal is reported on its own document.
func TestFirstImportKeepsTheUpsertsHandling(t *testing.T) {
	app := hearthtest.NewApp(t)
	// The test app comes with seeded groups and memberships: a first
	// import's tables are empty.
	for _, table := range []string{"groups", "memberships"} {
		if _, err := app.DB().NewQuery("DELETE FROM " + table).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	uids, ids := importedUsers(t, app)
	user := func(i int) string { return `{"__datatype__": "documentReference", "value": "users/` + uids[i] + `"}` }
	export := strings.Join([]string{
		`{"path": "groups/g1", "data": {"name": "First"}}`,
		`{"path": "groups/g1/memberships/m1", "data": {"user": ` + user(0) + `, "role": "member"}}`,
		`{"path": "groups/g1/memberships/m2", "data": {"user": ` + user(0) + `, "role": "member"}}`,
		`{"path": "groups/g1/memberships/m1", "data": {"user": ` + user(1) + `, "role": "member"}}`,
		`{"path": "groups/g1", "data": {"name": "Second"}}`,
	}, "\n")
	rep := importDocs(t, app, export, firebase.DocOptions{})

	skips := skipsOf(rep)
	for _, want := range []string{
		"groups/g1/memberships/m2: constraint failed: UNIQUE constraint failed: memberships.group, memberships.user",
		"groups/g1/memberships/m1: group, user cannot change after creation",
	} {
		if !strings.Contains(skips, want) {
			t.Errorf("report lacks %q:\n%s", want, skips)
		}
	}
	if strings.Contains(skips, "groups/g1:") {
		t.Errorf("the group's second document was refused:\n%s", skips)
	}
	if c := rep.Counts["groups"]; c.Created != 1 || c.Updated != 1 {
		t.Errorf("groups counted %+v, want 1 created and 1 updated", c)
	}
	group := findByDoc(t, app, "groups", "groups/g1")
	if group.GetString("name") != "Second" {
		t.Errorf("group name %q, want the second document's", group.GetString("name"))
	}
	m1 := findByDoc(t, app, "memberships", "groups/g1/memberships/m1")
	if m1.GetString("user") != ids[0] {
		t.Errorf("membership moved to %q, want it kept with %q", m1.GetString("user"), ids[0])
	}
}
