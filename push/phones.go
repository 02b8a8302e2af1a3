package push

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// groupPhones is the FROM and WHERE of the phones of group {:group}'s
// members who did not mute it.
const groupPhones = `FROM {{memberships}} m JOIN {{devices}} d ON d.[[user]] = m.[[user]]
	WHERE m.[[group]] = {:group}
	AND NOT EXISTS (SELECT 1 FROM {{mutes}} x WHERE x.[[user]] = m.[[user]] AND x.[[group]] = m.[[group]])`

// othersPhones is the FROM and WHERE of the phones a change in group
// {:group} by {:actor} may reach: the devices of the group's other
// members who did not mute it. The worker counts them (noticeFor); a
// write asks only whether there is one (phoneCheck).
const othersPhones = groupPhones + ` AND m.[[user]] != {:actor}`

// reachableQuestion asks for up to two of the group's members with a
// phone who did not mute it: whether a change by someone may reach a
// phone follows from them (reachable.by), whoever the someone is.
const reachableQuestion = `SELECT DISTINCT m.[[user]] ` + groupPhones + ` LIMIT 2`

// phonesCollections are the collections whose records the phones question
// reads, taken from its SQL: a write of any of their records may change
// its answer, and bumps phoneCheck's generation. Deleting a user or a
// group changes it too, through the memberships, devices and mutes
// PocketBase deletes with them (app.Delete, which runs their hooks).
var phonesCollections = tablesOf(groupPhones)

// tablesOf returns the tables ({{name}}) sql names, each once, in order.
func tablesOf(sql string) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{\{(\w+)\}\}`).FindAllStringSubmatch(sql, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	return names
}

// maxCachedGroups bounds the groups phoneCheck keeps an answer for: when
// it is full the whole map is dropped and fills again from the next
// questions. An entry is a group id and at most two user ids (short
// strings), so 10,000 of them stay small; a server whose active groups
// outnumber it asks the database more often, never a wrong answer.
const maxCachedGroups = 10_000

// phoneCheck answers whether a change in a group by someone may reach a
// phone (othersPhones), from memory where nothing that decides it has
// changed. What decides it is the group's reachable members, those with
// a phone who did not mute it; knowing up to two of them is enough
// (reachable.by). They are read from the read pool, so the answers are
// of the committed state, as the uncached question's were: members,
// phones or mutes added in the same transaction as the message or event
// (a superuser's batch can; a client's write cannot) are not seen, and a
// phone registered after the check misses that one change, as it would
// have a moment earlier.
//
// Every write of a record in phonesCollections bumps gen twice: at its
// Execute stage, before its transaction commits, and once it has ended
// (the after-success and after-error hooks). An answer is kept with the
// generation read before it was asked and used only while gen has not
// moved, so an answer read while a write was in flight is never used
// after that write has ended; the writes' own hooks run first among
// their stage's handlers (firstPriority), so a handler that does not
// call Next cannot skip them. The one stale use left: an answer read
// between a write's Execute stage and its commit may be used between
// its commit and its after-success hook, while the write's own request
// has not been answered; as if the message had been checked a moment
// earlier.
//
// Writes that run no record hooks in this process bump nothing: raw SQL
// (`hearth import firebase` writes with SQL, as its own process on a
// stopped server; migrations run before the server serves) is seen
// because a server process starts with nothing remembered. Another
// process writing these tables while a server serves (`hearth seed`
// beside it) leaves that server's answers stale until its next such
// write or its restart.
type phoneCheck struct {
	gen atomic.Uint64

	mu     sync.Mutex // guards at and groups, never held while a query runs
	at     uint64     // the generation every answer in groups was read at
	groups map[string]reachable
}

// reachable is up to two distinct reachable members of a group.
type reachable []string

// by reports whether a change by actor may reach a phone: whether a
// reachable member other than actor exists. Of two distinct members one
// is not actor; one member alone must not be actor.
func (r reachable) by(actor string) bool {
	for _, u := range r {
		if u != actor {
			return true
		}
	}
	return false
}

// reaches reports whether a change in o's group by o's actor may reach a
// phone: in a group where no other member has one (or all who have one
// muted it) the write stores no outbox row, and the worker has nothing
// to expand. app is the app itself, not a write's transaction: the
// question goes to the read pool.
func (c *phoneCheck) reaches(app core.App, o entry) (bool, error) {
	gen := c.gen.Load()
	c.mu.Lock()
	r, ok := c.groups[o.Group]
	ok = ok && c.at == gen
	c.mu.Unlock()
	if ok {
		return r.by(o.Actor), nil
	}
	// The statement is compiled once per connection by the driver
	// (internal/sqlitecache), so it is not prepared here: a prepared
	// dbx.Query binds its parameters in place and could not be shared by
	// concurrent questions without a lock held while it runs.
	var users []string
	err := app.ConcurrentDB().NewQuery(reachableQuestion).Bind(dbx.Params{"group": o.Group}).Column(&users)
	if err != nil {
		return false, fmt.Errorf("push: phones in group %s: %w", o.Group, err)
	}
	c.keep(gen, o.Group, users)
	return reachable(users).by(o.Actor), nil
}

// keep remembers the reachable members of group read at generation gen,
// unless a write began or ended since.
func (c *phoneCheck) keep(gen uint64, group string, users reachable) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.groups == nil || c.at != gen || len(c.groups) >= maxCachedGroups {
		c.groups = make(map[string]reachable)
		c.at = gen
	}
	c.groups[group] = users
}

// invalidate ends every answer read so far.
func (c *phoneCheck) invalidate() { c.gen.Add(1) }

// firstPriority runs the invalidation before every other handler of its
// stage, PocketBase's own (-99) included.
const firstPriority = -1000

// invalidateOnWrites binds the bumps of gen to every write of a record in
// phonesCollections: creates, updates and deletes, from the records API,
// a batch, the dashboard or Go (PocketBase's cascades included).
func (c *phoneCheck) invalidateOnWrites(app core.App) {
	cols := phonesCollections
	bump := func() *hook.Handler[*core.RecordEvent] {
		return &hook.Handler[*core.RecordEvent]{Priority: firstPriority, Func: func(e *core.RecordEvent) error {
			c.invalidate()
			return e.Next()
		}}
	}
	bumpErr := func() *hook.Handler[*core.RecordErrorEvent] {
		return &hook.Handler[*core.RecordErrorEvent]{Priority: firstPriority, Func: func(e *core.RecordErrorEvent) error {
			c.invalidate()
			return e.Next()
		}}
	}
	app.OnRecordCreateExecute(cols...).Bind(bump())
	app.OnRecordUpdateExecute(cols...).Bind(bump())
	app.OnRecordDeleteExecute(cols...).Bind(bump())
	app.OnRecordAfterCreateSuccess(cols...).Bind(bump())
	app.OnRecordAfterUpdateSuccess(cols...).Bind(bump())
	app.OnRecordAfterDeleteSuccess(cols...).Bind(bump())
	app.OnRecordAfterCreateError(cols...).Bind(bumpErr())
	app.OnRecordAfterUpdateError(cols...).Bind(bumpErr())
	app.OnRecordAfterDeleteError(cols...).Bind(bumpErr())
}
