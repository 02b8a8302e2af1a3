package changefeed

import (
	"fmt"
	"slices"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
)

// event is a log entry in the life of a record or a membership.
type event struct {
	seq int64
	op  string
}

// presentAt reports whether a record or membership with these events (in
// sequence order) existed at cursor at, and fallback when the log has no
// event of it. An event at the cursor's own entry counts as done when the
// cursor is past that entry; inside its items (some delivered, some not)
// it counts both ways: present. Without an event at or before the
// cursor, the first one after tells: a create means it did not exist yet,
// anything else that it existed since before the retained log.
func presentAt(events []event, at Cursor, fallback bool) bool {
	if len(events) == 0 {
		return fallback
	}
	var last *event
	for i := range events {
		switch {
		case events[i].seq == at.Seq && at.Item != nil:
			return true
		case events[i].seq <= at.Seq:
			last = &events[i]
		}
	}
	if last != nil {
		return last.op != opDelete
	}
	return events[0].op != opCreate
}

// leavings returns the entries at which user's membership of g ended
// after cursor at and up to cursor to (none when at is after to): a
// leaving inside whose items to is does not count, as the items not yet
// delivered are still to come.
func (m *memberships) leavings(user, g string, at, to Cursor) []int64 {
	var out []int64
	for _, e := range m.events[user][g] {
		if e.op == opDelete && e.seq > at.Seq && (e.seq < to.Seq || (e.seq == to.Seq && to.Item == nil)) {
			out = append(out, e.seq)
		}
	}
	return out
}

// seqs returns the entries of user's membership changes, in any group.
func (m *memberships) seqs(user string) []int64 {
	var out []int64
	for _, events := range m.events[user] {
		for _, e := range events {
			out = append(out, e.seq)
		}
	}
	return out
}

// memberships is the membership history of some users: per user and
// group, the log's events of that membership, and the groups they are in
// now.
type memberships struct {
	events  map[string]map[string][]event
	current map[string]map[string]bool
}

// groupsAt returns the groups user was a member of at cursor at.
func (m *memberships) groupsAt(user string, at Cursor) map[string]bool {
	out := map[string]bool{}
	for g := range m.events[user] {
		if m.memberAt(user, g, at) {
			out[g] = true
		}
	}
	for g := range m.current[user] {
		if m.memberAt(user, g, at) {
			out[g] = true
		}
	}
	return out
}

// memberAt reports whether user was a member of g at cursor at: as the
// log's events of that membership say, else (none retained) as now.
func (m *memberships) memberAt(user, g string, at Cursor) bool {
	return presentAt(m.events[user][g], at, m.current[user][g])
}

// loadMemberships reads the membership history of users.
func (f *feed) loadMemberships(users []string) (*memberships, error) {
	m := &memberships{events: map[string]map[string][]event{}, current: map[string]map[string]bool{}}
	err := eachChunk(users, func(args []any) error {
		var rows []row
		err := f.app.DB().Select("seq", "op", "groups", "member").From(changesTable).
			Where(dbx.In("member", args...)).
			AndWhere(dbx.NewExp("[[member]] != ''")).
			OrderBy("seq").All(&rows)
		if err != nil {
			return fmt.Errorf("sync: membership history: %w", err)
		}
		for _, r := range rows {
			if m.events[r.Member] == nil {
				m.events[r.Member] = map[string][]event{}
			}
			m.events[r.Member][r.Groups] = append(m.events[r.Member][r.Groups], event{r.Seq, r.Op})
		}
		var now []struct {
			User  string `db:"user"`
			Group string `db:"group"`
		}
		err = f.app.DB().Select("user", "group").From(collections.Memberships).Where(dbx.In("user", args...)).All(&now)
		if err != nil {
			return fmt.Errorf("sync: memberships: %w", err)
		}
		for _, r := range now {
			if m.current[r.User] == nil {
				m.current[r.User] = map[string]bool{}
			}
			m.current[r.User][r.Group] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// callerHistory returns the caller's membership history, read once per
// request.
func (f *feed) callerHistory() (*memberships, error) {
	if f.history == nil {
		h, err := f.loadMemberships([]string{f.caller})
		if err != nil {
			return nil, err
		}
		f.history = h
	}
	return f.history, nil
}

// concerns reports whether another user's joining or leaving of group g
// at log entry seq can change whether the caller sees that user: only
// when the caller was then a member of g, as held reads the log. Any
// other is none of the caller's business, not even when the two share
// another group: sending the (unchanged) user there would tell the
// caller that, and when (its seq), the user joined or left some group
// the caller is not in. So it is no place of that user in the caller's
// feed: items and traces (viaMemberships) both go by this, so that a
// user is never placed where no item is.
func (f *feed) concerns(g string, seq int64) (bool, error) {
	h, err := f.callerHistory()
	if err != nil {
		return false, err
	}
	return h.memberAt(f.caller, g, Cursor{Seq: seq}), nil
}

// held returns those of ids (records of collection the caller may not see
// now) that the client could hold at cursor from (see holdPoints):
// records that existed in a group the caller was a member of at one of
// those points, unless the caller left that group between the point and
// from while the record was still in it (that leaving dropped it); users
// who shared such a group with the caller then, likewise.
// Only these are dropped, so a sync never names a record the caller
// could not have seen, and tells nothing of a group after the page that
// told the client it left it.
func (f *feed) held(from Cursor, collection string, ids []string) ([]string, error) {
	if len(ids) == 0 || from.IsStart() {
		return nil, nil // a full sync starts from an empty store
	}
	if _, err := f.callerHistory(); err != nil {
		return nil, err
	}
	// dropped reports whether a leaving of g by the caller after at, read
	// before from, dropped a record whose groups are groups(cursor). A
	// leaving drops only its items: what was in g when the caller left
	// (see feed.items). A record that left g before has its own place
	// for that (its membership change, its move), where it was skipped
	// when a later entry of its own (an edit, pruning's carrying it over)
	// is its last place: that later place must drop it.
	dropped := func(g string, at Cursor, groups func(Cursor) []string) bool {
		for _, seq := range f.history.leavings(f.caller, g, at, from) {
			if slices.Contains(groups(Cursor{Seq: seq}), g) {
				return true
			}
		}
		return false
	}
	var mineLater []int64
	for _, seq := range f.history.seqs(f.caller) {
		if seq > from.Seq {
			mineLater = append(mineLater, seq)
		}
	}
	// holds reports whether the client may hold a record whose groups at
	// a cursor are groups(cursor), and whose entries (for a user, their
	// membership changes) are at seqs.
	holds := func(seqs []int64, groups func(Cursor) []string) bool {
		for _, at := range holdPoints(from, append(seqs, mineLater...)) {
			mine := f.history.groupsAt(f.caller, at)
			for _, g := range groups(at) {
				if mine[g] && !dropped(g, at, groups) {
					return true
				}
			}
		}
		return false
	}

	var out []string
	if collection == collections.Users {
		theirs, err := f.loadMemberships(ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			groups := func(at Cursor) []string { return keys(theirs.groupsAt(id, at)) }
			if id == f.caller || holds(theirs.seqs(id), groups) {
				out = append(out, id)
			}
		}
		return out, nil
	}

	entries, err := f.entriesOf(collection, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		life := entries[id]
		// A record the log has no entry of (written around PocketBase)
		// has no groups here: nothing shows the caller could see it.
		groups := func(at Cursor) []string {
			if !presentAt(lifeEvents(life), at, true) {
				return nil
			}
			return groupsAt(life, at)
		}
		seqs := make([]int64, len(life))
		for i, r := range life {
			seqs[i] = r.Seq
		}
		if holds(seqs, groups) {
			out = append(out, id)
		}
	}
	return out, nil
}

// holdPoints returns the cursors at which the client may hold a record as
// it last heard of it, given the entries (seqs) that change whether the
// caller may see it: the record's own and the caller's membership
// changes. The feed judges a record as of the request, not as of its
// place, and reports it only at its last place, so the client's copy
// need not be what the log at from shows:
//   - at a place before from where the record was skipped for a later
//     one, the client kept it as it was just before (another user who
//     left the caller's group and joined it again; a record moved out and
//     edited);
//   - a page read after from judged it by the state then (another user
//     kept after the caller left a group, because they shared a group the
//     caller joined after from).
//
// So the points are from, just before each entry up to from, and just
// after each entry after it.
func holdPoints(from Cursor, seqs []int64) []Cursor {
	points := []Cursor{from}
	for _, seq := range seqs {
		if seq <= from.Seq {
			points = append(points, Cursor{Seq: seq - 1})
		} else {
			points = append(points, Cursor{Seq: seq})
		}
	}
	return points
}

// lifeEvents returns the creates and deletes among a record's entries.
func lifeEvents(entries []row) []event {
	var out []event
	for _, r := range entries {
		if r.Op != opUpdate {
			out = append(out, event{r.Seq, r.Op})
		}
	}
	return out
}

// groupsAt returns the groups a record (not a user) was in at cursor at,
// from its entries (in sequence order): the group its last entry up to the
// cursor left it in (an entry names the record's group then, a move the
// new group first), else the group its first later entry found it in (a
// move names the old groups after the new one). Inside the items of an
// entry of the record's (a move), both count.
func groupsAt(entries []row, at Cursor) []string {
	var last *row
	for i := range entries {
		e := &entries[i]
		if e.Seq == at.Seq && at.Item != nil {
			return splitGroups(e.Groups)
		}
		if e.Seq > at.Seq {
			if last != nil {
				return firstGroup(last)
			}
			if groups := splitGroups(e.Groups); len(groups) > 1 {
				return groups[1:]
			}
			return splitGroups(e.Groups)
		}
		last = e
	}
	if last != nil {
		return firstGroup(last)
	}
	return nil
}

func firstGroup(r *row) []string {
	groups := splitGroups(r.Groups)
	return groups[:min(1, len(groups))]
}

// entriesOf returns the log entries of ids, in sequence order.
func (f *feed) entriesOf(collection string, ids []string) (map[string][]row, error) {
	out := map[string][]row{}
	err := eachChunk(ids, func(args []any) error {
		var rows []row
		err := f.app.DB().Select("seq", "record", "op", "groups").From(changesTable).
			Where(dbx.HashExp{"collection": collection}).
			AndWhere(dbx.In("record", args...)).
			OrderBy("seq").All(&rows)
		if err != nil {
			return fmt.Errorf("sync: log entries of %s: %w", collection, err)
		}
		for _, r := range rows {
			out[r.Record] = append(out[r.Record], r)
		}
		return nil
	})
	return out, err
}
