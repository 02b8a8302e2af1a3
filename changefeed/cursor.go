package changefeed

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Cursor is a position in one user's feed of one collection set:
// everything up to it has been delivered. Clients keep its string form
// sealed (seal.go) and send it back unchanged; only this file reads it.
//
// A feed is the change log with, after each change of the caller's own
// membership of a group, the records of that group as items (an
// expansion), and after each change of another user's membership, that
// user as an item. A cursor names a log entry and, when a page ended
// inside that entry's items, the last item delivered: items are in
// Synced order of collection, then id order, so a page that resumes there
// reads on in the same order, and writes made meanwhile (which are later
// log entries) cannot shift it.
type Cursor struct {
	// Seq is the log entry the cursor is at; 0 is before the first.
	Seq int64
	// Collections is the set the cursor was issued for, in Synced order;
	// nil means every synced collection. A cursor serves only its own set:
	// a narrower sync skips the other collections' changes, so continuing
	// it with more collections would silently miss them.
	Collections []string
	// Item is set when the cursor is inside the items of entry Seq: the
	// entry's own change and every item up to Item are delivered.
	Item *Item
}

// Item is the last item of an entry delivered, or the zero Item when only
// the entry's own change is.
type Item struct {
	Collection string
	ID         string
}

// Start is the cursor of a full sync, valid for every collection set.
var Start = Cursor{}

// cursorVersion is the first field of every token, so that the format can
// change without a token of one format being read as another.
const cursorVersion = "1"

// allCollections stands for "every synced collection" in a token, so that
// a collection a later version adds to the feed joins the sync of
// existing clients instead of making their cursors mismatch.
const allCollections = "*"

// IsStart reports whether c is a full sync's cursor: at the log's start,
// so no change of any collection is behind it.
func (c Cursor) IsStart() bool { return c.Seq == 0 && c.Item == nil }

// String returns the token a client stores: "0" for Start, otherwise an
// opaque URL-safe string.
func (c Cursor) String() string {
	if c.IsStart() {
		return "0"
	}
	fields := []string{cursorVersion, strconv.FormatInt(c.Seq, 10), setKey(c.Collections)}
	if c.Item != nil {
		fields = append(fields, c.Item.Collection, c.Item.ID)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(fields, ";")))
}

// LegacyCursorError reports a cursor of another version of the protocol:
// a bare log sequence number (the first protocol's cursors, which do not
// say which collections they cover, so they cannot be continued safely),
// or a token of another format version. The client must resync.
type LegacyCursorError struct{ Cursor string }

func (e *LegacyCursorError) Error() string {
	return fmt.Sprintf("cursor %s is from another version of the sync protocol", e.Cursor)
}

// ParseCursor reads a token made by Cursor.String. "0" (or any run of
// zeros) is Start; any other bare number, or a token of another format
// version, is a *LegacyCursorError; anything else that is not a
// well-formed token is an error.
func ParseCursor(s string) (Cursor, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		if strings.Trim(s, "0") == "" {
			return Start, nil
		}
		return Cursor{}, &LegacyCursorError{Cursor: s}
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor %q is not one this server issued", s)
	}
	fields := strings.Split(string(raw), ";")
	if v, err := strconv.Atoi(fields[0]); err == nil && v > 0 && fields[0] != cursorVersion {
		return Cursor{}, &LegacyCursorError{Cursor: s}
	}
	if (len(fields) != 3 && len(fields) != 5) || fields[0] != cursorVersion {
		return Cursor{}, fmt.Errorf("cursor %q is not one this server issued", s)
	}
	seq, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || seq < 1 || fields[1] != strconv.FormatInt(seq, 10) {
		return Cursor{}, fmt.Errorf("cursor %q is not one this server issued", s)
	}
	set, ok := parseSetKey(fields[2])
	if !ok {
		return Cursor{}, fmt.Errorf("cursor %q names collections that are not synced", s)
	}
	c := Cursor{Seq: seq, Collections: set}
	if len(fields) == 5 {
		item := Item{Collection: fields[3], ID: fields[4]}
		valid := (item.Collection == "" && item.ID == "") ||
			(slices.Contains(Synced, item.Collection) && item.ID != "")
		if !valid {
			return Cursor{}, fmt.Errorf("cursor %q is not one this server issued", s)
		}
		c.Item = &item
	}
	return c, nil
}

// canonicalSet returns names as a cursor keeps them: in Synced order,
// without repeats, nil for every synced collection.
func canonicalSet(names []string) []string {
	var out []string
	for _, name := range Synced {
		if slices.Contains(names, name) {
			out = append(out, name)
		}
	}
	if len(names) == 0 || len(out) == len(Synced) {
		return nil
	}
	return out
}

func setKey(set []string) string {
	if set == nil {
		return allCollections
	}
	return strings.Join(set, ",")
}

func parseSetKey(key string) ([]string, bool) {
	if key == allCollections {
		return nil, true
	}
	names := strings.Split(key, ",")
	for _, name := range names {
		if !slices.Contains(Synced, name) {
			return nil, false
		}
	}
	set := canonicalSet(names)
	return set, set != nil && setKey(set) == key
}

// sameSet reports whether two canonical sets are equal.
func sameSet(a, b []string) bool { return setKey(a) == setKey(b) }
