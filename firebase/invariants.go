package firebase

import (
	"fmt"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// invariants restores what the domain's hooks keep true on every save,
// for the records the run wrote without them: every group has an owner,
// every waitlisted RSVP has its place in line (waitlisted_at), and every
// event's going_count is the count of its going RSVPs, with the waitlist
// promoted into free places (collections.RecountEvent, the domain's own
// recount). Its statements run on the import's own connection
// (NonconcurrentDB, tuned by tuneForImport: the large page cache), reads
// included.
func (im *importer) invariants(cols []*core.Collection) error {
	wrote := map[string]bool{}
	for _, c := range cols {
		wrote[c.Name] = true
	}
	if wrote[collections.RSVPs] {
		// An RSVP that was waitlisted in Firebase waits from when it was
		// made, unless the export says when it joined the line.
		// Only the RSVPs whose waitlisted_at is wrong are written, found
		// by one pass over the table (inRun last, as in relations.go).
		_, err := im.app.NonconcurrentDB().NewQuery(`UPDATE {{rsvps}} AS c SET [[waitlisted_at]] = CASE
				WHEN [[status]] = {:waitlisted} THEN [[created]] ELSE '' END
			WHERE ([[status]] = {:waitlisted}) = ([[waitlisted_at]] = '') AND ` + inRun).
			Bind(dbx.Params{"run": im.run, "collection": collections.RSVPs, "waitlisted": collections.StatusWaitlisted}).Execute()
		if err != nil {
			return fmt.Errorf("import documents: waitlists: %w", err)
		}
	}
	if wrote[collections.Groups] || wrote[collections.Memberships] {
		if err := im.owners(); err != nil {
			return err
		}
	}
	if wrote[collections.Events] || wrote[collections.RSVPs] {
		touched := `SELECT [[record]] FROM {{_firebase_docs}} WHERE [[run]] = {:run} AND [[collection]] = 'events'
			UNION SELECT c.[[event]] FROM {{rsvps}} c WHERE ` + inRun
		// Only the events whose count is wrong are written.
		going := `(SELECT count(*) FROM {{rsvps}} r WHERE r.[[event]] = {{events}}.[[id]] AND r.[[status]] = {:going})`
		_, err := im.app.NonconcurrentDB().NewQuery(`UPDATE {{events}} SET [[going_count]] = ` + going + `
			WHERE [[id]] IN (` + touched + `) AND [[going_count]] != ` + going).
			Bind(dbx.Params{"run": im.run, "collection": collections.RSVPs, "going": collections.StatusGoing}).Execute()
		if err != nil {
			return fmt.Errorf("import documents: going counts: %w", err)
		}
		// Only events with someone waiting and a free place change in the
		// domain's recount; the others are true already.
		var waiting []string
		err = im.app.NonconcurrentDB().NewQuery(`SELECT e.[[id]] FROM {{events}} e WHERE e.[[id]] IN (` + touched + `)
				AND (e.[[capacity]] = 0 OR e.[[going_count]] < e.[[capacity]])
				AND EXISTS (SELECT 1 FROM {{rsvps}} r WHERE r.[[event]] = e.[[id]] AND r.[[status]] = {:waitlisted})`).
			Bind(dbx.Params{"run": im.run, "collection": collections.RSVPs, "waitlisted": collections.StatusWaitlisted}).Column(&waiting)
		if err != nil {
			return fmt.Errorf("import documents: waitlists to promote: %w", err)
		}
		for _, id := range waiting {
			if err := collections.RecountEvent(im.app, id); err != nil {
				return fmt.Errorf("import documents: recount event %s: %w", id, err)
			}
		}
		if len(waiting) > 0 {
			im.rep.note("%d events had waitlisted RSVPs and free places: the waitlist was promoted", len(waiting))
		}
	}
	return nil
}

// owners gives every group the run touched that has no owner one: its
// creator (promoted, or added as a member), else its oldest member. A
// group with neither is removed, since no group exists without an owner.
func (im *importer) owners() error {
	var orphans []struct {
		ID        string `db:"id"`
		CreatedBy string `db:"created_by"`
		Path      string `db:"path"`
	}
	err := im.app.NonconcurrentDB().NewQuery(`SELECT g.[[id]] AS id, g.[[created_by]] AS created_by, COALESCE(d.[[path]], g.[[id]]) AS path FROM {{groups}} g
			LEFT JOIN {{_firebase_docs}} d ON d.[[collection]] = 'groups' AND d.[[record]] = g.[[id]]
			WHERE g.[[id]] IN (SELECT [[record]] FROM {{_firebase_docs}} WHERE [[run]] = {:run} AND [[collection]] = 'groups'
				UNION SELECT c.[[group]] FROM {{memberships}} c WHERE ` + inRun + `)
			AND NOT EXISTS (SELECT 1 FROM {{memberships}} o WHERE o.[[group]] = g.[[id]] AND o.[[role]] = {:owner})`).
		Bind(dbx.Params{"run": im.run, "collection": collections.Memberships, "owner": collections.RoleOwner}).All(&orphans)
	if err != nil {
		return fmt.Errorf("import documents: groups without an owner: %w", err)
	}
	creators, promoted := 0, 0
	defer func() {
		if creators > 0 {
			im.rep.note("%d groups without an owner membership: their creator was added as owner", creators)
		}
		if promoted > 0 {
			im.rep.note("%d groups without an owner: their creator's (or else oldest) membership was made owner", promoted)
		}
	}()
	for _, g := range orphans {
		err := im.app.RunInTransaction(func(tx core.App) error {
			var m *core.Record
			if g.CreatedBy != "" {
				m, _ = tx.FindFirstRecordByFilter(collections.Memberships, "group = {:g} && user = {:u}", dbx.Params{"g": g.ID, "u": g.CreatedBy})
				if m == nil {
					if exists, _ := recordExists(tx, collections.Users, g.CreatedBy); exists {
						_, err := collections.AddMember(tx, g.ID, g.CreatedBy, collections.RoleOwner)
						if err == nil {
							creators++
						}
						return err
					}
				}
			}
			if m == nil {
				oldest, err := tx.FindRecordsByFilter(collections.Memberships, "group = {:g}", "created", 1, 0, dbx.Params{"g": g.ID})
				if err != nil {
					return err
				}
				if len(oldest) == 0 {
					im.rep.skip(collections.Groups, g.Path, "no member to be its owner (record removed)")
					im.rep.unwrite(collections.Groups)
					group, err := tx.FindRecordById(collections.Groups, g.ID)
					if err != nil {
						return err
					}
					if err := tx.Delete(group); err != nil {
						return err
					}
					_, err = tx.DB().Delete("_firebase_docs", dbx.HashExp{"collection": collections.Groups, "record": g.ID}).Execute()
					return err
				}
				m = oldest[0]
			}
			m.Set("role", collections.RoleOwner)
			promoted++
			return tx.Save(m)
		})
		if err != nil {
			return fmt.Errorf("import documents: owner of group %s: %w", g.Path, err)
		}
	}
	return nil
}
