package changefeed

import (
	"fmt"
	"slices"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// trace is what the log says of one record.
type trace struct {
	last    position // where the feed reports it: its last position
	deleted bool     // its own last entry is a delete
}

// place turns a chunk of positions into changes. A record found in it is
// reported once per page: at its last position (see trace) with its
// outcome as of now, or, when it is to be dropped, already at the
// caller's leaving of a group it was in, if that comes first. from is the
// request's cursor: what the client holds.
func (f *feed) place(from Cursor, ps []position) ([]Change, error) {
	found := map[string]map[string][]position{}
	for _, p := range ps {
		if !f.wants(p.collection) || f.reported[p.collection+"/"+p.id] {
			continue
		}
		byID := found[p.collection]
		if byID == nil {
			byID = map[string][]position{}
			found[p.collection] = byID
		}
		byID[p.id] = append(byID[p.id], p)
	}

	// Where each record found may be reported: its last position, if
	// here, and the first leaving here that drops it.
	due := map[string]map[string]*placing{}
	for _, name := range Synced {
		byID := found[name]
		if len(byID) == 0 {
			continue
		}
		traces, err := f.traces(name, keys(byID))
		if err != nil {
			return nil, err
		}
		for id, t := range traces {
			pl := &placing{trace: t}
			for _, p := range byID[id] {
				if comparePositions(p, t.last) == 0 {
					pl.last = &p
				}
				if p.leave && pl.leave == nil {
					pl.leave = &p
				}
			}
			if pl.last == nil && pl.leave == nil {
				continue
			}
			if due[name] == nil {
				due[name] = map[string]*placing{}
			}
			due[name][id] = pl
		}
	}

	at := map[string]map[string]Change{}
	for name, byID := range due {
		changes, err := f.outcomes(from, name, byID)
		if err != nil {
			return nil, err
		}
		at[name] = changes
	}

	var out []Change
	for _, p := range ps {
		c, ok := at[p.collection][p.id]
		if !ok || f.reported[p.collection+"/"+p.id] {
			continue
		}
		if pl := due[p.collection][p.id]; comparePositions(p, *pl.at(c.Op)) != 0 {
			continue
		}
		f.reported[p.collection+"/"+p.id] = true
		out = append(out, c)
	}
	return out, nil
}

// placing is where one record may be reported in a chunk.
type placing struct {
	*trace
	last  *position // its last position, if in the chunk
	leave *position // the first leaving in the chunk that may drop it
}

// at returns where a change with op is reported: an upsert at the last
// position (a leaving upserts only a user it is the last position of; see
// traces), a drop at the earlier of the two.
func (pl *placing) at(op string) *position {
	if op == OpUpsert || pl.leave == nil {
		return pl.last
	}
	if pl.last == nil || comparePositions(*pl.leave, *pl.last) < 0 {
		return pl.leave
	}
	return pl.last
}

// traces finds the last position of each of ids of collection: the later
// of its own last log entry, for users the places viaMemberships finds,
// and the caller's latest joining of a group the record is in now, when
// that is the caller's latest change of their membership of it. The
// caller's own user record is in every group the caller is in and is
// never an item: joining or leaving never changes whether one sees
// oneself.
func (f *feed) traces(collection string, ids []string) (map[string]*trace, error) {
	out := map[string]*trace{}
	err := eachChunk(ids, func(args []any) error {
		var rows []struct {
			Record string `db:"record"`
			Seq    int64  `db:"seq"`
			Op     string `db:"op"`
		}
		// SQLite takes a bare column (op) from the row that MAX picked.
		err := f.app.DB().Select("record", "MAX([[seq]]) AS seq", "op").
			From(changesTable).
			Where(dbx.HashExp{"collection": collection}).
			AndWhere(dbx.In("record", args...)).
			GroupBy("record").All(&rows)
		if err != nil {
			return fmt.Errorf("sync: log entries of %s: %w", collection, err)
		}
		for _, r := range rows {
			out[r.Record] = &trace{last: position{seq: r.Seq, collection: collection, id: r.Record}, deleted: r.Op == opDelete}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if out[id] == nil {
			// A record without entries (never the case for records written
			// through PocketBase) is placed by expansions alone.
			out[id] = &trace{last: position{collection: collection, id: id}}
		}
	}

	if collection == collections.Users {
		if err := f.viaMemberships(ids, out); err != nil {
			return nil, err
		}
	}

	// Leaving moves no record's last position but a user's (see
	// viaMemberships): it drops what the client may hold at its own place
	// (see feed.items), and nothing else of the group is visible after it.
	expanding := map[string]int64{}
	for g, c := range f.last {
		if c.op == opCreate {
			expanding[g] = c.seq
		}
	}
	if len(expanding) == 0 {
		return out, nil
	}
	var candidates []string
	for _, id := range ids {
		if collection != collections.Users || id != f.caller {
			candidates = append(candidates, id)
		}
	}
	current, err := collections.GroupsOfIDs(f.app, collection, candidates)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	for id, groups := range current {
		t := out[id]
		for _, g := range groups {
			if s, ok := expanding[g]; ok && s > t.last.seq {
				t.last = position{seq: s, item: true, collection: collection, id: id, group: g}
			}
		}
	}
	return out, nil
}

// viaMemberships moves a user's last position, when later, to
//   - their last joining or leaving of a group that concerns the caller (a
//     group the caller was then a member of; see concerns): the entries
//     at which items places them;
//   - the caller's latest change of their membership of a group, when it
//     is a leaving and the user was in the group then, which makes them
//     one of its items. A user the caller still sees through another
//     group is sent there again, as joining does: the caller's joining of
//     that group was their last position until the leaving, so a client
//     that passed an earlier place of theirs (an earlier joining of
//     another group) before the leaving skipped them there, and holds
//     them only if it read that joining before the leaving was written.
func (f *feed) viaMemberships(ids []string, out map[string]*trace) error {
	var others []string
	for _, id := range ids {
		if id != f.caller {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil
	}
	theirs, err := f.loadMemberships(others)
	if err != nil {
		return err
	}
	for _, id := range others {
		t := out[id]
		for g, events := range theirs.events[id] {
			for _, e := range events {
				if e.op == opUpdate || e.seq <= t.last.seq {
					continue
				}
				ok, err := f.concerns(g, e.seq)
				if err != nil {
					return err
				}
				if ok {
					t.last = position{seq: e.seq, item: true, collection: collections.Users, id: id}
				}
			}
		}
		for g, c := range f.last {
			if c.op == opDelete && c.seq > t.last.seq && theirs.memberAt(id, g, Cursor{Seq: c.seq}) {
				t.last = position{seq: c.seq, item: true, collection: collections.Users, id: id, group: g, leave: true}
			}
		}
	}
	return nil
}

// outcomes decides what the client does with each due record of
// collection, and where it is told: take the current record if the list
// rule admits the caller, else drop it if the client could hold it at
// from. Changes carry the sequence number of their position.
func (f *feed) outcomes(from Cursor, collection string, due map[string]*placing) (map[string]Change, error) {
	col, err := f.app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		return nil, fmt.Errorf("sync: collection %s: %w", collection, err)
	}
	ids := keys(due)
	out := map[string]Change{}
	visible := map[string]bool{}
	err = eachChunk(ids, func(args []any) error {
		records, err := visibleRecords(f.app, col, f.info, args)
		if err != nil {
			return err
		}
		for _, r := range records {
			visible[r.Id] = true
			if p := due[r.Id].at(OpUpsert); p != nil {
				out[r.Id] = Change{Seq: p.seq, Op: OpUpsert, Collection: collection, ID: r.Id, Record: r}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	var gone []string
	for _, id := range ids {
		if !visible[id] {
			gone = append(gone, id)
		}
	}
	held, err := f.held(from, collection, gone)
	if err != nil {
		return nil, err
	}
	for _, id := range held {
		op := OpRevoke
		if due[id].deleted {
			op = OpDelete
		}
		out[id] = Change{Seq: due[id].at(op).seq, Op: op, Collection: collection, ID: id}
	}
	return out, nil
}

// visibleRecords returns those of ids that the collection's list rule
// admits for the caller of info, with the list API's own rule engine.
func visibleRecords(app core.App, col *core.Collection, info *core.RequestInfo, ids []any) ([]*core.Record, error) {
	if col.ListRule == nil {
		return nil, nil // superusers only
	}
	// Not app.RecordQuery: it reads through PocketBase's pool, outside
	// the page's snapshot (see inSnapshot).
	db := app.DB()
	q := db.Select(db.QuoteSimpleColumnName(col.Name) + ".*").From(col.Name).AndWhere(dbx.In(col.Name+".id", ids...))
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
	rows := []dbx.NullStringMap{}
	if err := q.All(&rows); err != nil {
		return nil, fmt.Errorf("sync: query %s: %w", col.Name, err)
	}
	records := make([]*core.Record, len(rows))
	for i, row := range rows {
		r, err := collections.RecordFromRow(col, row)
		if err != nil {
			return nil, fmt.Errorf("sync: read %s: %w", col.Name, err)
		}
		records[i] = r
	}
	return records, nil
}

// idChunk bounds the ids bound in one query, far below SQLite's limit on
// host parameters.
const idChunk = 500

// eachChunk calls fn with ids in chunks of at most idChunk, as query
// arguments.
func eachChunk(ids []string, fn func(args []any) error) error {
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := fn(args); err != nil {
			return err
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
