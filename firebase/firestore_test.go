package firebase_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

func readAll(t *testing.T, r firebase.DocReader) (docs []*firebase.Doc, rows []string) {
	t.Helper()
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			return docs, rows
		}
		var row *firebase.RowError
		if errors.As(err, &row) {
			rows = append(rows, row.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
}

func TestNodeExportFormat(t *testing.T) {
	const export = `{"__collections__": {"groups": {"g1": {
		"name": "G", "at": {"__datatype__": "timestamp", "value": {"_seconds": 1700000000, "_nanoseconds": 5}},
		"__collections__": {"messages": {"m1": {"ref": {"__datatype__": "documentReference", "value": "users/u1"},
			"where": {"__datatype__": "geopoint", "value": {"_latitude": 1.5, "_longitude": -2}},
			"nested": {"list": [{"__datatype__": "timestamp", "value": "2024-01-02T03:04:05Z"}]}, "__collections__": {}}}},
		"tail": true}}}}`
	r, err := firebase.NewDocReader(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	docs, rows := readAll(t, r)
	if len(docs) != 2 || len(rows) != 0 {
		t.Fatalf("docs %d rows %v", len(docs), rows)
	}
	m, g := docs[0], docs[1] // a subcollection's documents come before their parent ends
	if m.Path != "groups/g1/messages/m1" || g.Path != "groups/g1" {
		t.Fatalf("paths %s %s", m.Path, g.Path)
	}
	if g.Fields["tail"] != true || time.Time(g.Fields["at"].(firebase.Timestamp)).Unix() != 1700000000 {
		t.Fatalf("group fields %v", g.Fields)
	}
	if m.Fields["ref"] != firebase.Ref("users/u1") || m.Fields["where"] != (firebase.GeoPoint{Lat: 1.5, Lon: -2}) {
		t.Fatalf("message fields %v", m.Fields)
	}
	nested := m.Fields["nested"].(map[string]any)["list"].([]any)[0]
	if time.Time(nested.(firebase.Timestamp)).Year() != 2024 {
		t.Fatalf("nested timestamp %v", nested)
	}
}

func TestNDJSONMalformedLinesAreReportedAndReadingGoesOn(t *testing.T) {
	export := `{"path": "groups/g1", "data": {"name": "one"}}
{"path": "groups/g2", "data": {"name": "two"
{"path": "groups", "data": {}}
{"path": "groups/g3", "data": {"x": {"__datatype__": "nope", "value": 1}}}

{"path": "groups/g4", "data": {"name": "four"}}
`
	r, err := firebase.NewDocReader(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	docs, rows := readAll(t, r)
	if len(docs) != 2 || docs[1].Path != "groups/g4" {
		t.Fatalf("docs %v", docs)
	}
	want := []string{"line 2: not a JSON document", "line 3: path \"groups\" is not a document's path", "groups/g3: field x: unknown __datatype__"}
	if len(rows) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i, w := range want {
		if !strings.HasPrefix(rows[i], w) {
			t.Errorf("row %d = %q, want prefix %q", i, rows[i], w)
		}
	}
}

// A small Crews-shaped export in NDJSON, names deciding (no mapping):
// subcollections named like the Hearth collections, references as
// documentReference values, paths or bare uids, forward references (the
// RSVP before its event), and the failure modes: a value that does not
// fit the schema, a reference to a document not in the export (required
// and optional), a group whose owner is missing.
func crewsExport(uids [3]string) string {
	ref := func(p string) string { return fmt.Sprintf(`{"__datatype__": "documentReference", "value": %q}`, p) }
	ts := `{"__datatype__": "timestamp", "value": {"_seconds": 1900000000, "_nanoseconds": 0}}`
	lines := []string{
		`{"path": "events/e1/rsvps/r1", "data": {"user": ` + ref("users/"+uids[0]) + `, "status": "going"}}`,
		`{"path": "events/e1/rsvps/r2", "data": {"user": "` + uids[1] + `", "status": "going"}}`,
		`{"path": "events/e1/rsvps/r3", "data": {"user": ` + ref("users/"+uids[2]) + `, "status": "waitlisted"}}`,
		`{"path": "events/e1/rsvps/bad", "data": {"user": ` + ref("users/"+uids[2]) + `, "status": "perhaps"}}`,
		`{"path": "events/e1", "data": {"group": ` + ref("groups/g1") + `, "title": "Hike", "starts_at": ` + ts + `, "capacity": 2, "going_count": 99}}`,
		`{"path": "events/ghost/rsvps/r9", "data": {"user": "` + uids[0] + `", "status": "going"}}`,
		`{"path": "groups/g1", "data": {"name": "Hikers", "created_by": "users/` + uids[0] + `"}}`,
		`{"path": "groups/g1/memberships/m1", "data": {"user": ` + ref("users/"+uids[0]) + `, "role": "member"}}`,
		`{"path": "groups/g1/memberships/m2", "data": {"user": ` + ref("users/"+uids[1]) + `, "role": "member"}}`,
		`{"path": "groups/g1/memberships/m3", "data": {"user": ` + ref("users/"+uids[2]) + `, "role": "admin"}}`,
		`{"path": "groups/g1/messages/x1", "data": {"author": ` + ref("users/nobody") + `, "body": "from a deleted account"}}`,
		`{"path": "groups/g1/messages/x2", "data": {"author": ` + ref("users/"+uids[1]) + `, "body": 42}}`,
		`{"path": "groups/g1/messages/x3", "data": {"author": ` + ref("users/"+uids[1]) + `, "body": "hello", "reactions": {"👍": 2}}}`,
		`{"path": "analytics/a1", "data": {"n": 1}}`,
		`{"path": "groups/lonely", "data": {"name": "Nobody here"}}`,
	}
	return strings.Join(lines, "\n") + "\n"
}

func importDocs(t *testing.T, app core.App, export string, opts firebase.DocOptions) *firebase.Report {
	t.Helper()
	r, err := firebase.NewDocReader(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := firebase.ImportFirestore(app, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// importedUsers imports three Firebase users without passwords and
// returns their uids and Hearth ids.
func importedUsers(t *testing.T, app core.App) (uids [3]string, ids [3]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"users": [`)
	for i := range uids {
		uids[i] = fmt.Sprintf("uid%d-%s", i, strings.Repeat("x", 20))
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"localId": %q, "email": "u%d@import.test", "displayName": "U%d"}`, uids[i], i, i)
	}
	b.WriteString("]}")
	importAuth(t, app, b.String(), firebase.AuthOptions{})
	for i, uid := range uids {
		ids[i] = userByUID(t, app, uid).Id
	}
	return uids, ids
}

func skipsOf(rep *firebase.Report) string {
	var b strings.Builder
	for _, s := range rep.Skips {
		fmt.Fprintf(&b, "%s: %s\n", s.Where, s.Reason)
	}
	return b.String()
}

func TestImportFirestoreWithoutMapping(t *testing.T) {
	s := hearthtest.NewServer(t)
	app := s.App
	uids, ids := importedUsers(t, app)
	export := crewsExport(uids)
	rep := importDocs(t, app, export, firebase.DocOptions{})
	skips := skipsOf(rep)
	for _, want := range []string{
		"events/e1/rsvps/bad: status: ",
		"events/ghost/rsvps/r9: event refers to a events record that is not in the export (record removed)",
		"groups/g1/messages/x1: author refers to a users record that is not in the export (cleared)",
		"groups/g1/messages/x2: body: expects text, the document has a number",
		"groups/lonely: no member to be its owner (record removed)",
	} {
		if !strings.Contains(skips, want) {
			t.Errorf("report lacks %q:\n%s", want, skips)
		}
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "collection analytics: 1 documents not imported") ||
		!strings.Contains(strings.Join(rep.Notes, "\n"), "field messages.reactions") {
		t.Errorf("notes %v", rep.Notes)
	}

	if c := rep.Counts["groups"]; c.Created != 1 || c.Skipped != 1 {
		t.Errorf("groups counted %+v, want 1 created (the removed one taken back), 1 skipped", c)
	}
	if n, _ := app.CountRecords("groups", dbx.HashExp{"name": "Nobody here"}); n != 0 || idOfPath(t, app, "groups/lonely") != "missing:groups/lonely" {
		t.Error("a group without an owner was kept")
	}
	group := findByDoc(t, app, "groups", "groups/g1")
	event := findByDoc(t, app, "events", "events/e1")
	if event.GetString("group") != group.Id {
		t.Fatal("the event's reference is not its relation")
	}
	// Names decide: the subcollection's parent is its relation.
	rsvps, _ := app.FindRecordsByFilter("rsvps", "event = {:e}", "", 0, 0, dbx.Params{"e": event.Id})
	if len(rsvps) != 3 {
		t.Fatalf("%d rsvps on the event, want 3 (the bad one skipped)", len(rsvps))
	}
	// A bare uid and a reference both became the user's relation.
	r2 := findByDoc(t, app, "rsvps", "events/e1/rsvps/r2")
	if r2.GetString("user") != ids[1] {
		t.Fatalf("bare uid resolved to %q, want %q", r2.GetString("user"), ids[1])
	}
	// Invariants: going_count is the count (2), the waitlisted RSVP has
	// its place in line, the group got an owner (its creator), and the
	// dangling author was cleared while the message stayed.
	if event.GetInt("going_count") != 2 {
		t.Fatalf("going_count %d", event.GetInt("going_count"))
	}
	if r3 := findByDoc(t, app, "rsvps", "events/e1/rsvps/r3"); r3.GetString("status") != "waitlisted" || r3.GetDateTime("waitlisted_at").IsZero() {
		t.Fatalf("waitlisted rsvp %v", r3.FieldsData())
	}
	owners, _ := app.CountRecords("memberships", dbx.HashExp{"group": group.Id, "role": "owner", "user": ids[0]})
	if owners != 1 {
		t.Fatal("the group's creator is not its owner")
	}
	if x1 := findByDoc(t, app, "messages", "groups/g1/messages/x1"); x1.GetString("author") != "" || x1.GetString("group") != group.Id {
		t.Fatalf("message with a dangling author: %v", x1.FieldsData())
	}
	if n, _ := app.CountRecords("rsvps", dbx.HashExp{"id": idOfPath(t, app, "events/ghost/rsvps/r9")}); n != 0 {
		t.Fatal("an RSVP of a missing event was kept")
	}

	// The change log has every record, so a member's full sync sees them.
	token := hearthtest.Token(t, app, ids[1])
	sync := s.Do(t, http.MethodGet, "/api/sync?cursor=0&limit=1000", token, nil)
	if sync.Status != http.StatusOK {
		t.Fatalf("sync: %d %s", sync.Status, sync.Raw)
	}
	for _, id := range []string{group.Id, event.Id, r2.Id, ids[0], ids[2]} {
		if !strings.Contains(sync.Raw, `"id":"`+id+`"`) {
			t.Errorf("sync lacks %s", id)
		}
	}
	for _, hidden := range []string{"firebase_uid", "firebase_hash", "firebase_claims", uids[0]} {
		if strings.Contains(sync.Raw, hidden) {
			t.Errorf("sync shows %s", hidden)
		}
	}

	// A rerun updates the same records and duplicates nothing.
	before := counts(t, app)
	rep = importDocs(t, app, export, firebase.DocOptions{})
	if after := counts(t, app); after != before {
		t.Fatalf("rerun changed counts: %s -> %s", before, after)
	}
	if c := rep.Counts["events"]; c.Created != 0 || c.Updated != 1 {
		t.Fatalf("rerun events %+v", c)
	}
}

func findByDoc(t *testing.T, app core.App, collection, path string) *core.Record {
	t.Helper()
	rec, err := app.FindRecordById(collection, idOfPath(t, app, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec
}

func idOfPath(t *testing.T, app core.App, path string) string {
	t.Helper()
	var id string
	if err := app.DB().NewQuery("SELECT record FROM _firebase_docs WHERE path = {:p}").Bind(dbx.Params{"p": path}).Row(&id); err != nil {
		return "missing:" + path
	}
	return id
}

func counts(t *testing.T, app core.App) string {
	t.Helper()
	var out []string
	for _, c := range []string{"users", "groups", "memberships", "events", "rsvps", "messages", "_firebase_docs"} {
		var n int
		if err := app.DB().NewQuery("SELECT count(*) FROM " + c).Row(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", c, n))
	}
	return strings.Join(out, " ")
}

// failingReader stops with an error after n documents, as a killed or
// broken import would.
type failingReader struct {
	firebase.DocReader
	n int
}

func (f *failingReader) Next() (*firebase.Doc, error) {
	if f.n == 0 {
		return nil, errors.New("read: connection reset")
	}
	f.n--
	return f.DocReader.Next()
}

func TestStoppedImportResumesOnRerun(t *testing.T) {
	clean := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, clean)
	export := crewsExport(uids)
	importDocs(t, clean, export, firebase.DocOptions{})
	want := counts(t, clean)

	app := hearthtest.NewApp(t)
	importedUsers(t, app)
	r, _ := firebase.NewDocReader(strings.NewReader(export))
	_, err := firebase.ImportFirestore(app, &failingReader{DocReader: r, n: 7}, firebase.DocOptions{Batch: 3})
	if err == nil {
		t.Fatal("the stopped import reported no error")
	}
	if got := counts(t, app); got == want {
		t.Fatal("the stopped import wrote everything")
	}
	importDocs(t, app, export, firebase.DocOptions{Batch: 3})
	if got := counts(t, app); got != want {
		t.Fatalf("after the rerun: %s, want %s", got, want)
	}
}

func TestFirestoreDryRunWritesNothing(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, app)
	before := counts(t, app)
	var changes int
	_ = app.DB().NewQuery("SELECT count(*) FROM _hearth_changes").Row(&changes)
	rep := importDocs(t, app, crewsExport(uids), firebase.DocOptions{DryRun: true})
	if rep.Counts["rsvps"].Created != 3 || !rep.DryRun {
		t.Fatalf("dry run report %+v", rep.Counts["rsvps"])
	}
	var after int
	_ = app.DB().NewQuery("SELECT count(*) FROM _hearth_changes").Row(&after)
	if got := counts(t, app); got != before || after != changes {
		t.Fatalf("dry run wrote: %s -> %s, change log %d -> %d", before, got, changes, after)
	}
}

func TestMappingErrorsStopBeforeWriting(t *testing.T) {
	app := hearthtest.NewApp(t)
	for name, m := range map[string]*firebase.Mapping{
		"collection": {Collections: map[string]firebase.CollectionMapping{"members": {To: "memberz"}}},
		"field":      {Collections: map[string]firebase.CollectionMapping{"members": {To: "memberships", Fields: map[string]string{"uid": "usr"}}}},
		"parent":     {Collections: map[string]firebase.CollectionMapping{"members": {To: "memberships", Parent: "role"}}},
	} {
		r, _ := firebase.NewDocReader(strings.NewReader(`{"path": "groups/g/members/m", "data": {}}`))
		if _, err := firebase.ImportFirestore(app, r, firebase.DocOptions{Mapping: m}); err == nil {
			t.Errorf("%s: a bad mapping was accepted", name)
		}
	}
}

func TestFilesFromTheBucketCopy(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, app)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "covers"), 0o755); err != nil {
		t.Fatal(err)
	}
	png := hearthtest.PNG(t, 2000)
	if err := os.WriteFile(filepath.Join(dir, "covers", "Hikers Cover.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	export := `{"path": "groups/g1", "data": {"name": "Hikers", "created_by": "` + uids[0] + `", "coverPath": "gs://crews-app.appspot.com/covers/Hikers Cover.png"}}
{"path": "groups/g2", "data": {"name": "Missing", "created_by": "` + uids[0] + `", "coverPath": "covers/none.png"}}
{"path": "groups/g3", "data": {"name": "Sneaky", "created_by": "` + uids[0] + `", "coverPath": "../../etc/passwd"}}
`
	m := &firebase.Mapping{Collections: map[string]firebase.CollectionMapping{"groups": {Fields: map[string]string{"coverPath": "cover"}}}}
	rep := importDocs(t, app, export, firebase.DocOptions{Mapping: m, FilesDir: dir})
	skips := skipsOf(rep)
	if !strings.Contains(skips, "groups/g2: cover: covers/none.png: not in the --files directory") ||
		!strings.Contains(skips, "groups/g3: cover: \"../../etc/passwd\" is not a plain storage path") {
		t.Fatalf("skips:\n%s", skips)
	}
	g := findByDoc(t, app, "groups", "groups/g1")
	name := g.GetString("cover")
	if !strings.HasPrefix(name, "hikers_cover_") || !strings.HasSuffix(name, ".png") {
		t.Fatalf("cover %q", name)
	}
	fsys, err := app.NewFilesystem()
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	stored, err := fsys.GetReader(g.BaseFilesPath() + "/" + name)
	if err != nil {
		t.Fatalf("stored cover: %v", err)
	}
	defer stored.Close()
	got, _ := io.ReadAll(stored)
	if len(got) != len(png) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(png))
	}
}

// indexes lists the SQL of every index of the database.
func indexes(t *testing.T, app core.App) string {
	t.Helper()
	var list []string
	if err := app.DB().NewQuery("SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").Column(&list); err != nil {
		t.Fatal(err)
	}
	return strings.Join(list, "\n")
}

// A large import drops the secondary indexes while it writes and builds
// them at its end (DeferIndexesAfter, here from the first document): a
// run stopped in between leaves them recorded, and its rerun writes what
// an import with its indexes writes and builds them all again; the
// pragmas the import sets on its connection are PocketBase's again after.
func TestDeferredIndexesAreRebuiltAfterAStoppedRun(t *testing.T) {
	clean := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, clean)
	export := crewsExport(uids)
	allIndexes := indexes(t, clean)
	importDocs(t, clean, export, firebase.DocOptions{DeferIndexesAfter: -1})
	want := counts(t, clean)
	var wantChanges int
	if err := clean.DB().NewQuery("SELECT count(*) FROM _hearth_changes").Row(&wantChanges); err != nil {
		t.Fatal(err)
	}

	app := hearthtest.NewApp(t)
	importedUsers(t, app)
	pragmas := func() string {
		var temp, checkpoint string
		db := app.NonconcurrentDB()
		if err := db.NewQuery("PRAGMA temp_store").Row(&temp); err != nil {
			t.Fatal(err)
		}
		if err := db.NewQuery("PRAGMA wal_autocheckpoint").Row(&checkpoint); err != nil {
			t.Fatal(err)
		}
		return temp + " " + checkpoint
	}
	before := pragmas()
	r, _ := firebase.NewDocReader(strings.NewReader(export))
	opts := firebase.DocOptions{Batch: 3, DeferIndexesAfter: 1}
	if _, err := firebase.ImportFirestore(app, &failingReader{DocReader: r, n: 7}, opts); err == nil {
		t.Fatal("the stopped import reported no error")
	}
	stopped := indexes(t, app)
	if strings.Contains(stopped, "idx_rsvps_user") {
		t.Error("idx_rsvps_user was not deferred")
	}
	if !strings.Contains(stopped, "idx_rsvps_event_user") {
		t.Error("a unique index was dropped")
	}
	var recorded int
	if err := app.DB().NewQuery("SELECT count(*) FROM _params WHERE id = 'firebase_deferred_indexes'").Row(&recorded); err != nil || recorded != 1 {
		t.Fatalf("the dropped indexes are not recorded (%d, %v)", recorded, err)
	}

	importDocs(t, app, export, opts)
	if got := counts(t, app); got != want {
		t.Fatalf("after the rerun: %s, want %s", got, want)
	}
	// The import's own pragmas are gone: the connection is PocketBase's again.
	if after := pragmas(); after != before {
		t.Fatalf("the import's pragmas stayed: %s, PocketBase's were %s", after, before)
	}
	var changes int
	if err := app.DB().NewQuery("SELECT count(*) FROM _hearth_changes").Row(&changes); err != nil || changes != wantChanges {
		t.Fatalf("change log rows %d, want %d (%v)", changes, wantChanges, err)
	}
	if got := indexes(t, app); got != allIndexes {
		t.Fatalf("indexes after the rerun:\n%s\nwant:\n%s", got, allIndexes)
	}
	if err := app.DB().NewQuery("SELECT count(*) FROM _params WHERE id = 'firebase_deferred_indexes'").Row(&recorded); err != nil || recorded != 0 {
		t.Fatalf("the record of the dropped indexes stayed (%d, %v)", recorded, err)
	}
}
