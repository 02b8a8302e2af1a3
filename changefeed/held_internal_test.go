package changefeed

import (
	"slices"
	"testing"
)

func TestPresentAt(t *testing.T) {
	joinedLeft := []event{{10, opCreate}, {20, opDelete}}
	since := []event{{15, opUpdate}} // a carried-over or role entry: there before the retained log
	for _, tc := range []struct {
		events   []event
		at       Cursor
		fallback bool
		want     bool
	}{
		{joinedLeft, Cursor{Seq: 5}, false, false},
		{joinedLeft, Cursor{Seq: 10}, false, true},
		{joinedLeft, Cursor{Seq: 15}, false, true},
		{joinedLeft, Cursor{Seq: 20}, false, false},               // past the leaving
		{joinedLeft, Cursor{Seq: 20, Item: &Item{}}, false, true}, // inside its items
		{joinedLeft, Cursor{Seq: 10, Item: &Item{}}, false, true},
		{joinedLeft, Cursor{Seq: 25}, false, false},
		{since, Cursor{Seq: 5}, false, true},
		{since, Cursor{Seq: 25}, false, true},
		{nil, Cursor{Seq: 25}, true, true},
		{nil, Cursor{Seq: 25}, false, false},
	} {
		if got := presentAt(tc.events, tc.at, tc.fallback); got != tc.want {
			t.Errorf("presentAt(%v, %+v, %v) = %v, want %v", tc.events, tc.at, tc.fallback, got, tc.want)
		}
	}
}

func TestGroupsAt(t *testing.T) {
	moved := []row{{Seq: 10, Op: opCreate, Groups: "a"}, {Seq: 20, Op: opUpdate, Groups: "b,a"}, {Seq: 30, Op: opUpdate, Groups: "b"}}
	carried := []row{{Seq: 40, Op: opUpdate, Groups: "b,a"}}
	for _, tc := range []struct {
		entries []row
		at      Cursor
		want    []string
	}{
		{moved, Cursor{Seq: 5}, []string{"a"}},
		{moved, Cursor{Seq: 15}, []string{"a"}},
		{moved, Cursor{Seq: 20}, []string{"b"}},
		{moved, Cursor{Seq: 25}, []string{"b"}},
		{moved, Cursor{Seq: 35}, []string{"b"}},
		{carried, Cursor{Seq: 35}, []string{"a"}}, // moved after the cursor: from its old group
		{nil, Cursor{Seq: 35}, nil},
	} {
		if got := groupsAt(tc.entries, tc.at); !slices.Equal(got, tc.want) {
			t.Errorf("groupsAt(%v, %+v) = %v, want %v", tc.entries, tc.at, got, tc.want)
		}
	}
}
