package firebase_test

import (
	"strings"
	"testing"

	"github.com/crews/hearth/firebase"

	"github.com/crews/hearth/internal/hearthtest"
)

// TestDocsTableMigrationKeepsRowsAndDeferredIndexes: a data dir imported
// into before _firebase_docs was keyed by record keeps its rows (a rerun
// still finds its records), and a stopped import's list of dropped
// indexes loses those of the old table only: a rerun must not build them
// again beside the new key, and must still build the collections' own.
func TestDocsTableMigrationKeepsRowsAndDeferredIndexes(t *testing.T) {
	app := hearthtest.NewApp(t)
	mig := hearthtest.Migration(t, "_firebase_docs_by_record.go")
	if err := mig.Down(app); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO _firebase_docs (path, collection, record, run, first_run) VALUES ('groups/g1', 'groups', 'abc', 2, 1)`,
		`INSERT INTO _params (id, value) VALUES ('firebase_deferred_indexes',
			'[{"name":"idx_firebase_docs_record","sql":"CREATE INDEX idx_firebase_docs_record ON _firebase_docs (collection, record)"},{"name":"idx_rsvps_user","sql":"CREATE INDEX x"},{"name":"idx_firebase_docs_run","sql":"CREATE INDEX y"}]')`,
	} {
		if _, err := app.DB().NewQuery(q).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	if err := mig.Up(app); err != nil {
		t.Fatal(err)
	}
	var row struct {
		Path     string `db:"path"`
		Run      int    `db:"run"`
		FirstRun int    `db:"first_run"`
	}
	if err := app.DB().NewQuery("SELECT path, run, first_run FROM _firebase_docs WHERE collection = 'groups' AND record = 'abc'").One(&row); err != nil {
		t.Fatalf("the row is not kept under its record: %v", err)
	}
	if row.Path != "groups/g1" || row.Run != 2 || row.FirstRun != 1 {
		t.Fatalf("row %+v", row)
	}
	var list, idx string
	if err := app.DB().NewQuery("SELECT value FROM _params WHERE id = 'firebase_deferred_indexes'").Row(&list); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(list, "firebase_docs") || !strings.Contains(list, `"idx_rsvps_user"`) {
		t.Fatalf("deferred indexes after the migration: %s", list)
	}
	// One B-tree: the table, keyed by record, without an index of its own.
	if err := app.DB().NewQuery("SELECT group_concat(type || ' ' || name) FROM sqlite_master WHERE tbl_name = '_firebase_docs'").Row(&idx); err != nil {
		t.Fatal(err)
	}
	if idx != "table _firebase_docs" {
		t.Fatalf("_firebase_docs' schema objects: %s, want the table alone", idx)
	}
}

// TestProgressNamesTheEndsSteps: after the last document the import
// writes a progress line for each step of its end, in order, so that a
// large import's quiet minute after the documents says where it is.
func TestProgressNamesTheEndsSteps(t *testing.T) {
	app := hearthtest.NewApp(t)
	uids, _ := importedUsers(t, app)
	var out strings.Builder
	importDocs(t, app, crewsExport(uids), firebase.DocOptions{Progress: &out})
	at := 0
	for _, step := range []string{"documents: 15 read and written (", "documents: indexes built (", "documents: relations checked (",
		"documents: invariants restored (", "documents: change log written ("} {
		i := strings.Index(out.String()[at:], step)
		if i < 0 {
			t.Fatalf("progress lacks %q after position %d:\n%s", step, at, out.String())
		}
		at += i + len(step)
	}
}
