package push_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// isPhonesQuestion tells the phones question among logged statements: the
// log has its SQL with the parameters filled in, so up to the first one.
func isPhonesQuestion(s string) bool {
	q := push.ReachableQuestion
	return strings.HasPrefix(s, q[:strings.Index(q, "{:")])
}

// Every change to what decides the phones question shows in the next
// message of the group: Bob posts to Climbers after each, where at first
// only Carol, who muted it, has a phone. The answer before each change was
// remembered (the previous message asked), so each step fails if that
// kind of write does not end the remembered answers.
func TestPhonesAnswerFollowsEveryChange(t *testing.T) {
	t.Parallel()
	app := pushApp(t, newFakeExpo(t), nil)
	step := func(what string, rows int) {
		t.Helper()
		before := outboxRows(t, app)
		post(t, app, hearthtest.Climbers, hearthtest.Bob, what)
		if n := outboxRows(t, app) - before; n != rows {
			t.Errorf("%s: %d outbox rows, want %d", what, n, rows)
		}
	}
	remove := func(collection, id string) {
		t.Helper()
		if err := app.Delete(hearthtest.Record(t, app, collection, id)); err != nil {
			t.Fatal(err)
		}
	}

	step("only a muting member has a phone", 0)
	remove(collections.Mutes, hearthtest.CarolMute)
	step("Carol unmuted", 1)
	mute := hearthtest.Save(t, app, collections.Mutes, "", map[string]any{"user": hearthtest.Carol, "group": hearthtest.Climbers})
	step("Carol muted again", 0)
	alicePhone := addDevice(t, app, hearthtest.Alice, alicePhone)
	step("Alice registered a phone", 1)
	remove(collections.Devices, alicePhone.Id)
	step("Alice's phone deleted", 0)
	remove(collections.Mutes, mute.Id)
	remove(collections.Devices, hearthtest.CarolDevice)
	step("Carol unmuted, her phone deleted", 0)

	ids, _ := hearthtest.NewUsers(t, app, "fay", 1)
	fay := ids[0]
	addDevice(t, app, fay, "ExponentPushToken[fay-phone]")
	step("Fay, not a member, registered a phone", 0)
	hearthtest.AddMembers(t, app, hearthtest.Climbers, []string{fay})
	step("Fay joined", 1)
	remove(collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, fay))
	step("Fay left", 0)
	hearthtest.AddMembers(t, app, hearthtest.Climbers, []string{fay})
	step("Fay joined again", 1)
	// PocketBase deletes her membership and phone with her (cascade).
	remove(collections.Users, fay)
	step("Fay's account deleted", 0)
}

// A second message in the same group with nothing changed in between asks
// the database nothing; a write to a phones collection anywhere makes the
// next one ask again.
func TestPhonesQuestionAskedOnceUntilAChange(t *testing.T) {
	t.Parallel()
	app := pushApp(t, newFakeExpo(t), nil)
	statements := hearthtest.StatementLog(t, app.ConcurrentDB())
	asked := func(what string, want int) {
		t.Helper()
		post(t, app, hearthtest.Climbers, hearthtest.Bob, what)
		n := 0
		for _, s := range statements() {
			if isPhonesQuestion(s) {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: the phones question asked %d times, want %d", what, n, want)
		}
	}
	asked("first message", 1)
	asked("second message", 0)
	asked("third message", 0)
	addDevice(t, app, hearthtest.Erin, "ExponentPushToken[erin-phone]") // in Chess
	statements()
	asked("after a phone registered elsewhere", 1)
	asked("and again", 0)
}

// Every write of a record of each phones collection moves the generation
// at its Execute stage, before its transaction commits, and again once it
// has ended, whether it committed or failed; the bumps run before the
// other handlers, so one that does not call Next skips none.
func TestEveryPhonesCollectionWriteInvalidates(t *testing.T) {
	t.Parallel()
	if len(push.PhonesCollections) == 0 {
		t.Fatal("no phones collections")
	}
	// A record of each in the fixture world.
	fixture := map[string]string{
		collections.Memberships: "",
		collections.Devices:     hearthtest.CarolDevice,
		collections.Mutes:       hearthtest.CarolMute,
	}
	for _, name := range push.PhonesCollections {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			id, ok := fixture[name]
			if !ok {
				t.Fatalf("no fixture record of %s for this test", name)
			}
			var atExecute, after uint64
			fail := false
			gen := func(e *core.RecordEvent) uint64 { return push.Generation(e.App) }
			app := hearthtest.NewAppWith(t, func(app core.App, cfg crews.Config) {
				// Bound before crews.Register, so they would run before
				// push's handlers of the same priority. The after-write
				// ones do not call Next: the bumps must have run already.
				app.OnRecordCreateExecute(name).BindFunc(func(e *core.RecordEvent) error {
					atExecute = gen(e)
					if fail {
						return errors.New("failed on purpose")
					}
					return e.Next()
				})
				atExec := func(e *core.RecordEvent) error { atExecute = gen(e); return e.Next() }
				app.OnRecordUpdateExecute(name).BindFunc(atExec)
				app.OnRecordDeleteExecute(name).BindFunc(atExec)
				ended := func(e *core.RecordEvent) error { after = gen(e); return nil }
				app.OnRecordAfterCreateSuccess(name).BindFunc(ended)
				app.OnRecordAfterUpdateSuccess(name).BindFunc(ended)
				app.OnRecordAfterDeleteSuccess(name).BindFunc(ended)
				app.OnRecordAfterCreateError(name).BindFunc(func(e *core.RecordErrorEvent) error {
					after = push.Generation(e.App)
					return nil
				})
				crews.Register(app, cfg)
			})
			if id == "" {
				id = hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol)
			}

			r := hearthtest.Record(t, app, name, id)
			again := core.NewRecord(r.Collection())
			again.Load(r.FieldsData())
			again.Id = r.Id
			check := func(what string, write func() error, wantErr bool) {
				t.Helper()
				before := push.Generation(app)
				err := write()
				if (err != nil) != wantErr {
					t.Fatalf("%s %s: error %v", what, name, err)
				}
				if !(before < atExecute && atExecute < after) {
					t.Errorf("%s %s: generation %d before, %d at Execute, %d after, want it to move at each", what, name, before, atExecute, after)
				}
			}
			check("update", func() error { return app.Save(r) }, false)
			check("delete", func() error { return app.Delete(r) }, false)
			check("create", func() error { return app.Save(again) }, false)
			fail = true
			failed := core.NewRecord(r.Collection())
			failed.Load(r.FieldsData())
			failed.Id = ""
			check("failed create", func() error { return app.Save(failed) }, true)
		})
	}
}

// An answer read while a phone's registration is in flight (here inside
// its transaction, after its row is written: the read pool does not see
// it yet) is not used once the registration has committed.
func TestAnswerReadDuringAWriteIsNotKept(t *testing.T) {
	t.Parallel()
	app := pushApp(t, newFakeExpo(t), nil)
	var during []bool
	app.OnRecordCreateExecute(collections.Devices).BindFunc(func(e *core.RecordEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		reach, err := push.Reaches(app, hearthtest.Climbers, hearthtest.Bob)
		during = append(during, reach)
		return err
	})
	addDevice(t, app, hearthtest.Alice, alicePhone)
	if !slices.Equal(during, []bool{false}) {
		t.Fatalf("answers during the write: %v, want [false] (the phone not committed yet)", during)
	}
	reach, err := push.Reaches(app, hearthtest.Climbers, hearthtest.Bob)
	if err != nil || !reach {
		t.Errorf("after the commit: %v, %v; want true", reach, err)
	}
}

// The remembered answers are the database's on generated worlds: members,
// phones and mutes added and removed, roles changed, accounts deleted, in
// random orders; after every write each group's answer for each actor is
// compared with the question asked of the database.
func TestPhonesAnswersMatchTheDatabase(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			world(t, seed)
		})
	}
}

func world(t *testing.T, seed uint64) {
	app := pushApp(t, newFakeExpo(t), nil)
	rnd := rand.New(rand.NewPCG(seed, 21))
	extra, _ := hearthtest.NewUsers(t, app, fmt.Sprintf("w%d-", seed), 5)
	users := append([]string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin}, extra...)
	groups := []string{hearthtest.Climbers, hearthtest.Chess}
	pick := func(s []string) string { return s[rnd.IntN(len(s))] }
	records := func(collection string, where dbx.Expression) []*core.Record {
		var rs []*core.Record
		q := app.RecordQuery(collection).OrderBy("id")
		if where != nil {
			q = q.AndWhere(where)
		}
		if err := q.All(&rs); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	// Members who own nothing may leave or delete their account; owners
	// stay (a group keeps an owner; PocketBase refuses to delete a user a
	// required relation names).
	removable := func(collection string) []*core.Record {
		return records(collection, dbx.Not(dbx.In("user", hearthtest.Alice, hearthtest.Dave)))
	}
	tokens := 0
	writes := []struct {
		name string
		run  func() (string, error)
	}{
		{"join", func() (string, error) {
			g, u := pick(groups), pick(users)
			if _, err := collections.FindMembership(app, g, u); err == nil {
				return "", nil
			}
			_, err := collections.AddMember(app, g, u, collections.RoleMember)
			return fmt.Sprintf("%s joins %s", u, g), err
		}},
		{"leave", func() (string, error) {
			ms := removable(collections.Memberships)
			if len(ms) == 0 {
				return "", nil
			}
			m := ms[rnd.IntN(len(ms))]
			return fmt.Sprintf("%s leaves %s", m.GetString("user"), m.GetString("group")), app.Delete(m)
		}},
		{"role", func() (string, error) {
			ms := removable(collections.Memberships)
			if len(ms) == 0 {
				return "", nil
			}
			m := ms[rnd.IntN(len(ms))]
			m.Set("role", pick([]string{collections.RoleMember, collections.RoleAdmin}))
			return fmt.Sprintf("%s's role in %s", m.GetString("user"), m.GetString("group")), app.Save(m)
		}},
		{"phone", func() (string, error) {
			u := pick(users)
			tokens++
			_, err := saveRecord(app, collections.Devices, map[string]any{"user": u, "token": fmt.Sprintf("ExponentPushToken[w-%d]", tokens), "platform": collections.PlatformAndroid})
			return u + " registers a phone", err
		}},
		{"unregister", func() (string, error) {
			ds := records(collections.Devices, nil)
			if len(ds) == 0 {
				return "", nil
			}
			d := ds[rnd.IntN(len(ds))]
			return d.GetString("user") + " deletes a phone", app.Delete(d)
		}},
		{"mute", func() (string, error) {
			ms := records(collections.Memberships, nil)
			m := ms[rnd.IntN(len(ms))]
			data := map[string]any{"user": m.GetString("user"), "group": m.GetString("group")}
			if len(records(collections.Mutes, dbx.HashExp(data))) > 0 {
				return "", nil
			}
			_, err := saveRecord(app, collections.Mutes, data)
			return fmt.Sprintf("%s mutes %s", data["user"], data["group"]), err
		}},
		{"unmute", func() (string, error) {
			ms := records(collections.Mutes, nil)
			if len(ms) == 0 {
				return "", nil
			}
			m := ms[rnd.IntN(len(ms))]
			return fmt.Sprintf("%s unmutes %s", m.GetString("user"), m.GetString("group")), app.Delete(m)
		}},
		{"delete account", func() (string, error) {
			if rnd.IntN(4) != 0 || len(users) <= 5 {
				return "", nil
			}
			i := 5 + rnd.IntN(len(users)-5)
			u := users[i]
			users = slices.Delete(users, i, i+1)
			return u + " deletes their account", app.Delete(hearthtest.Record(t, app, collections.Users, u))
		}},
	}
	// The answers seen, and how often one changed: a world whose answers
	// never change would test nothing.
	last, changed := map[string]bool{}, 0
	for i := range 80 {
		w := writes[rnd.IntN(len(writes))]
		what, err := w.run()
		if err != nil {
			t.Fatalf("write %d (%s): %v", i, what, err)
		}
		if what == "" {
			continue
		}
		for _, g := range groups {
			for _, actor := range users {
				got, err := push.Reaches(app, g, actor)
				if err != nil {
					t.Fatal(err)
				}
				want, err := push.ReachesUncached(app, g, actor)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("after write %d (%s): a change in %s by %s reaches a phone: remembered %v, the database says %v", i, what, g, actor, got, want)
				}
				if prev, ok := last[g+actor]; ok && prev != got {
					changed++
				}
				last[g+actor] = got
			}
		}
	}
	if changed < 10 {
		t.Errorf("the answers changed %d times in this world, want at least 10", changed)
	}
	t.Logf("seed %d: the answers changed %d times", seed, changed)
}

func saveRecord(app core.App, collection string, data map[string]any) (*core.Record, error) {
	col, err := app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		return nil, err
	}
	r := core.NewRecord(col)
	r.Load(data)
	return r, app.Save(r)
}

// Questions asked all the while phones come and go never leave an answer
// that outlives the write: once a registration or a deletion has
// returned, the next question has its answer.
func TestPhonesAnswersUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	app := pushApp(t, newFakeExpo(t), nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := push.Reaches(app, hearthtest.Climbers, hearthtest.Bob); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	defer func() { close(done); wg.Wait() }()
	expect := func(i int, want bool) {
		t.Helper()
		if got, err := push.Reaches(app, hearthtest.Climbers, hearthtest.Bob); err != nil || got != want {
			t.Fatalf("round %d: %v, %v after the write returned; want %v", i, got, err, want)
		}
	}
	for i := range 40 {
		phone := addDevice(t, app, hearthtest.Alice, alicePhone)
		expect(i, true)
		if err := app.Delete(phone); err != nil {
			t.Fatal(err)
		}
		expect(i, false)
	}
}
