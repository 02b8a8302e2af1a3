package changefeed

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Request is one call of the feed: at most Limit changes after Cursor,
// for Collections (a subset of Synced; empty means all).
type Request struct {
	Cursor      Cursor
	Collections []string
	Limit       int
}

// Change operations in a Page.
const (
	// OpUpsert: the record exists and the caller may see it; Record holds it.
	OpUpsert = "upsert"
	// OpDelete: the record was deleted (a tombstone).
	OpDelete = "delete"
	// OpRevoke: the record may exist, but the caller may no longer see it.
	OpRevoke = "revoke"
)

// Change is one item of a page: a record's outcome as of the request.
type Change struct {
	// Seq is the log entry that placed the change here: the record's own
	// last write, or the membership change whose items it is part of (all
	// changes of one expansion share it).
	// It is not sent: a position in the log every crew shares would tell
	// a client how many writes the server made elsewhere (see seal.go).
	Seq        int64        `json:"-"`
	Op         string       `json:"op"`
	Collection string       `json:"collection"`
	ID         string       `json:"id"`
	Record     *core.Record `json:"record,omitempty"`
}

// Page is the answer to a Request.
type Page struct {
	// Cursor is where the page ends: the next request's cursor.
	Cursor Cursor
	// More is true when the feed goes on after Cursor.
	More bool
	// Changes are in feed order, at most Limit of them.
	Changes []Change
}

// GoneError reports a cursor the log can no longer serve: the client must
// clear its store and sync from Start.
type GoneError struct{ Reason string }

func (e *GoneError) Error() string { return e.Reason + ": resync from cursor 0" }

// scanFactor bounds the feed positions one request reads to scanFactor
// times its limit: positions that concern nothing the caller may see (the
// log of other groups, or records a later expansion delivers) yield no
// change, and reading on until limit changes are found could read the
// whole log in one request.
const scanFactor = 20

// Sync answers req for the signed-in user caller. The records in the page
// are as stored; the caller serializes them for a client (the handler
// enriches them as the records API would).
//
// A page walks the caller's feed (see Cursor) from req.Cursor and reports
// each record at one position only, its last: the later of its own last
// log entry (for a user, also their last joining or leaving of a group the
// caller was then a member of, and the caller's leaving of a group they
// were in then) and the caller's latest joining of a group the record is
// in now; a record the caller must drop because they left a group it was
// in is dropped at that leaving, when it comes first. So a record is sent once
// per sync unless it changes meanwhile, however many entries it has, and
// a page holds at most req.Limit changes, each position yielding at most
// one.
//
// A reported record's outcome is evaluated as of the request: it is
// upserted when the collection's list rule admits the caller (the rule
// engine of the list API decides); otherwise it is dropped (a tombstone
// when deleted, else a revocation) only when the caller could hold a copy
// at req.Cursor: it existed then, in a group the caller was a member of
// then (a user: sharing one with the caller then). So nobody learns the
// id of a record of a group they never belonged to, nor of one created
// after they lost access, nor anything of a group after the page that
// told them they left it.
func Sync(app core.App, caller *core.Record, req Request) (*Page, error) {
	if caller == nil || caller.Collection().Name != collections.Users {
		return nil, errors.New("sync: the caller must be a signed-in user")
	}
	if req.Limit < 1 {
		return nil, fmt.Errorf("sync: limit %d is not positive", req.Limit)
	}
	set := canonicalSet(req.Collections)
	if !req.Cursor.IsStart() && !sameSet(req.Cursor.Collections, set) {
		return nil, mismatch(req.Cursor.Collections, set)
	}

	var page *Page
	err := inSnapshot(app, func(snap core.App) error {
		p, err := syncPage(snap, caller, set, req)
		page = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// syncPage builds the page of req for Sync in one read snapshot of app,
// so that the retention horizon it checks the cursor against is the one
// of the log it reads: a prune is wholly before the page or wholly after.
func syncPage(app core.App, caller *core.Record, set []string, req Request) (*Page, error) {
	horizon, head, err := bounds(app)
	if err != nil {
		return nil, err
	}
	if !req.Cursor.IsStart() {
		if req.Cursor.Seq > head {
			return nil, &GoneError{Reason: "cursor is ahead of the change log: the server's data was replaced"}
		}
		// A cursor inside the items of a pruned entry is gone too: the
		// entry that says what its remaining items are (a leaving's
		// revocations) is no longer there to read them from.
		if req.Cursor.Seq < horizon || (req.Cursor.Seq == horizon && req.Cursor.Item != nil) {
			return nil, &GoneError{Reason: "cursor is older than the retained change log"}
		}
	}

	f := newFeed(app, caller, set, head)
	page := &Page{Cursor: req.Cursor, Changes: []Change{}}
	page.Cursor.Collections = set
	for scanned := 0; len(page.Changes) < req.Limit && scanned < scanFactor*req.Limit; {
		chunk, err := f.read(page.Cursor, req.Limit-len(page.Changes))
		if err != nil {
			return nil, err
		}
		changes, err := f.place(req.Cursor, chunk.positions)
		if err != nil {
			return nil, err
		}
		page.Changes = append(page.Changes, changes...)
		page.Cursor, page.More = chunk.next, chunk.more
		scanned += len(chunk.positions)
		if !chunk.more {
			break
		}
	}
	return page, nil
}

// mismatch is the 400 for a cursor continued with another collection set.
func mismatch(issued, asked []string) error {
	msg := fmt.Sprintf("the cursor was issued for collections=%s and cannot serve collections=%s: a sync of one set skips the changes of the others. Continue with collections=%s, or sync the new set from cursor 0.",
		setParam(issued), setParam(asked), setParam(issued))
	return &collections.Error{Code: collections.EINVALID, Message: msg, Fields: map[string]collections.FieldError{
		"collections": {Code: "sync_cursor_collections", Message: msg},
	}}
}

func setParam(set []string) string {
	if set == nil {
		return "(all, the default)"
	}
	return strings.Join(set, ",")
}

// bounds returns the retention horizon (the last pruned sequence number)
// and the head (the last sequence number ever assigned).
func bounds(app core.App) (horizon, head int64, err error) {
	if err := app.DB().Select("horizon").From(stateTable).Where(dbx.HashExp{"id": 1}).Row(&horizon); err != nil {
		return 0, 0, fmt.Errorf("sync: read horizon: %w", err)
	}
	// The newest entry is the last number assigned: the log has no
	// AUTOINCREMENT, and pruning never deletes its newest entry.
	if err := app.DB().NewQuery("SELECT COALESCE(MAX([[seq]]), 0) AS head FROM {{" + changesTable + "}}").Row(&head); err != nil {
		return 0, 0, fmt.Errorf("sync: read head: %w", err)
	}
	return horizon, head, nil
}

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
