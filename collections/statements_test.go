package collections_test

import (
	"regexp"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// sqlLog records every statement app runs on its writer connection (where
// each write and its hooks' reads run) from now on.
func sqlLog(t *testing.T, app core.App) func() []string {
	t.Helper()
	return hearthtest.StatementLog(t, app.NonconcurrentDB())
}

func matching(log []string, re *regexp.Regexp) int {
	n := 0
	for _, s := range log {
		if re.MatchString(s) {
			n++
		}
	}
	return n
}

var (
	// PocketBase's read of an event, or the RSVP hooks' read of it with
	// the membership or the stored status (eventForCreate, eventForUpdate).
	eventRead     = regexp.MustCompile("FROM `events` WHERE `events`.`id`=|FROM {{events}} e")
	waitlistQuery = regexp.MustCompile("ORDER BY `waitlisted_at`")
	// PocketBase's validation of a relation: does the related record exist.
	relationCheck = regexp.MustCompile("^SELECT count\\(\\*\\) FROM `(events|users)` WHERE `id`=")
)

// What an RSVP write runs inside SQLite's write lock beside its own
// statements: its event read once (the change log takes the RSVP's
// groups from that copy), and the waitlist queried only when someone
// waits. PocketBase validates the RSVP before the hooks open the write's
// transaction, so its relation checks run on the read pool, as plain
// PocketBase's do. ClimbEvent has room for 2 and Carol going.
func TestRSVPWritesReadTheirEventOnce(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	statements := sqlLog(t, app)
	check := func(what string, events, waitlists int) {
		t.Helper()
		log := statements()
		if n := matching(log, eventRead); n != events {
			t.Errorf("%s: %d reads of the event, want %d:\n%q", what, n, events, log)
		}
		if n := matching(log, waitlistQuery); n != waitlists {
			t.Errorf("%s: %d waitlist queries, want %d:\n%q", what, n, waitlists, log)
		}
		if n := matching(log, relationCheck); n != 0 {
			t.Errorf("%s: %d relation checks on the writer connection, want 0:\n%q", what, n, log)
		}
	}

	alice := hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Alice, "status": collections.StatusGoing})
	check("Alice's new RSVP", 1, 0)
	bob := hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Bob, "status": collections.StatusGoing})
	check("Bob's new RSVP, waitlisted", 1, 0)
	if got := collections.As[collections.RSVP](bob).Status(); got != collections.StatusWaitlisted {
		t.Fatalf("Bob is %s, want waitlisted", got)
	}
	alice.Set("status", collections.StatusMaybe)
	if err := app.Save(alice); err != nil {
		t.Fatal(err)
	}
	check("Alice's maybe, which promotes Bob", 1, 1)
	checkCounts(t, app, hearthtest.ClimbEvent, 2, 0)
	alice.Set("status", collections.StatusGoing)
	if err := app.Save(alice); err != nil {
		t.Fatal(err)
	}
	check("Alice's going again, waitlisted", 1, 0)
	checkCounts(t, app, hearthtest.ClimbEvent, 2, 1)
}
