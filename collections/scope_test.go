package collections_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

func TestGroupsOfAndGroupRecords(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	climbers := []string{hearthtest.Climbers}
	for _, c := range []struct {
		collection, id string
		groups         []string
	}{
		{collections.Groups, hearthtest.Climbers, climbers},
		{collections.Users, hearthtest.Carol, climbers},
		{collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Bob), climbers},
		{collections.Invites, hearthtest.ClimbInvite, climbers},
		{collections.Events, hearthtest.ClimbEvent, climbers},
		{collections.RSVPs, hearthtest.CarolRSVP, climbers},
		{collections.Messages, hearthtest.ChessMessage, []string{hearthtest.Chess}},
	} {
		got, err := collections.GroupsOf(app, hearthtest.Record(t, app, c.collection, c.id))
		if err != nil || !slices.Equal(got, c.groups) {
			t.Errorf("GroupsOf(%s/%s) = %v, %v; want %v", c.collection, c.id, got, err, c.groups)
		}
	}

	want := map[string][]string{
		collections.Groups:      climbers,
		collections.Users:       {hearthtest.Alice, hearthtest.Bob, hearthtest.Carol},
		collections.Invites:     {hearthtest.ClimbInvite},
		collections.Events:      {hearthtest.ClimbEvent},
		collections.RSVPs:       {hearthtest.CarolRSVP},
		collections.Messages:    {hearthtest.ClimbMessage},
		collections.Memberships: nil, // three, checked by count
	}
	for _, name := range collections.Names() {
		ids, err := collections.GroupRecordIDs(app, name, hearthtest.Climbers)
		if err != nil {
			t.Fatalf("GroupRecordIDs(%s): %v", name, err)
		}
		slices.Sort(ids)
		if name == collections.Memberships {
			if len(ids) != 3 {
				t.Errorf("memberships of Climbers: %v", ids)
			}
			continue
		}
		if w := slices.Sorted(slices.Values(want[name])); !slices.Equal(ids, w) {
			t.Errorf("GroupRecordIDs(%s, Climbers) = %v, want %v", name, ids, w)
		}
	}
}

// An event moved to another group (a superuser repair) belongs to both
// while the write is under way; an RSVP whose event is gone reports it.
func TestGroupsOfMovedAndOrphaned(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	ev := hearthtest.Record(t, app, collections.Events, hearthtest.ClimbEvent)
	ev.Set("group", hearthtest.Chess)
	if got, err := collections.GroupsOf(app, ev); err != nil || !slices.Equal(got, []string{hearthtest.Chess, hearthtest.Climbers}) {
		t.Errorf("moved event: %v, %v", got, err)
	}
	if specs := collections.Children(collections.Events); len(specs) != 1 || specs[0].Name != collections.RSVPs {
		t.Errorf("Children(events) = %v", specs)
	}

	rsvp := hearthtest.Record(t, app, collections.RSVPs, hearthtest.CarolRSVP)
	rsvp.Set("event", "noevent00000001")
	var gone *collections.ParentGoneError
	if _, err := collections.GroupsOf(app, rsvp); !errors.As(err, &gone) || gone.ID != "noevent00000001" {
		t.Errorf("orphaned rsvp: %v", err)
	}
}

// GroupRecordIDsAfter pages GroupRecordIDs in id order; GroupsOfIDs
// answers GroupsOf for stored records by id, for every form of scope.
func TestGroupRecordPagesAndGroupsOfIDs(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	for _, name := range collections.Names() {
		all, err := collections.GroupRecordIDs(app, name, hearthtest.Climbers)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(all)
		var paged []string
		for after := ""; ; {
			page, err := collections.GroupRecordIDsAfter(app, name, hearthtest.Climbers, after, 1, nil)
			if err != nil {
				t.Fatalf("GroupRecordIDsAfter(%s): %v", name, err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[0]
		}
		if !slices.Equal(paged, all) {
			t.Errorf("%s: pages of one give %v, want %v", name, paged, all)
		}

		groups, err := collections.GroupsOfIDs(app, name, append(slices.Clone(all), "norecord0000001"))
		if err != nil {
			t.Fatalf("GroupsOfIDs(%s): %v", name, err)
		}
		for _, id := range all {
			want, err := collections.GroupsOf(app, hearthtest.Record(t, app, name, id))
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(groups[id]))
			if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("GroupsOfIDs(%s/%s) = %v, want %v", name, id, got, want)
			}
		}
		if _, ok := groups["norecord0000001"]; ok {
			t.Errorf("%s: a missing record has groups", name)
		}
	}
}
