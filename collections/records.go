package collections

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Every package reads Crews records through their typed wrappers (Group,
// User, Membership, Invite, Event, RSVP, Message), never by field-name
// strings: a field's name is then written once, in its accessor here, and
// a rename is a compile error everywhere else.
//
// Usage:
//
//	msg := collections.As[collections.Message](e.Record)
//	group, err := collections.Find[collections.Group](app, msg.Group())
//	if collections.IsNotFound(err) { ... }

// Wrapper is the pointer type of a typed wrapper T. Only this package's
// wrappers satisfy it (collection is unexported).
type Wrapper[T any] interface {
	*T
	SetProxyRecord(*core.Record)
	collection() string
}

// As returns r read through the wrapper T; nil for a nil record.
func As[T any, W Wrapper[T]](r *core.Record) W {
	if r == nil {
		return nil
	}
	w := W(new(T))
	w.SetProxyRecord(r)
	return w
}

// Find reads the record id through the wrapper T, as stored now (inside a
// transaction: as that transaction sees it, not as a request loaded it
// before). A missing record is a not-found *Error (IsNotFound).
func Find[T any, W Wrapper[T]](app core.App, id string) (W, error) {
	name := W(new(T)).collection()
	r, err := app.FindRecordById(name, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(err, "No %s record %s.", name, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find %s %s: %w", name, id, err)
	}
	return As[T, W](r), nil
}

// count counts the records of collection matching where; what names them
// in an error ("going rsvps of E1").
func count(app core.App, collection string, where dbx.HashExp, what string) (int, error) {
	n, err := app.CountRecords(collection, where)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", what, err)
	}
	return int(n), nil
}

// RecordFromRow builds the stored record of collection c from row, a row
// that holds c's columns beside others (a join, an EXISTS), as
// PocketBase's RecordQuery builds one from a row of c alone (its
// constructor is unexported): every field's value prepared from the
// column's text (NULL or absent as no value), and the whole marked as the
// stored original (PostScan). One statement then reads a record and what
// a write needs with it, inside the write lock where each statement
// counts; the sync feed reads many records of a page with it.
// TestRecordFromRowMatchesFind holds it to FindRecordById's.
func RecordFromRow(c *core.Collection, row dbx.NullStringMap) (*core.Record, error) {
	r := core.NewRecord(c)
	for _, f := range c.Fields {
		var raw any
		if s, ok := row[f.GetName()]; ok && s.Valid {
			raw = s.String
		}
		v, err := f.PrepareValue(r, raw)
		if err != nil {
			return nil, fmt.Errorf("%s field %s: %w", c.Name, f.GetName(), err)
		}
		r.SetRaw(f.GetName(), v)
	}
	if err := r.PostScan(); err != nil {
		return nil, fmt.Errorf("%s row: %w", c.Name, err)
	}
	return r, nil
}
