package changefeed

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// Request is one call of the feed: the changes after Cursor, for
// Collections (a subset of Synced), reading at most Limit log entries.
type Request struct {
	Cursor      int64
	Collections []string
	Limit       int
}

// Change operations in a Page.
const (
	// OpUpsert: the record exists and the caller may see it; Record holds it.
	OpUpsert = "upsert"
	// OpDelete: the record was deleted (a tombstone).
	OpDelete = "delete"
	// OpRevoke: the record may exist, but the caller may no longer see it.
	OpRevoke = "revoke"
)

// Change is one item of a page: the outcome, as of the request, of every
// change the page covers to one record.
type Change struct {
	Seq        int64        `json:"seq"`
	Op         string       `json:"op"`
	Collection string       `json:"collection"`
	ID         string       `json:"id"`
	Record     *core.Record `json:"record,omitempty"`
}

// Page is the answer to a Request.
type Page struct {
	// Cursor is the sequence number of the last log entry the page covers:
	// the next request's cursor.
	Cursor int64 `json:"cursor"`
	// More is true when entries remain after Cursor.
	More bool `json:"more"`
	// Changes are in sequence order, at most one per record.
	Changes []Change `json:"changes"`
}

// GoneError reports a cursor the log can no longer serve: older than the
// retention horizon, or newer than any entry (a cursor from another
// database, e.g. before a restore).
type GoneError struct {
	Cursor, Horizon, Head int64
}

func (e *GoneError) Error() string {
	if e.Cursor > e.Head {
		return fmt.Sprintf("cursor %d is ahead of the change log (last entry %d): the server's data was replaced; resync from cursor 0", e.Cursor, e.Head)
	}
	return fmt.Sprintf("cursor %d is older than the retained change log (entries up to %d were pruned): resync from cursor 0", e.Cursor, e.Horizon)
}

type row struct {
	Seq        int64  `db:"seq"`
	Collection string `db:"collection"`
	Record     string `db:"record"`
	Op         string `db:"op"`
	Groups     string `db:"groups"`
	Member     string `db:"member"`
}

// candidate is a record whose visibility to the caller may have changed
// within the page.
type candidate struct {
	seq     int64
	deleted bool            // its own last entry in the page is a delete
	groups  map[string]bool // the groups it belongs or belonged to
}

// Sync answers req for the signed-in user auth. The records in the page
// are as stored; the caller serializes them for a client (the handler
// enriches them as the records API would).
//
// A page reads the log entries after req.Cursor (at most req.Limit) and
// decides, for each record they touch, what the caller must do with its
// copy: take the current record if the collection's list rule admits the
// caller now (the rule engine of the list API decides), drop it if it was
// deleted, or drop it as revoked if the caller could see it before but not
// now. A membership change of the caller expands to every record of that
// group; one of another user expands to that user's record.
//
// Tombstones and revocations are reported only for records of groups the
// caller is a member of, or was a member of after req.Cursor (their
// membership entry is in the log), so nobody learns of the ids of a group
// they never belonged to.
func Sync(app core.App, caller *core.Record, req Request) (*Page, error) {
	if caller == nil || caller.Collection().Name != collections.Users {
		return nil, errors.New("sync: the caller must be a signed-in user")
	}

	if req.Cursor > 0 {
		horizon, head, err := bounds(app)
		if err != nil {
			return nil, err
		}
		if req.Cursor < horizon || req.Cursor > head {
			return nil, &GoneError{Cursor: req.Cursor, Horizon: horizon, Head: head}
		}
	}

	rows := []row{}
	err := app.DB().Select("seq", "collection", "record", "op", "groups", "member").
		From(changesTable).
		Where(dbx.NewExp("[[seq]] > {:cursor}", dbx.Params{"cursor": req.Cursor})).
		OrderBy("seq").
		Limit(int64(req.Limit) + 1).
		All(&rows)
	if err != nil {
		return nil, fmt.Errorf("sync: read change log: %w", err)
	}
	page := &Page{Cursor: req.Cursor, Changes: []Change{}}
	if len(rows) > req.Limit {
		page.More = true
		rows = rows[:req.Limit]
	}
	if len(rows) == 0 {
		return page, nil
	}
	page.Cursor = rows[len(rows)-1].Seq

	// Read after the page, so that a membership change committed while the
	// page is evaluated is seen either here or in the log query below.
	known, err := knownGroups(app, caller.Id, req.Cursor)
	if err != nil {
		return nil, err
	}

	s := &pageState{app: app, caller: caller.Id, wanted: req.Collections, cands: map[string]map[string]*candidate{}}
	expand := map[string]*expansion{}
	for _, r := range rows {
		groups := splitGroups(r.Groups)
		s.touch(r.Collection, r.Record, r.Seq, groups, r.Op == opDelete, true)
		if r.Collection != collections.Memberships {
			continue
		}
		if r.Member != caller.Id {
			s.touch(collections.Users, r.Member, r.Seq, groups, false, false)
			continue
		}
		// The list rules do not depend on the role, so a role change
		// (an update within one group) changes no visibility.
		if r.Op == opUpdate && len(groups) < 2 {
			continue
		}
		for _, g := range groups {
			x := expand[g]
			if x == nil {
				x = &expansion{}
				expand[g] = x
			}
			x.seq = r.Seq
			if (r.Op == opDelete || r.Op == opUpdate) && x.leftAt == 0 {
				x.leftAt = r.Seq
			}
		}
	}
	for g, x := range expand {
		if err := s.expandGroup(g, x); err != nil {
			return nil, err
		}
	}

	// The list rules see the caller as a GET of the list API would show it.
	info := &core.RequestInfo{Context: core.RequestInfoContextDefault, Method: "GET", Auth: caller}
	for _, name := range req.Collections {
		changes, err := s.resolve(info, name, known)
		if err != nil {
			return nil, err
		}
		page.Changes = append(page.Changes, changes...)
	}
	sort.SliceStable(page.Changes, func(i, j int) bool { return page.Changes[i].Seq < page.Changes[j].Seq })
	return page, nil
}

type pageState struct {
	app    core.App
	caller string
	wanted []string
	cands  map[string]map[string]*candidate
}

// touch adds a candidate. own marks an entry of the record itself, which
// alone decides whether it was deleted.
func (s *pageState) touch(collection, id string, seq int64, groups []string, deleted, own bool) {
	if !slices.Contains(s.wanted, collection) {
		return
	}
	byID := s.cands[collection]
	if byID == nil {
		byID = map[string]*candidate{}
		s.cands[collection] = byID
	}
	c := byID[id]
	if c == nil {
		c = &candidate{groups: map[string]bool{}}
		byID[id] = c
	}
	c.seq = max(c.seq, seq)
	if own {
		c.deleted = deleted
	}
	for _, g := range groups {
		c.groups[g] = true
	}
}

// expansion is a change of the caller's own membership of a group.
type expansion struct {
	seq    int64 // the last such change in the page
	leftAt int64 // the first that ended the membership, or 0
}

// expandGroup makes a candidate of every record of group g, because the
// caller's membership of g changed: every record of g that exists now and,
// when the caller left g, every record the log shows in g since then
// (deleted since, or users who left g since): the caller may hold those
// from before they left, and once they are gone from g no later page would
// report them.
func (s *pageState) expandGroup(g string, x *expansion) error {
	for _, name := range s.wanted {
		ids, err := collections.GroupRecordIDs(s.app, name, g)
		if err != nil {
			return fmt.Errorf("sync: records of group %s in %s: %w", g, name, err)
		}
		for _, id := range ids {
			s.touch(name, id, x.seq, []string{g}, false, false)
		}
	}
	if x.leftAt == 0 {
		return nil
	}
	later := []row{}
	err := s.app.DB().Select("collection", "record", "op", "groups", "member").
		From(changesTable).
		Where(dbx.NewExp("[[seq]] > {:seq}", dbx.Params{"seq": x.leftAt})).
		AndWhere(dbx.Like("groups", g)).
		OrderBy("seq").
		All(&later)
	if err != nil {
		return fmt.Errorf("sync: later entries of group %s: %w", g, err)
	}
	for _, r := range later {
		if !slices.Contains(splitGroups(r.Groups), g) {
			continue
		}
		// These are the record's own entries: the last one tells whether
		// it is gone, so a group deleted after the caller left still
		// yields tombstones.
		s.touch(r.Collection, r.Record, x.seq, []string{g}, r.Op == opDelete, true)
		if r.Member != "" {
			s.touch(collections.Users, r.Member, x.seq, []string{g}, false, false)
		}
	}
	return nil
}

// idChunk bounds the ids bound in one query, far below SQLite's limit on
// host parameters.
const idChunk = 500

// resolve decides the outcome of every candidate of one collection.
func (s *pageState) resolve(info *core.RequestInfo, name string, known map[string]bool) ([]Change, error) {
	byID := s.cands[name]
	if len(byID) == 0 {
		return nil, nil
	}
	col, err := s.app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return nil, fmt.Errorf("sync: collection %s: %w", name, err)
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	visible := map[string]*core.Record{}
	for start := 0; start < len(ids); start += idChunk {
		records, err := visibleRecords(s.app, col, info, ids[start:min(start+idChunk, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, r := range records {
			visible[r.Id] = r
		}
	}

	changes := make([]Change, 0, len(ids))
	for _, id := range ids {
		c := byID[id]
		if r, ok := visible[id]; ok {
			changes = append(changes, Change{Seq: c.seq, Op: OpUpsert, Collection: name, ID: id, Record: r})
			continue
		}
		if !s.couldHaveSeen(name, id, c, known) {
			continue
		}
		op := OpRevoke
		if c.deleted {
			op = OpDelete
		}
		changes = append(changes, Change{Seq: c.seq, Op: op, Collection: name, ID: id})
	}
	return changes, nil
}

// couldHaveSeen is true when the caller may have held a copy of the
// record: it belongs or belonged to a group the caller is or was in after
// the cursor, or it is the caller's own user record.
func (s *pageState) couldHaveSeen(collection, id string, c *candidate, known map[string]bool) bool {
	if collection == collections.Users && id == s.caller {
		return true
	}
	for g := range c.groups {
		if known[g] {
			return true
		}
	}
	return false
}

// visibleRecords returns those of ids that the collection's list rule
// admits for the caller of info, with the list API's own rule engine.
func visibleRecords(app core.App, col *core.Collection, info *core.RequestInfo, ids []string) ([]*core.Record, error) {
	if col.ListRule == nil {
		return nil, nil // superusers only
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := app.RecordQuery(col).AndWhere(dbx.In(col.Name+".id", args...))
	resolver := core.NewRecordFieldResolver(app, col, info, true)
	if *col.ListRule != "" {
		expr, err := search.FilterData(*col.ListRule).BuildExpr(resolver)
		if err != nil {
			return nil, fmt.Errorf("sync: list rule of %s: %w", col.Name, err)
		}
		q.AndWhere(expr)
	}
	if err := resolver.UpdateQuery(q); err != nil {
		return nil, fmt.Errorf("sync: list rule of %s: %w", col.Name, err)
	}
	records := []*core.Record{}
	if err := q.All(&records); err != nil {
		return nil, fmt.Errorf("sync: query %s: %w", col.Name, err)
	}
	return records, nil
}

// knownGroups returns the groups the caller is a member of now, or was a
// member of at some point after cursor.
func knownGroups(app core.App, user string, cursor int64) (map[string]bool, error) {
	var now, logged []string
	err := app.DB().Select("group").From(collections.Memberships).Where(dbx.HashExp{"user": user}).Column(&now)
	if err != nil {
		return nil, fmt.Errorf("sync: memberships of caller: %w", err)
	}
	err = app.DB().Select("groups").Distinct(true).From(changesTable).
		Where(dbx.HashExp{"member": user}).
		// Repeats the partial index's condition so that SQLite uses it.
		AndWhere(dbx.NewExp("[[member]] != ''")).
		AndWhere(dbx.NewExp("[[seq]] > {:cursor}", dbx.Params{"cursor": cursor})).
		Column(&logged)
	if err != nil {
		return nil, fmt.Errorf("sync: membership history of caller: %w", err)
	}
	known := map[string]bool{}
	for _, g := range now {
		known[g] = true
	}
	for _, gs := range logged {
		for _, g := range splitGroups(gs) {
			known[g] = true
		}
	}
	return known, nil
}

// bounds returns the retention horizon (the last pruned sequence number)
// and the head (the last sequence number ever assigned).
func bounds(app core.App) (horizon, head int64, err error) {
	if err := app.DB().Select("horizon").From(stateTable).Where(dbx.HashExp{"id": 1}).Row(&horizon); err != nil {
		return 0, 0, fmt.Errorf("sync: read horizon: %w", err)
	}
	err = app.DB().Select("seq").From("sqlite_sequence").Where(dbx.HashExp{"name": changesTable}).Row(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return horizon, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sync: read head: %w", err)
	}
	return horizon, head, nil
}

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
