package realtime

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Actions, as PocketBase names them in a realtime payload.
const (
	actionCreate = "create"
	actionUpdate = "update"
	actionDelete = "delete"
)

// change is one captured write of a group-scoped record.
type change struct {
	collection string
	action     string
	record     *core.Record // a fresh copy taken at the write
	oldGroup   string       // the group an update moved the record from
	oldUser    string       // the user an update took a membership from
	at         time.Time    // when the write was captured, inside its transaction
	// prepared holds a deletion's messages, decided before the row went.
	prepared []delivery
}

// delivery is a set of messages for one conn.
type delivery struct {
	conn *conn
	msgs []messageOut
}

// batch is the changes of one transaction, numbered when the transaction
// captured its first change.
type batch struct {
	seq     uint64
	changes []*change
	done    bool
}

// orderer releases batches to the dispatcher in the order of their
// numbers. A transaction holds SQLite's only write connection from its
// first statement to its commit, so a number taken inside it is smaller
// than every number taken by a transaction that commits later.
type orderer struct {
	h *hub

	mu      sync.Mutex
	next    uint64                     // the next number to take
	release uint64                     // the next number to release
	open    map[*core.TxAppInfo]*batch // transactions still running
	waiting map[uint64]*batch          // ended, waiting for an earlier one
	gap     *time.Timer                // armed while release is blocked
	queue   []*batch                   // released, for the dispatcher
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{} // closed when the dispatcher has returned
	stopped sync.Once
}

func (o *orderer) init(h *hub) {
	o.h = h
	o.open = map[*core.TxAppInfo]*batch{}
	o.waiting = map[uint64]*batch{}
	o.wake = make(chan struct{}, 1)
	o.quit = make(chan struct{})
	o.done = make(chan struct{})
	go o.dispatch()
}

// add appends ch to the batch of txApp's transaction. Outside a
// transaction the write has committed already and ch is a batch of its own.
func (o *orderer) add(txApp core.App, ch *change) {
	info := txApp.TxInfo()
	o.mu.Lock()
	defer o.mu.Unlock()
	if info == nil {
		b := &batch{seq: o.next, changes: []*change{ch}, done: true}
		o.next++
		o.finishLocked(b)
		return
	}
	b := o.open[info]
	if b == nil {
		b = &batch{seq: o.next}
		o.next++
		o.open[info] = b
		info.OnComplete(func(txErr error) error {
			o.end(info, txErr)
			return nil
		})
	}
	b.changes = append(b.changes, ch)
}

// end is called once the transaction committed (txErr nil) or rolled back.
func (o *orderer) end(info *core.TxAppInfo, txErr error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.open[info]
	delete(o.open, info)
	if b == nil {
		return
	}
	if txErr != nil {
		b.changes = nil // a rolled back write reached no one
	}
	b.done = true
	o.finishLocked(b)
}

func (o *orderer) finishLocked(b *batch) {
	o.waiting[b.seq] = b
	o.releaseLocked()
}

// releaseLocked queues every batch whose predecessors have all ended, and
// arms the gap timer while an ended batch waits for an earlier one.
func (o *orderer) releaseLocked() {
	released := false
	for {
		next, ok := o.waiting[o.release]
		if !ok {
			break
		}
		delete(o.waiting, o.release)
		o.release++
		if len(next.changes) > 0 {
			o.queue = append(o.queue, next)
		}
		released = true
	}
	if released {
		if o.gap != nil {
			o.gap.Stop()
			o.gap = nil
		}
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	if len(o.waiting) > 0 && o.gap == nil {
		blocked := o.release
		o.gap = time.AfterFunc(o.h.cfg.GapTimeout, func() { o.skip(blocked) })
	}
}

// skip gives up on number seq when its transaction never reported its end
// (a panic between its first write and its commit), so that the changes
// after it are not held forever.
func (o *orderer) skip(seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gap = nil
	if o.release == seq && len(o.waiting) > 0 {
		o.h.app.Logger().Warn("realtime: a transaction never ended; delivering the changes after it", "seq", seq)
		for info, b := range o.open {
			if b.seq == seq {
				delete(o.open, info)
			}
		}
		o.release++
	}
	o.releaseLocked()
}

func (o *orderer) dispatch() {
	defer close(o.done)
	for {
		select {
		case <-o.quit:
			return
		case <-o.wake:
		}
		for {
			o.mu.Lock()
			batches := o.queue
			o.queue = nil
			o.mu.Unlock()
			if len(batches) == 0 {
				break
			}
			for _, b := range batches {
				for _, ch := range b.changes {
					select {
					case <-o.quit:
						return
					default:
					}
					o.h.dispatchChange(ch)
				}
			}
		}
	}
}

// stop ends the dispatcher once the change it is delivering is done, so
// that nothing reads the database after the app closes it.
func (o *orderer) stop() {
	o.stopped.Do(func() { close(o.quit) })
	<-o.done
}
