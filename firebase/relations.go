package firebase

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// finish runs after the last document: references resolved (dangling
// ones cleared, or their records removed), the domain's invariants
// restored, and the run's records appended to the change log.
func (im *importer) finish() error {
	// The indexes come back first: what follows queries by them. This
	// also builds those a stopped earlier run left deferred.
	phase := im.phase
	if err := im.app.RunInTransaction(rebuildIndexes); err != nil {
		return err
	}
	phase("indexes built")
	names, err := im.runCollections()
	if err != nil {
		return err
	}
	db := im.app.NonconcurrentDB()
	if err := im.pageCache(db, lookupCacheKiB); err != nil {
		return err
	}
	// Back to PocketBase's size also when the end stops early.
	defer func() { _ = im.pageCache(db, 0) }()
	if err := im.app.RunInTransaction(func(tx core.App) error { return im.dangling(tx, names) }); err != nil {
		return err
	}
	phase("relations checked")
	if err := im.invariants(names); err != nil {
		return err
	}
	phase("invariants restored")
	if err := im.app.RunInTransaction(func(tx core.App) error { return im.logRun(tx, names) }); err != nil {
		return err
	}
	phase("change log written")
	return nil
}

// phases returns a function that writes, as a progress line, each step of
// the end of an import and the seconds it took: on a large import the end
// takes a while after the last document, and the lines say where.
func (im *importer) phases() func(string) {
	last := time.Now()
	return func(step string) {
		if im.opts.Progress == nil {
			return
		}
		now := time.Now()
		fmt.Fprintf(im.opts.Progress, "documents: %s (%.1f s)\n", step, now.Sub(last).Seconds())
		last = now
	}
}

// lookupCacheKiB is the page cache of the import's connection while the
// end of a run looks the run's records up in _firebase_docs (keyed by record)
// (dangling relations, invariants, the change log): 24 MiB. The cache
// costs more memory than its nominal size: the million-document import
// on a quiet machine peaked at 207 MB with 40 MiB and 183 MB with 24 MiB
// (same speed, 1 min 9 s and 1 min 7 s), and at 236 MB with 64 MiB,
// against 91 MB while loading; the target is under 200 MB.
// Index builds keep PocketBase's size: SQLite sorts in pieces of a page
// cache's size.
const lookupCacheKiB = 24576

// pageCache sets db's (the import's connection's) page cache to kib, or
// with 0 back to what it was when the import began. A dry run leaves it:
// its transaction is not on a tuned connection.
func (im *importer) pageCache(db dbx.Builder, kib int) error {
	if im.opts.DryRun || im.cacheWas == "" {
		return nil
	}
	v := im.cacheWas
	if kib > 0 {
		v = fmt.Sprint(-kib)
	}
	if _, err := db.NewQuery("PRAGMA cache_size = " + v).Execute(); err != nil {
		return fmt.Errorf("import documents: cache_size: %w", err)
	}
	return nil
}

// runCollections lists the Hearth collections this run wrote to, parents
// first (collections.Names), then any others.
func (im *importer) runCollections() ([]*core.Collection, error) {
	written := slices.Collect(maps.Keys(im.wrote))
	order := collections.Names()
	slices.SortFunc(written, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	out := make([]*core.Collection, 0, len(written))
	for _, name := range written {
		c, err := im.app.FindCachedCollectionByNameOrId(name)
		if err != nil {
			return nil, fmt.Errorf("import documents: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// inRun is the SQL condition that the record c of collection was
// written by this run. The dangling checks put it last, after the
// relation's own conditions: a table is then read in its order, each
// relation checked in its (smaller) target's id index, and only a record
// whose relation dangles is looked up in _firebase_docs. Starting from
// the run's rows of _firebase_docs instead reads the collection's
// records in id order, a random place of the table each (ids are keyed
// hashes), which was most of the end of a large import.
const inRun = "EXISTS (SELECT 1 FROM {{_firebase_docs}} r WHERE r.[[collection]] = {:collection} AND r.[[record]] = c.[[id]] AND r.[[run]] = {:run})"

// dangling finds the run's records whose relation names a record that is
// not there (a reference to a document missing from the export or left
// out of it). An optional relation is cleared; a record whose required
// relation dangles is removed, and so, in the next round, are the records
// that needed it (an RSVP of a removed event).
func (im *importer) dangling(tx core.App, cols []*core.Collection) error {
	for round := 0; ; round++ {
		removed := 0
		for _, c := range cols {
			var fields []*core.RelationField
			var targets []*core.Collection
			for _, f := range c.Fields {
				rf, ok := f.(*core.RelationField)
				if !ok || rf.IsMultiple() {
					continue
				}
				target, err := tx.FindCachedCollectionByNameOrId(rf.CollectionId)
				if err != nil {
					return fmt.Errorf("import documents: %s.%s: %w", c.Name, rf.Name, err)
				}
				fields, targets = append(fields, rf), append(targets, target)
			}
			some, err := im.anyDangling(tx, c, fields, targets)
			if err != nil {
				return err
			}
			if !some {
				continue
			}
			for i, rf := range fields {
				n, err := im.danglingField(tx, c, rf, targets[i])
				if err != nil {
					return err
				}
				removed += n
			}
		}
		if removed == 0 || round > 10 {
			return nil
		}
	}
}

// anyDangling reports whether a record of c has a dangling relation in
// any of fields: a pass over the distinct values of each field (read in
// order from the field's index, where there is one), each looked up once
// in its target, where most imports find none, before danglingField's
// pass over the run's records per field. It looks at every record of c,
// not only the run's: a record an earlier run left dangling makes the
// pass per field run, and that pass touches only this run's records.
func (im *importer) anyDangling(tx core.App, c *core.Collection, fields []*core.RelationField, targets []*core.Collection) (bool, error) {
	if len(fields) == 0 {
		return false, nil
	}
	checks := make([]string, len(fields))
	for i, rf := range fields {
		checks[i] = fmt.Sprintf(`SELECT 1 FROM (SELECT DISTINCT c.[[%s]] AS v FROM {{%s}} c WHERE c.[[%s]] != '') x
			WHERE NOT EXISTS (SELECT 1 FROM {{%s}} t WHERE t.[[id]] = x.v)`, rf.Name, c.Name, rf.Name, targets[i].Name)
	}
	var found []int
	err := tx.DB().NewQuery(strings.Join(checks, " UNION ALL ") + " LIMIT 1").Column(&found)
	if err != nil {
		return false, fmt.Errorf("import documents: dangling relations of %s: %w", c.Name, err)
	}
	return len(found) > 0, nil
}

func (im *importer) danglingField(tx core.App, c *core.Collection, rf *core.RelationField, target *core.Collection) (int, error) {
	where := fmt.Sprintf(`c.[[%s]] != '' AND NOT EXISTS (SELECT 1 FROM {{%s}} t WHERE t.[[id]] = c.[[%s]]) AND %s`,
		rf.Name, target.Name, rf.Name, inRun)
	params := dbx.Params{"run": im.run, "collection": c.Name}
	var found []struct {
		Path string `db:"path"`
		ID   string `db:"id"`
	}
	err := tx.DB().NewQuery(fmt.Sprintf(`SELECT d.[[path]] AS path, c.[[id]] AS id FROM {{%s}} c
		JOIN {{_firebase_docs}} d ON d.[[collection]] = {:collection} AND d.[[record]] = c.[[id]] AND d.[[run]] = {:run}
		WHERE %s`, c.Name, where)).Bind(params).All(&found)
	if err != nil {
		return 0, fmt.Errorf("import documents: dangling %s.%s: %w", c.Name, rf.Name, err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	what := "cleared"
	if rf.Required {
		what = "record removed"
	}
	for _, d := range found {
		im.rep.skip(c.Name, d.Path, fmt.Sprintf("%s refers to a %s record that is not in the export (%s)", rf.Name, target.Name, what))
	}
	if !rf.Required {
		_, err := tx.DB().NewQuery(fmt.Sprintf("UPDATE {{%s}} AS c SET [[%s]] = '' WHERE %s", c.Name, rf.Name, where)).Bind(params).Execute()
		if err != nil {
			return 0, fmt.Errorf("import documents: clear %s.%s: %w", c.Name, rf.Name, err)
		}
		// The record stays, so its count stays as it was.
		im.rep.count(c.Name).Skipped--
		return 0, nil
	}
	ids := make([]any, len(found))
	for i, d := range found {
		ids[i] = d.ID
	}
	if _, err := tx.DB().Delete(c.Name, dbx.In("id", ids...)).Execute(); err != nil {
		return 0, fmt.Errorf("import documents: remove %s: %w", c.Name, err)
	}
	if _, err := tx.DB().Delete("_firebase_docs", dbx.And(dbx.HashExp{"collection": c.Name}, dbx.In("record", ids...))).Execute(); err != nil {
		return 0, fmt.Errorf("import documents: remove %s: %w", c.Name, err)
	}
	for range found {
		im.rep.unwrite(c.Name)
	}
	return len(found), nil
}

// logRun appends one change-log row per record of a synced collection
// this run wrote (create when the run first wrote it, else update), in
// the order the records were first written (CROSS JOIN: the table is
// read in its order, and each record found by _firebase_docs' key), with
// the groups whose members see it, derived from the collection's
// collections.Spec.Scope; and an update of every user who became a
// member of a group in this run, so that co-members' devices learn them.
func (im *importer) logRun(tx core.App, cols []*core.Collection) (err error) {
	at := im.opts.Now().UnixMilli()
	if len(im.deferred) > 0 {
		// A large run's rows are appended without the change log's
		// indexes, which are built again in this same transaction.
		if err := deferIndexes(tx, changesTable); err != nil {
			return err
		}
		defer func() {
			if err == nil {
				err = im.pageCache(tx.DB(), 0)
			}
			if err == nil {
				err = rebuildIndexes(tx)
			}
		}()
	}
	for _, c := range cols {
		spec := collections.SpecOf(c.Name)
		if spec == nil || !spec.Synced {
			continue
		}
		groups, err := groupsSQL(spec)
		if err != nil {
			return err
		}
		// A users document updates a user the auth import created.
		op := "CASE WHEN d.[[first_run]] = {:run} THEN 'create' ELSE 'update' END"
		if c.Name == collections.Users {
			op = "'update'"
		}
		member := "''"
		if c.Name == collections.Memberships {
			member = "c.[[user]]"
		}
		_, err = tx.DB().NewQuery(fmt.Sprintf(`INSERT INTO {{%s}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
			SELECT {:at}, {:collection}, c.[[id]], %s, %s, %s
			FROM {{%s}} c CROSS JOIN {{_firebase_docs}} d ON d.[[collection]] = {:collection} AND d.[[record]] = c.[[id]]
			WHERE d.[[run]] = {:run} ORDER BY c.rowid`, changesTable, op, groups, member, c.Name)).
			Bind(dbx.Params{"at": at, "collection": c.Name, "run": im.run}).Execute()
		if err != nil {
			return fmt.Errorf("import documents: change log of %s: %w", c.Name, err)
		}
	}
	var members []string
	err = tx.DB().NewQuery(`SELECT DISTINCT m.[[user]] FROM {{memberships}} m
		JOIN {{_firebase_docs}} d ON d.[[collection]] = 'memberships' AND d.[[record]] = m.[[id]] AND d.[[run]] = {:run}
		WHERE m.[[user]] NOT IN (SELECT [[record]] FROM {{_firebase_docs}} WHERE [[run]] = {:run} AND [[collection]] = 'users')`).
		Bind(dbx.Params{"run": im.run}).Column(&members)
	if err != nil {
		return fmt.Errorf("import documents: members of the run: %w", err)
	}
	for len(members) > 0 {
		n := min(len(members), 500)
		if err := logUsers(tx, "update", members[:n], im.opts.Now()); err != nil {
			return err
		}
		members = members[n:]
	}
	return nil
}

// groupsSQL is the SQL expression, over the record c, of the groups
// collections.GroupsOf returns for it.
func groupsSQL(spec *collections.Spec) (string, error) {
	s := spec.Scope
	switch {
	case !s.Grouped():
		return "''", nil
	case s.Self:
		return "c.[[id]]", nil
	case s.Members:
		return "COALESCE((SELECT group_concat(ms.[[group]]) FROM {{memberships}} ms WHERE ms.[[user]] = c.[[id]]), '')", nil
	case s.Parent != "":
		parent := collections.SpecOf(s.Parent)
		if parent == nil || parent.Scope.Field == "" {
			return "", fmt.Errorf("import documents: the scope of %s's parent %s", spec.Name, s.Parent)
		}
		return fmt.Sprintf("COALESCE((SELECT p.[[%s]] FROM {{%s}} p WHERE p.[[id]] = c.[[%s]]), '')", parent.Scope.Field, s.Parent, s.Field), nil
	default:
		return fmt.Sprintf("c.[[%s]]", s.Field), nil
	}
}
