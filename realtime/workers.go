package realtime

import (
	"sync"
)

// task is one change's work for one owner's connections: judging and
// encoding their topics, or for a deletion queuing the messages decided
// before its row went.
type task struct {
	owner    string
	ch       *change
	conns    []*conn    // the owner's candidates
	prepared []delivery // a deletion's, decided at its capture
	shared   *payloads  // the change's payloads, shared between owners
	admitted bool       // the index held owner as a member of the record's group (index_rules.go)

	// Room for what most tasks hold one of, in the task's own allocation:
	// a change into a group of 500 makes 500 tasks, and a slice and a
	// queue allocated for each were 4 of the 8 allocations a delivery
	// made (BenchmarkDeliverGroupOf500, docs/benchmarks.md, fifth pass).
	one   [1]*conn   // conns, when the owner has one candidate
	queue ownerTasks // the owner's queue, when this task starts it
}

// ownerTasks is the queue of one owner's tasks, in commit order.
type ownerTasks struct {
	key   string
	tasks []*task
	first [1]*task // tasks, until a second is queued behind the first
}

// workers judge and encode deliveries off the dispatcher, so that one
// change's cost does not hold up the changes after it. An owner's tasks
// run one at a time, in the order the dispatcher queued them (commit
// order), which keeps every connection's messages in commit order; owners
// take turns, so an owner whose topics are expensive holds one worker at a
// time and everyone else is served by the others.
type workers struct {
	h *hub

	mu     sync.Mutex
	cond   *sync.Cond
	queues map[string]*ownerTasks // owners with tasks queued or running
	ready  []*ownerTasks          // owners whose next task may start, in turn
	quit   bool
	wg     sync.WaitGroup
}

func (w *workers) init(h *hub, n int) {
	w.h = h
	w.cond = sync.NewCond(&w.mu)
	w.queues = map[string]*ownerTasks{}
	for range n {
		w.wg.Add(1)
		go w.loop()
	}
}

// push queues each task after its owner's earlier tasks: one change's
// tasks, one per owner, under one lock and with one wake-up of the
// workers (a change into a group of 500 took 500 of each). An owner with
// more tasks waiting than a connection may have messages waiting is not
// keeping up (their topics cost more than their groups' changes leave
// time for): their connections are closed, as a connection whose queue
// overflows is, and their waiting tasks dropped. The app reconnects and
// catches up with GET /api/sync.
func (w *workers) push(tasks []*task) {
	if len(tasks) == 0 {
		return
	}
	w.h.mu.RLock()
	limit := w.h.cfg.ClientBuffer
	w.h.mu.RUnlock()
	var overflow []*task
	w.mu.Lock()
	for _, t := range tasks {
		q := w.queues[t.owner]
		if q == nil {
			// The queue lives in the task that starts it, and keeps that
			// task (and its change) until the owner's queue is empty.
			q = &t.queue
			q.key, q.tasks = t.owner, q.first[:0]
			w.queues[t.owner] = q
			w.ready = append(w.ready, q)
		}
		q.tasks = append(q.tasks, t)
		if len(q.tasks) > limit {
			overflow = append(overflow, q.tasks...)
			q.tasks = nil
		}
	}
	w.mu.Unlock()
	if len(tasks) == 1 {
		w.cond.Signal()
	} else {
		w.cond.Broadcast()
	}
	for _, t := range overflow {
		for _, c := range t.conns {
			c.drop(w.h.metrics.dropped.Inc)
		}
		for _, d := range t.prepared {
			d.conn.drop(w.h.metrics.dropped.Inc)
		}
	}
}

func (w *workers) loop() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		for len(w.ready) == 0 && !w.quit {
			w.cond.Wait()
		}
		if w.quit {
			w.mu.Unlock()
			return
		}
		q := w.ready[0]
		w.ready = w.ready[1:]
		var t *task
		if len(q.tasks) > 0 {
			t = q.tasks[0]
			q.tasks = q.tasks[1:]
		}
		w.mu.Unlock()

		if t != nil {
			w.h.run(t)
		}

		w.mu.Lock()
		if len(q.tasks) > 0 {
			w.ready = append(w.ready, q) // its turn again after the others'
			w.cond.Signal()
		} else {
			delete(w.queues, q.key)
		}
		w.mu.Unlock()
	}
}

// stop ends the workers once the tasks they are running are done; queued
// tasks are dropped.
func (w *workers) stop() {
	w.mu.Lock()
	w.quit = true
	w.mu.Unlock()
	w.cond.Broadcast()
	w.wg.Wait()
}
