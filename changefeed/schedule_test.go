package changefeed_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// schedules is how many seeded schedules TestSyncUnderChurnAndPruning
// runs; each takes a fresh clone of the fixture world and some 0.3 s, so
// the default keeps the package's run short on a shared machine. Run more
// with -schedules=N (seeds 0 to N-1).
var schedules = flag.Int("schedules", 40, "seeded schedules of TestSyncUnderChurnAndPruning")

// TestSyncUnderChurnAndPruning runs seeded random schedules over the real
// app: writes (messages and events created, edited, deleted), members
// removed and added back (the device's user among them), prunes with
// random windows, and page reads with limits of 1 to 4 by a device that
// applies them as clients/js/src/sync.ts does (410: clear, resync from 0).
// After each full sync (a page with more=false) the device's store must
// equal what the list API returns to its user. A failure names its seed;
// a schedule depends on nothing else, so `-run
// 'TestSyncUnderChurnAndPruning/seed=N$'` replays it.
func TestSyncUnderChurnAndPruning(t *testing.T) {
	t.Parallel()
	for seed := range uint64(*schedules) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runSchedule(t, seed)
		})
	}
}

// world is what a schedule changes: the app, its clock, and ids it made.
type world struct {
	t    *testing.T
	rng  *rand.Rand
	app  core.App
	now  *atomic.Int64 // the app's clock, Unix milliseconds
	made int           // ids made so far
}

func runSchedule(t *testing.T, seed uint64) {
	app := hearthtest.NewApp(t)
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, 17)), app: app, now: &atomic.Int64{}}
	w.now.Store(time.Now().UnixMilli())
	hearthtest.SetNow(t, app, func() time.Time { return time.UnixMilli(w.now.Load()) })
	srv := serve(t, app)
	users := []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin}
	user := users[w.rng.IntN(len(users))]
	device := newClient(hearthtest.Token(t, app, user))

	var trail []string // what the schedule did, for the failure message
	fail := func(format string, args ...any) {
		t.Helper()
		// The log as it is now, to read the trail's sequence numbers by.
		var rows []struct {
			Seq                                    int64
			Op, Collection, Record, Groups, Member string
		}
		if err := app.DB().NewQuery("SELECT seq, op, collection, record, groups, member FROM _hearth_changes ORDER BY seq").All(&rows); err != nil {
			t.Error(err)
		}
		for _, r := range rows {
			t.Logf("log %d %s %s/%s groups=%s member=%s", r.Seq, r.Op, r.Collection, r.Record, r.Groups, r.Member)
		}
		t.Fatalf("seed %d, device of %s, after:\n  %s\n%s", seed, user, strings.Join(trail, "\n  "), fmt.Sprintf(format, args...))
	}
	for range 40 {
		// Every step is a minute, so prunes find entries of every age.
		w.now.Add(time.Minute.Milliseconds())
		switch n := w.rng.IntN(100); {
		case n < 30:
			trail = append(trail, w.write())
		case n < 42:
			trail = append(trail, w.removeMember())
		case n < 54:
			trail = append(trail, w.addMember())
		case n < 62:
			window := time.Duration(1+w.rng.IntN(20)) * time.Minute
			pruned, err := changefeed.Prune(app, window, time.UnixMilli(w.now.Load()))
			if err != nil {
				fail("prune: %v", err)
			}
			trail = append(trail, fmt.Sprintf("prune %v: %d entries", window, pruned))
		default:
			limit := 1 + w.rng.IntN(4)
			p, gone, err := device.page(srv, limit)
			if err != nil {
				fail("page: %v", err)
			}
			trail = append(trail, fmt.Sprintf("page limit %d: %s", limit, p.describe(gone)))
			if !gone && !p.More {
				if diff := device.diffListAPI(srv); diff != "" {
					fail("after a full sync the store differs from the list API:\n%s", diff)
				}
			}
		}
	}
	for {
		p, gone, err := device.page(srv, 1+w.rng.IntN(4))
		if err != nil {
			fail("page: %v", err)
		}
		trail = append(trail, "page: "+p.describe(gone))
		if !gone && !p.More {
			break
		}
	}
	if diff := device.diffListAPI(srv); diff != "" {
		fail("after the last full sync the store differs from the list API:\n%s", diff)
	}
}

// page reads and applies one page; on 410 it clears the store and sets
// the cursor to 0, as clients/js/src/sync.ts does, and reports gone.
func (c *client) page(srv *httptest.Server, limit int) (p *page, gone bool, err error) {
	p, err = c.syncOnce(srv, limit)
	if err != nil && strings.Contains(err.Error(), ": 410 ") {
		c.store, c.cursor = map[string]map[string]map[string]any{}, "0"
		return &page{}, true, nil
	}
	return p, false, err
}

func (p *page) describe(gone bool) string {
	if gone {
		return "410, resync from 0"
	}
	var parts []string
	for _, ch := range p.Changes {
		parts = append(parts, fmt.Sprintf("%s %s/%s", ch.Op, ch.Collection, ch.ID))
	}
	return fmt.Sprintf("more=%v [%s]", p.More, strings.Join(parts, ", "))
}

// diffListAPI returns how the store differs from the list API, or "".
func (c *client) diffListAPI(srv *httptest.Server) string {
	var out []string
	for _, name := range changefeed.Synced {
		want, err := listAll(srv, c.token, name)
		if err != nil {
			return err.Error()
		}
		got := c.store[name]
		if a, b, d := missing(got, want), missing(want, got), differing(got, want); len(a)+len(b)+len(d) > 0 {
			out = append(out, fmt.Sprintf("%s: only in store %v, only in list %v, differing %v", name, a, b, d))
		}
	}
	return strings.Join(out, "\n")
}

// id makes the next record id from the schedule's random source, so that
// a seed makes the same ids (they order the items of an expansion).
func (w *world) id() string {
	w.made++
	return fmt.Sprintf("s%05d%09d", w.made, w.rng.IntN(1e9))
}

func (w *world) pick(ids []string) string { return ids[w.rng.IntN(len(ids))] }

func (w *world) ids(collection string) []string {
	var ids []string
	if err := w.app.DB().Select("id").From(collection).OrderBy("id").Column(&ids); err != nil {
		w.t.Fatal(err)
	}
	return ids
}

// members returns group's members (user ids) in id order, owners apart.
func (w *world) members(group string) (members, owners []string) {
	var rows []struct {
		User string `db:"user"`
		Role string `db:"role"`
	}
	if err := w.app.DB().Select("user", "role").From(collections.Memberships).
		Where(dbx.HashExp{"group": group}).OrderBy("user").All(&rows); err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rows {
		if r.Role == collections.RoleOwner {
			owners = append(owners, r.User)
		} else {
			members = append(members, r.User)
		}
	}
	return members, owners
}

// write creates, edits or deletes a message or an event.
func (w *world) write() string {
	group := w.pick([]string{hearthtest.Climbers, hearthtest.Chess})
	members, owners := w.members(group)
	author := w.pick(append(members, owners...))
	switch n := w.rng.IntN(10); {
	case n < 4:
		id := w.id()
		hearthtest.Save(w.t, w.app, collections.Messages, id, map[string]any{"group": group, "author": author, "body": "m " + id})
		return "message " + id + " in " + group
	case n < 5:
		id := w.id()
		hearthtest.Save(w.t, w.app, collections.Events, id, map[string]any{"group": group, "title": "e " + id, "starts_at": "2030-01-01 10:00:00.000Z", "created_by": author})
		return "event " + id + " in " + group
	case n < 8:
		id := w.pick(w.ids(collections.Messages))
		hearthtest.Save(w.t, w.app, collections.Messages, id, map[string]any{"body": "edited " + w.id()})
		return "edit message " + id
	default:
		ids := w.ids(collections.Messages)
		if len(ids) < 2 {
			return "nothing to delete"
		}
		id := w.pick(ids)
		remove(w.t, w.app, collections.Messages, id)
		return "delete message " + id
	}
}

// removeMember removes a member (not an owner) of a group.
func (w *world) removeMember() string {
	group := w.pick([]string{hearthtest.Climbers, hearthtest.Chess})
	members, _ := w.members(group)
	if len(members) == 0 {
		return "nobody to remove from " + group
	}
	user := w.pick(members)
	remove(w.t, w.app, collections.Memberships, hearthtest.MembershipID(w.t, w.app, group, user))
	return "remove " + user + " from " + group
}

// addMember adds a user who is not a member to a group.
func (w *world) addMember() string {
	group := w.pick([]string{hearthtest.Climbers, hearthtest.Chess})
	members, owners := w.members(group)
	var outside []string
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin} {
		if !slices.Contains(members, u) && !slices.Contains(owners, u) {
			outside = append(outside, u)
		}
	}
	if len(outside) == 0 {
		return "nobody to add to " + group
	}
	user := w.pick(outside)
	hearthtest.Save(w.t, w.app, collections.Memberships, w.id(), map[string]any{"group": group, "user": user, "role": collections.RoleMember})
	return "add " + user + " to " + group
}
