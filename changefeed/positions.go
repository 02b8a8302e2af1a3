package changefeed

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// row is one log entry.
type row struct {
	Seq        int64  `db:"seq"`
	Collection string `db:"collection"`
	Record     string `db:"record"`
	Op         string `db:"op"`
	Groups     string `db:"groups"`
	Member     string `db:"member"`
}

// position is one place in a caller's feed: a log entry's own record, or
// one item after it (see Cursor).
type position struct {
	seq        int64
	item       bool
	collection string
	id         string
	// group is the group an expansion item belongs to ("" otherwise).
	group string
	// leave marks an item of the caller's leaving a group: it is
	// reported there whatever its last position, so that once a client
	// is past that entry it holds nothing of the group.
	leave bool
}

// order is each synced collection's rank among items of one entry.
var order = func() map[string]int {
	m := map[string]int{}
	for i, name := range Synced {
		m[name] = i
	}
	return m
}()

// comparePositions orders positions as the feed does: by entry, the
// entry's own record first, then its items by collection and id.
func comparePositions(a, b position) int {
	if c := cmp.Compare(a.seq, b.seq); c != 0 {
		return c
	}
	if a.item != b.item {
		if !a.item {
			return -1
		}
		return 1
	}
	if !a.item {
		return 0
	}
	if c := cmp.Compare(order[a.collection], order[b.collection]); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// feed reads one caller's feed for one collection set, up to the log head
// read when the request started: entries written later belong to later
// requests.
type feed struct {
	app    core.App
	caller string
	set    []string // canonical; nil is all
	head   int64
	info   *core.RequestInfo

	// last holds, per group, the caller's latest joining or leaving of it
	// from the current chunk's start on: only that one expands (an earlier
	// one's items are reported by it).
	last map[string]membershipChange
	// history is the caller's membership history, loaded when a chunk
	// first needs it.
	history *memberships
	// reported holds the records (collection/id) already in the page.
	reported map[string]bool
}

func newFeed(app core.App, caller *core.Record, set []string, head int64) *feed {
	return &feed{
		app: app, caller: caller.Id, set: set, head: head, reported: map[string]bool{},
		// The list rules see the caller as a GET of the list API would show it.
		info: &core.RequestInfo{Context: core.RequestInfoContextDefault, Method: "GET", Auth: caller},
	}
}

func (f *feed) wants(collection string) bool {
	return f.set == nil || slices.Contains(f.set, collection)
}

// chunk is a run of positions read after a cursor.
type chunk struct {
	positions []position
	next      Cursor // after the last of positions
	more      bool   // positions follow next (up to the head)
}

// read returns at most n positions after from, and whether more follow.
// It reads one position beyond n to know that, and where the cursor must
// point: inside an entry when the next position is one of its items.
func (f *feed) read(from Cursor, n int) (*chunk, error) {
	if err := f.loadLast(from.Seq); err != nil {
		return nil, err
	}
	want := n + 1
	var ps []position
	if from.Item != nil {
		r, err := f.entry(from.Seq)
		if err != nil {
			return nil, err
		}
		if r != nil {
			items, err := f.items(*r, *from.Item, want)
			if err != nil {
				return nil, err
			}
			ps = append(ps, items...)
		}
	}
	after := from.Seq
	for len(ps) < want {
		k := want - len(ps)
		rows, err := f.entries(after, k)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			ps = append(ps, position{seq: r.Seq, collection: r.Collection, id: r.Record})
			if len(ps) == want {
				break
			}
			items, err := f.items(r, Item{}, want-len(ps))
			if err != nil {
				return nil, err
			}
			ps = append(ps, items...)
			if len(ps) == want {
				break
			}
		}
		if len(rows) < k {
			break
		}
		after = rows[len(rows)-1].Seq
	}

	c := &chunk{positions: ps, next: Cursor{Seq: f.head, Collections: f.set}}
	if len(ps) <= n {
		return c, nil
	}
	c.positions, c.more = ps[:n], true
	last, following := ps[n-1], ps[n]
	c.next = Cursor{Seq: last.seq, Collections: f.set}
	if following.seq == last.seq {
		c.next.Item = &Item{}
		if last.item {
			c.next.Item = &Item{Collection: last.collection, ID: last.id}
		}
	}
	return c, nil
}

// positionEntry is the condition on a log entry e that it may be a
// position of the caller's feed. A membership change always is, for its
// items; any other entry only when it is its record's last position: not
// followed by another entry of the same record, and not of a record of
// one group (not a user, a move or a delete) that the caller joined later
// and is still in, whose expansion reports it. place() decides the same
// by itself; skipping such entries here spares reading a joined group's
// history in full before reading its expansion.
const positionEntry = `[[e.collection]] = 'memberships' OR (
	NOT EXISTS (SELECT 1 FROM {{_hearth_changes}} h
		WHERE [[h.collection]] = [[e.collection]] AND [[h.record]] = [[e.record]] AND [[h.seq]] > [[e.seq]])
	AND NOT ([[e.collection]] != 'users' AND [[e.op]] != 'delete' AND instr([[e.groups]], ',') = 0 AND EXISTS (
		SELECT 1 FROM {{_hearth_changes}} j
		WHERE [[j.member]] = {:caller} AND [[j.member]] != '' AND [[j.groups]] = [[e.groups]]
			AND [[j.op]] = 'create' AND [[j.seq]] > [[e.seq]]
			AND NOT EXISTS (SELECT 1 FROM {{_hearth_changes}} l
				WHERE [[l.member]] = {:caller} AND [[l.member]] != '' AND [[l.groups]] = [[e.groups]]
					AND [[l.op]] = 'delete' AND [[l.seq]] > [[j.seq]]))))`

// entries returns at most n log entries after seq, up to the head, that
// may be a position: for a sync of every collection, each record's last
// entry and every membership change; else those of the set and every
// membership change, whose items may be in the set.
func (f *feed) entries(after int64, n int) ([]row, error) {
	q := f.app.DB().Select("e.seq", "e.collection", "e.record", "e.op", "e.groups", "e.member").
		From(changesTable + " e").
		Where(dbx.Between("e.seq", after+1, f.head)).
		AndWhere(dbx.NewExp(positionEntry, dbx.Params{"caller": f.caller})).
		OrderBy("e.seq").
		Limit(int64(n))
	if f.set != nil {
		names := make([]any, 0, len(f.set)+1)
		for _, name := range append(slices.Clone(f.set), collections.Memberships) {
			names = append(names, name)
		}
		q.AndWhere(dbx.In("e.collection", names...))
	}
	rows := []row{}
	if err := q.All(&rows); err != nil {
		return nil, fmt.Errorf("sync: read change log: %w", err)
	}
	return rows, nil
}

// entry returns the log entry seq, or nil when it was pruned.
func (f *feed) entry(seq int64) (*row, error) {
	r := &row{}
	err := f.app.DB().Select("seq", "collection", "record", "op", "groups", "member").
		From(changesTable).Where(dbx.HashExp{"seq": seq}).One(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync: read change log entry %d: %w", seq, err)
	}
	return r, nil
}

// membershipChange is the caller's joining (create) or leaving (delete)
// of a group, at entry seq.
type membershipChange struct {
	seq int64
	op  string
}

// loadLast reads the caller's latest joining or leaving of each group
// from seq on.
func (f *feed) loadLast(seq int64) error {
	var rows []struct {
		Group string `db:"groups"`
		Seq   int64  `db:"seq"`
		Op    string `db:"op"`
	}
	// SQLite takes a bare column (op) from the row that MAX picked.
	err := f.app.DB().Select("groups", "MAX([[seq]]) AS seq", "op").From(changesTable).
		Where(dbx.HashExp{"member": f.caller}).
		// Repeats the partial index's condition so that SQLite uses it.
		AndWhere(dbx.NewExp("[[member]] != ''")).
		AndWhere(dbx.NewExp("[[op]] != {:update}", dbx.Params{"update": opUpdate})).
		AndWhere(dbx.NewExp("[[seq]] >= {:seq}", dbx.Params{"seq": seq})).
		GroupBy("groups").All(&rows)
	if err != nil {
		return fmt.Errorf("sync: membership changes of caller: %w", err)
	}
	f.last = map[string]membershipChange{}
	for _, r := range rows {
		f.last[r.Group] = membershipChange{r.Seq, r.Op}
	}
	return nil
}

// items returns at most n items of entry r after the item after. A
// membership change is followed by its user (for another user's, of a
// group the caller was then a member of: they may have started or stopped
// sharing a group with the caller; see concerns), or, for
// the caller's own joining or leaving a group, by the records of that
// group, unless a later change of the caller's membership of that group
// expands it instead (a leaving then still brings the records that left
// the group since). A role change changes no visibility: the list rules
// do not depend on the role.
//
// Joining expands to the group's records now; leaving to the records that
// were in the group when the caller left: those in it now and those that
// left it since (deleted or moved), as the client may hold any of them.
func (f *feed) items(r row, after Item, n int) ([]position, error) {
	if r.Collection != collections.Memberships || r.Member == "" || r.Op == opUpdate || n <= 0 {
		return nil, nil
	}
	start := -1
	if after.Collection != "" {
		start = order[after.Collection]
	}
	if r.Member != f.caller {
		u := collections.Users
		if !f.wants(u) || order[u] < start || (order[u] == start && r.Member <= after.ID) {
			return nil, nil
		}
		if ok, err := f.concerns(r.Groups, r.Seq); err != nil || !ok {
			return nil, err
		}
		return []position{{seq: r.Seq, item: true, collection: u, id: r.Member}}, nil
	}
	group := r.Groups
	leave := r.Op == opDelete
	// Only the caller's latest change of their membership of a group
	// expands to the records in it: an earlier one's are reported by that
	// one. An earlier leaving still expands to the records that left the
	// group after it (deleted, moved): the client may hold them, and no
	// later change names them, as a joining brings only what is in the
	// group then. Without them, a client whose cursor was inside a
	// leaving's items when it joined again kept a record deleted between.
	departedOnly := f.last[group].seq != r.Seq
	if departedOnly && !leave {
		return nil, nil
	}
	var out []position
	for i, name := range Synced {
		if i < start || !f.wants(name) {
			continue
		}
		from := ""
		if i == start {
			from = after.ID
		}
		k := n - len(out)
		var where func(string) dbx.Expression
		if !leave {
			where = f.lastHere(name, r.Seq)
		}
		var ids []string
		if !departedOnly {
			in, err := collections.GroupRecordIDsAfter(f.app, name, group, from, k, where)
			if err != nil {
				return nil, fmt.Errorf("sync: expand group %s: %w", group, err)
			}
			ids = in
		}
		if leave {
			gone, err := f.departed(name, group, r.Seq, from, k)
			if err != nil {
				return nil, err
			}
			ids = append(ids, gone...)
			slices.Sort(ids)
			ids = slices.Compact(ids)
			ids = ids[:min(len(ids), k)]
		}
		for _, id := range ids {
			out = append(out, position{seq: r.Seq, item: true, collection: name, id: id, group: group, leave: leave})
		}
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

// lastHere is the condition, on the id column id of collection, that a
// record's last position may be the expansion at seq: it has no entry of
// its own after seq, and it is not the caller's own user, which
// expansions never carry. Records changed since are reported at their
// own last entry instead, so joining reads only what it may report. A
// user's later joining or leaving of a group is their last position only
// when it concerns the caller, which the caller's membership history
// decides (concerns), not this query: such users are read here, and
// place() skips those reported later. Excluding every user with a later
// membership change would lose one whose change does not concern the
// caller; a group has few members.
func (f *feed) lastHere(collection string, seq int64) func(id string) dbx.Expression {
	return func(id string) dbx.Expression {
		params := dbx.Params{"lhCollection": collection, "lhSeq": seq, "lhCaller": f.caller}
		cond := "NOT EXISTS (SELECT 1 FROM {{" + changesTable + "}} h WHERE [[h.collection]] = {:lhCollection} AND [[h.record]] = " + id + " AND [[h.seq]] > {:lhSeq})"
		if collection == collections.Users {
			cond += " AND " + id + " != {:lhCaller}"
		}
		return dbx.NewExp(cond, params)
	}
}

// departed returns, in id order, at most n ids of collection's records
// that left group g after entry seq and sort after the id after: deleted
// or moved to another group; for users, those whose membership of g
// ended. The conditions repeat the partial indexes' (see the migration
// 1764115500_sync_expansion_indexes.go) so that SQLite uses them.
func (f *feed) departed(collection, g string, seq int64, after string, n int) ([]string, error) {
	params := dbx.Params{"g": g, "seq": seq, "after": after}
	var queries []*dbx.SelectQuery
	if collection == collections.Users {
		queries = append(queries, f.app.DB().Select("member").Distinct(true).From(changesTable).
			Where(dbx.NewExp("[[op]] = 'delete' AND [[collection]] = 'memberships' AND [[groups]] = {:g} AND [[seq]] > {:seq} AND [[member]] > {:after}", params)).
			OrderBy("member"))
	} else {
		params["collection"] = collection
		queries = append(queries,
			f.app.DB().Select("record").Distinct(true).From(changesTable).
				Where(dbx.NewExp("[[op]] = 'delete' AND [[collection]] = {:collection} AND [[groups]] = {:g} AND [[seq]] > {:seq} AND [[record]] > {:after}", params)).
				OrderBy("record"),
			// A move names the new group first, then the old ones.
			f.app.DB().Select("record").Distinct(true).From(changesTable).
				Where(dbx.NewExp("[[op]] = 'update' AND instr([[groups]], ',') > 0 AND [[collection]] != 'users'", nil)).
				AndWhere(dbx.NewExp("[[collection]] = {:collection} AND instr([[groups]] || ',', ',' || {:g} || ',') > 0 AND [[seq]] > {:seq} AND [[record]] > {:after}", params)).
				OrderBy("record"))
	}
	var out []string
	for _, q := range queries {
		var ids []string
		if err := q.Limit(int64(n)).Column(&ids); err != nil {
			return nil, fmt.Errorf("sync: records that left group %s in %s: %w", g, collection, err)
		}
		out = append(out, ids...)
	}
	return out, nil
}
