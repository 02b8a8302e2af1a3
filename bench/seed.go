package main

import (
	"encoding/json/v2"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	_ "github.com/crews/hearth/pb_migrations"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Dataset is the size of a seeded world. Users 0..Small*10-1 are in small
// group u/10 (the first of each ten owns it); users idx*Big+b for
// idx < 500 are in big group b as well.
type Dataset struct {
	Users, Small, Big, Events, RSVPs, Messages int
}

// The two datasets: the issue's, and for bench-quick one with a fifth of
// its users and a tenth of its rows.
var (
	Full  = Dataset{Users: 10000, Small: 1000, Big: 20, Events: 100000, RSVPs: 300000, Messages: 1000000}
	Quick = Dataset{Users: 2000, Small: 200, Big: 2, Events: 10000, RSVPs: 30000, Messages: 100000}
)

// Manifest is what the load generator needs to know about the world.
type Manifest struct {
	Dataset Dataset  `json:"dataset"`
	Tokens  []string `json:"tokens"` // by user index
	// RSVPs lists, by user index, one RSVP of theirs (id) for the toggle scenario.
	RSVPs map[int]string `json:"rsvps"`
}

// bigSize is the number of members of a big group.
const bigSize = 500

func userID(i int) string  { return fmt.Sprintf("u%014d", i) }
func groupID(g int) string { return fmt.Sprintf("g%014d", g) }

// seed builds a data dir in dir with the schema (every migration) and the
// dataset, with SQL in one transaction, and returns its manifest.
func seed(dir string, d Dataset) (*Manifest, error) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		return nil, fmt.Errorf("seed: bootstrap: %w", err)
	}
	defer app.ResetBootstrapState()
	if err := app.RunAllMigrations(); err != nil {
		return nil, fmt.Errorf("seed: migrations: %w", err)
	}
	// The migration's backfill ran on empty tables; the log is refilled
	// below the same way for the seeded rows.
	params := dbx.Params{
		"users": d.Users, "small": d.Small, "big": d.Big, "bigsize": bigSize,
		"events": d.Events, "rsvps": d.RSVPs, "messages": d.Messages,
		"groups": d.Small + d.Big, "ts": "2026-01-01 00:00:00.000Z", "now": time.Now().UnixMilli(),
	}
	// member(gi, idx): the idx-th member of group index gi.
	member := func(gi, idx string) string {
		return fmt.Sprintf(`printf('u%%014d', CASE WHEN %[1]s < {:small} THEN %[1]s*10 + (%[2]s) %% 10 ELSE ((%[2]s) %% {:bigsize})*{:big} + (%[1]s - {:small}) END)`, gi, idx)
	}
	stmts := []string{
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:users})
		INSERT INTO users (id, email, emailVisibility, verified, password, tokenKey, name, avatar, created, updated)
		SELECT printf('u%014d', i), printf('u%014d@bench.test', i), 0, 1, 'x', printf('k%014d', i), 'User ' || i, '', {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:groups})
		INSERT INTO groups (id, name, description, cover, created_by, created, updated)
		SELECT printf('g%014d', i), 'Group ' || i, '', '', ` + member("i", "0") + `, {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:small}*10)
		INSERT INTO memberships (id, "group", user, role, created, updated)
		SELECT printf('s%014d', i), printf('g%014d', i/10), printf('u%014d', i), CASE WHEN i % 10 = 0 THEN 'owner' ELSE 'member' END, {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:big}*{:bigsize})
		INSERT INTO memberships (id, "group", user, role, created, updated)
		SELECT printf('b%014d', i), printf('g%014d', {:small} + i % {:big}), printf('u%014d', i), CASE WHEN i < {:big} THEN 'owner' ELSE 'member' END, {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:events})
		INSERT INTO events (id, "group", title, description, starts_at, ends_at, place, capacity, going_count, created_by, created, updated)
		SELECT printf('e%014d', i), printf('g%014d', i % {:groups}), 'Event ' || i, '', strftime('%Y-%m-%d %H:%M:%S.000Z', 1800000000 + i*60, 'unixepoch'), '', '', 0,
			CASE WHEN i < {:rsvps}/3 THEN 3 ELSE 0 END, ` + member("(i % {:groups})", "i / {:groups}") + `, {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:rsvps})
		INSERT INTO rsvps (id, event, user, status, created, updated)
		SELECT printf('r%014d', i), printf('e%014d', i/3), ` + member("((i/3) % {:groups})", "(i/3)/{:groups} + i % 3") + `, 'going', {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:messages})
		INSERT INTO messages (id, "group", author, body, attachments, created, updated)
		SELECT printf('m%014d', i), printf('g%014d', i % {:groups}), ` + member("(i % {:groups})", "i / {:groups}") + `, 'Message ' || i, '[]',
			strftime('%Y-%m-%d %H:%M:%S.000Z', 1760000000 + i, 'unixepoch'), strftime('%Y-%m-%d %H:%M:%S.000Z', 1760000000 + i, 'unixepoch') FROM n`,
		// The change log, as pb_migrations/1764115300_changelog.go backfills it.
		`DELETE FROM _hearth_changes`,
		backfill("groups", "id", "''", "groups"),
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
			SELECT {:now}, 'users', u.id, 'create',
				COALESCE((SELECT group_concat(ms."group") FROM memberships ms WHERE ms.user = u.id), ''), ''
			FROM users u ORDER BY u.rowid`,
		backfill("memberships", `"group"`, "user", "memberships"),
		backfill("events", `"group"`, "''", "events"),
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
			SELECT {:now}, 'rsvps', r.id, 'create', COALESCE(e."group", ''), ''
			FROM rsvps r LEFT JOIN events e ON e.id = r.event ORDER BY r.rowid`,
		backfill("messages", `"group"`, "''", "messages"),
	}
	err := app.RunInTransaction(func(tx core.App) error {
		for _, s := range stmts {
			if _, err := tx.DB().NewQuery(s).Bind(params).Execute(); err != nil {
				return fmt.Errorf("%w in %.80s", err, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if _, err := app.DB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		return nil, fmt.Errorf("seed: checkpoint: %w", err)
	}

	m := &Manifest{Dataset: d, RSVPs: map[int]string{}}
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		return nil, err
	}
	for i := range d.Users {
		r := core.NewRecord(users)
		r.Id = userID(i)
		r.Set("tokenKey", fmt.Sprintf("k%014d", i))
		token, err := r.NewAuthToken()
		if err != nil {
			return nil, fmt.Errorf("seed: token: %w", err)
		}
		m.Tokens = append(m.Tokens, token)
	}
	var rows []struct {
		ID   string `db:"id"`
		User string `db:"user"`
	}
	if err := app.DB().Select("id", "user").From("rsvps").Limit(5000).All(&rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		var i int
		fmt.Sscanf(r.User, "u%d", &i)
		if _, dup := m.RSVPs[i]; !dup {
			m.RSVPs[i] = r.ID
		}
	}
	return m, nil
}

func backfill(collection, groupsExpr, memberExpr, table string) string {
	return fmt.Sprintf(`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
		SELECT {:now}, '%s', id, 'create', %s, %s FROM %s ORDER BY rowid`, collection, groupsExpr, memberExpr, table)
}

// cachedSeed returns a seeded template dir for d, built once per machine
// and schema in the temp dir (it is read only: servers run on copies).
// The schema is part of its name: a template seeded before a migration
// was added would be migrated by every server start, inside the cold
// start the report measures.
func cachedSeed(d Dataset) (string, *Manifest, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("hearth-bench-v2-%d-%d-%d-%d-%s", d.Users, d.Big, d.Events, d.Messages, schemaKey()))
	manifestPath := filepath.Join(dir, "manifest.json")
	if raw, err := os.ReadFile(manifestPath); err == nil {
		m := &Manifest{}
		if err := json.Unmarshal(raw, m); err == nil {
			return dir, m, nil
		}
	}
	os.RemoveAll(dir)
	start := time.Now()
	m, err := seed(dir, d)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(manifestPath, raw, 0o644); err != nil {
		return "", nil, err
	}
	logf("seeded %+v in %s", d, time.Since(start).Round(time.Second))
	return dir, m, nil
}

// schemaKey names the migrations a template is seeded with.
func schemaKey() string {
	h := fnv.New32a()
	for _, m := range core.AppMigrations.Items() {
		h.Write([]byte(m.File + "\n"))
	}
	return fmt.Sprintf("%08x", h.Sum32())
}
