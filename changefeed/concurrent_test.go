package changefeed_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/internal/hearthtest"
)

// TestConcurrentWritersLoseNothing runs writers (through the records API,
// as three users) while readers sync page by page; when the writers are
// done, one more sync must bring each reader's store to exactly what the
// list API returns: an entry committed while a page was read is either in
// that page or after its cursor, never skipped.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	tokens := map[string]string{}
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol} {
		tokens[u] = hearthtest.Token(t, app, u)
	}

	const writes = 40
	errs := make(chan error, 16)
	var writers sync.WaitGroup
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol} {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range writes {
				path := "/api/collections/messages/records"
				body := fmt.Sprintf(`{"group":%q,"body":"%s %d"}`, hearthtest.Climbers, u, i)
				id, err := post(srv, tokens[u], path, body)
				if err != nil {
					errs <- err
					return
				}
				switch i % 3 {
				case 1:
					if _, err := send(srv.Server, tokens[u], http.MethodPatch, path+"/"+id, `{"body":"edited"}`); err != nil {
						errs <- err
						return
					}
				case 2:
					if _, err := send(srv.Server, tokens[u], http.MethodDelete, path+"/"+id, ""); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}

	readers := []*client{newClient(tokens[hearthtest.Alice]), newClient(tokens[hearthtest.Carol])}
	bg := startLoops()
	for i, c := range readers {
		bg.run(func(int) error {
			_, err := c.syncOnce(srv.Server, 3+i)
			return err
		})
	}
	writers.Wait()
	bg.stop(t)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, c := range readers {
		c.mustSync(t, srv.Server, 7)
		c.matchesListAPI(t, srv.Server)
	}
	if n := len(readers[0].store["messages"]); n < writes {
		t.Fatalf("Alice holds %d messages, want at least %d", n, writes)
	}
}

// TestMembershipChurnWhileSyncing: Erin is added to Climbers and removed
// again, five times, while Bob posts and Erin syncs page by page; when it
// stops, one more sync brings her store to exactly what the list API
// returns.
func TestMembershipChurnWhileSyncing(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	root := hearthtest.SuperuserToken(t, app)
	bob := hearthtest.Token(t, app, hearthtest.Bob)
	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))

	bg := startLoops()
	bg.run(func(i int) error {
		_, err := post(srv, bob, "/api/collections/messages/records", fmt.Sprintf(`{"group":%q,"body":"%d"}`, hearthtest.Climbers, i))
		return err
	})
	bg.run(func(int) error {
		_, err := erin.syncOnce(srv.Server, 3)
		return err
	})
	for range 5 {
		id, err := post(srv, root, "/api/collections/memberships/records", `{"group":"`+hearthtest.Climbers+`","user":"`+hearthtest.Erin+`","role":"member"}`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := send(srv.Server, root, http.MethodDelete, "/api/collections/memberships/records/"+id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := post(srv, root, "/api/collections/memberships/records", `{"group":"`+hearthtest.Climbers+`","user":"`+hearthtest.Erin+`","role":"member"}`); err != nil {
		t.Fatal(err)
	}
	bg.stop(t)
	erin.mustSync(t, srv.Server, 3)
	erin.matchesListAPI(t, srv.Server)
}

// TestSyncWhilePruningAndChurning runs, in real goroutines, a writer, a
// superuser adding Erin to Climbers and removing her again, and a prune
// of everything but the last few milliseconds, while Alice's and Erin's
// devices read pages of two changes over HTTP (410: clear, resync from
// 0). When they stop, one more sync must bring each store to the list
// API. Repeated on fresh apps, as the interleavings differ run by run.
func TestSyncWhilePruningAndChurning(t *testing.T) {
	t.Parallel()
	for round := range 8 {
		t.Run(fmt.Sprintf("round=%d", round), func(t *testing.T) {
			app := hearthtest.NewApp(t)
			srv := &testServer{serve(t, app), app}
			root := hearthtest.SuperuserToken(t, app)
			bob := hearthtest.Token(t, app, hearthtest.Bob)
			devices := []*client{newClient(hearthtest.Token(t, app, hearthtest.Alice)), newClient(hearthtest.Token(t, app, hearthtest.Erin))}

			bg := startLoops()
			bg.run(func(i int) error {
				_, err := post(srv, bob, "/api/collections/messages/records", fmt.Sprintf(`{"group":%q,"body":"%d"}`, hearthtest.Climbers, i))
				return err
			})
			bg.run(func(int) error {
				_, err := changefeed.Prune(app, time.Millisecond, time.Now())
				return err
			})
			for _, d := range devices {
				bg.run(func(int) error {
					_, _, err := d.page(srv.Server, 2)
					return err
				})
			}
			for range 6 {
				id, err := post(srv, root, "/api/collections/memberships/records", `{"group":"`+hearthtest.Climbers+`","user":"`+hearthtest.Erin+`","role":"member"}`)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := send(srv.Server, root, http.MethodDelete, "/api/collections/memberships/records/"+id, ""); err != nil {
					t.Fatal(err)
				}
			}
			bg.stop(t)
			for _, d := range devices {
				syncOrResync(t, srv.Server, d, 2)
				d.matchesListAPI(t, srv.Server)
			}
		})
	}
}

// loops runs steps in goroutines, each over and over until stop, keeping
// the first error of each.
type loops struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func startLoops() *loops { return &loops{done: make(chan struct{})} }

// run calls step(0), step(1), ... in a goroutine of its own until stop or
// its first error.
func (l *loops) run(step func(i int) error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			if err := step(i); err != nil {
				l.mu.Lock()
				l.errs = append(l.errs, err)
				l.mu.Unlock()
				return
			}
		}
	}()
}

// stop ends every loop, waits for them, and fails t with their errors.
func (l *loops) stop(t *testing.T) {
	t.Helper()
	close(l.done)
	l.wg.Wait()
	for _, err := range l.errs {
		t.Error(err)
	}
	if len(l.errs) > 0 {
		t.FailNow()
	}
}
