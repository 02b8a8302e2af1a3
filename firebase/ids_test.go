package firebase_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
)

// publicID is the id a client could compute for a Firestore path without
// the data dir's key: the importer's first derivation, 15 characters of
// the path's plain SHA-256 in base 36.
func publicID(path string) string {
	sum := sha256.Sum256([]byte(path))
	s := new(big.Int).SetBytes(sum[:]).Text(36)
	for len(s) < 15 {
		s = "0" + s
	}
	return s[:15]
}

// TestImportedIdsCannotBeTaken is the review's attack on ids that follow
// from paths alone: before the import, a signed-up user takes the id a
// Firebase user would get (their uid is in every document that names
// them) and creates a group under the id of a crew's document. With such
// ids the users' import stopped on the taken id (and a Firestore import
// run anyway would have pointed that user's memberships at the attacker's
// account), and the crew's import overwrote the attacker's group, whose
// owner they stayed.
func TestImportedIdsCannotBeTaken(t *testing.T) {
	s := hearthtest.NewServer(t)
	app := s.App
	// importedUsers' uids, known to the attacker before the import.
	var uids [3]string
	for i := range uids {
		uids[i] = fmt.Sprintf("uid%d-%s", i, strings.Repeat("x", 20))
	}

	signUp := s.Do(t, http.MethodPost, "/api/collections/users/records", "", map[string]any{
		"id": publicID("users/" + uids[1]), "email": "taker@evil.test", "name": "Taker",
		"password": "password-123456", "passwordConfirm": "password-123456"})
	if signUp.Status != http.StatusOK {
		t.Fatalf("sign-up with a chosen id: %d %s", signUp.Status, signUp.Raw)
	}
	taker := signUp.Body["id"].(string)
	token := hearthtest.Token(t, app, taker)
	group := s.Do(t, http.MethodPost, "/api/collections/groups/records", token, map[string]any{"id": publicID("groups/g1"), "name": "Mine"})
	if group.Status != http.StatusOK {
		t.Fatalf("group with a chosen id: %d %s", group.Status, group.Raw)
	}
	mine := group.Body["id"].(string)

	_, ids := importedUsers(t, app) // fails the test if the import stops
	if ids[1] == taker {
		t.Fatal("the Firebase user was imported into the taker's account")
	}
	importDocs(t, app, crewsExport(uids), firebase.DocOptions{})

	crew := findByDoc(t, app, "groups", "groups/g1")
	if crew.Id == mine {
		t.Fatal("the crew was written over the taker's group")
	}
	if g, err := app.FindRecordById("groups", mine); err != nil || g.GetString("name") != "Mine" {
		t.Fatalf("the taker's group was changed: %v %v", g, err)
	}
	var theirs []struct {
		Group string `db:"group"`
	}
	if err := app.RecordQuery("memberships").Select("group").AndWhere(dbx.HashExp{"user": taker}).All(&theirs); err != nil {
		t.Fatal(err)
	}
	if len(theirs) != 1 || theirs[0].Group != mine {
		t.Fatalf("the taker is in groups %v, want only their own %s", theirs, mine)
	}
	if n, _ := app.CountRecords("memberships", dbx.HashExp{"group": crew.Id, "user": ids[1]}); n != 1 {
		t.Fatal("the Firebase user is not a member of their crew")
	}
}

// TestImportedIdsDependOnTheDataDir: the same export gives other ids in
// another data dir (the key is the data dir's), and the same ids on a
// rerun in the same one (TestImportFirestoreWithoutMapping's rerun).
func TestImportedIdsDependOnTheDataDir(t *testing.T) {
	var first [3]string
	for round := range 2 {
		app := hearthtest.NewApp(t)
		uids, ids := importedUsers(t, app)
		importDocs(t, app, crewsExport(uids), firebase.DocOptions{})
		got := [3]string{ids[1], findByDoc(t, app, "groups", "groups/g1").Id, findByDoc(t, app, "events", "events/e1").Id}
		for i, id := range got {
			if id == publicID([]string{"users/" + uids[1], "groups/g1", "events/e1"}[i]) {
				t.Fatalf("id %s follows from its path alone", id)
			}
		}
		if round == 1 && got == first {
			t.Fatalf("two data dirs gave the same ids %v", got)
		}
		first = got
	}
}

// TestRerunKeepsFixedFields: a rerun whose membership document now names
// another group is reported and changes nothing. The import wrote it with
// SQL, which the server's realtime index does not see: beside a live
// server, the member would have stayed admitted to the group they left.
func TestRerunKeepsFixedFields(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, ids := importedUsers(t, app)
	export := crewsExport(uids) + `{"path": "groups/g2", "data": {"name": "Elsewhere", "created_by": "users/` + uids[1] + `"}}` + "\n"
	importDocs(t, app, export, firebase.DocOptions{})
	g1 := findByDoc(t, app, "groups", "groups/g1")
	m1 := findByDoc(t, app, "memberships", "groups/g1/memberships/m1")

	moved := strings.Replace(export, `{"path": "groups/g1/memberships/m1", "data": {`, `{"path": "groups/g1/memberships/m1", "data": {"group": {"__datatype__": "documentReference", "value": "groups/g2"}, `, 1)
	if moved == export {
		t.Fatal("the export has no membership m1 to move")
	}
	rep := importDocs(t, app, moved, firebase.DocOptions{})
	if want := "groups/g1/memberships/m1: group, user cannot change after creation"; !strings.Contains(skipsOf(rep), want) {
		t.Errorf("report lacks %q:\n%s", want, skipsOf(rep))
	}
	if got := findByDoc(t, app, "memberships", "groups/g1/memberships/m1"); got.Id != m1.Id || got.GetString("group") != g1.Id || got.GetString("user") != ids[0] {
		t.Fatalf("the membership moved: %v", got.FieldsData())
	}
}

// TestSubcollectionIdsShareTheirTopLevelPrefix: a subcollection
// document's id begins as its top-level document's does (7 characters),
// so that an export's documents of one parent land in one place of
// their table's id index; the rest is the document's own, and the
// rsvps read before their event (a forward reference) still point to
// it.
func TestSubcollectionIdsShareTheirTopLevelPrefix(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, app)
	importDocs(t, app, crewsExport(uids), firebase.DocOptions{})
	g1, e1 := findByDoc(t, app, "groups", "groups/g1"), findByDoc(t, app, "events", "events/e1")
	m1, m2 := findByDoc(t, app, "memberships", "groups/g1/memberships/m1"), findByDoc(t, app, "memberships", "groups/g1/memberships/m2")
	r1 := findByDoc(t, app, "rsvps", "events/e1/rsvps/r1")
	for _, c := range []struct{ child, parent string }{{m1.Id, g1.Id}, {m2.Id, g1.Id}, {r1.Id, e1.Id}} {
		if len(c.child) != 15 || c.child[:7] != c.parent[:7] || c.child[7:] == c.parent[7:] {
			t.Errorf("id %s under %s: want its parent's first 7 characters and its own 8", c.child, c.parent)
		}
	}
	if m1.Id[7:] == m2.Id[7:] || g1.Id[:7] == e1.Id[:7] {
		t.Errorf("ids %s %s, %s %s are not their own", m1.Id, m2.Id, g1.Id, e1.Id)
	}
	if r1.GetString("event") != e1.Id {
		t.Errorf("rsvp read before its event points to %q, want %s", r1.GetString("event"), e1.Id)
	}
}

// TestFlatIdsStayWhereDocumentsWereImported: a data dir whose documents
// were imported before ids were clustered (its key and _firebase_docs
// rows there, no clustered_ids row) keeps each document's id the HMAC of
// its own path, so that a rerun updates the records the first run wrote.
func TestFlatIdsStayWhereDocumentsWereImported(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, app) // creates the key and the clustered_ids row
	for _, q := range []string{
		"DELETE FROM _params WHERE id = 'hearth_firebase_clustered_ids'",
		"INSERT INTO _firebase_docs (collection, record, path, run, first_run) VALUES ('groups', 'earlier', 'groups/earlier', 1, 1)",
	} {
		if _, err := app.DB().NewQuery(q).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	importDocs(t, app, crewsExport(uids), firebase.DocOptions{})
	var stored string
	if err := app.DB().NewQuery("SELECT json_extract(value, '$') FROM _params WHERE id = 'hearth_firebase_id_key'").Row(&stored); err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(stored)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("groups/g1/memberships/m1"))
	want := new(big.Int).SetBytes(mac.Sum(nil)).Text(36)
	for len(want) < 15 {
		want = "0" + want
	}
	if got := findByDoc(t, app, "memberships", "groups/g1/memberships/m1").Id; got != want[:15] {
		t.Fatalf("membership id %s, want the flat %s", got, want[:15])
	}
}
