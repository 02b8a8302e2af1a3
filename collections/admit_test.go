package collections_test

import (
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/tools/types"
)

func TestAdmitStatus(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 5, 1, 18, 0, 0, 0, time.UTC)
	atDT, _ := types.ParseDateTime(at)
	since, _ := types.ParseDateTime(at.Add(-time.Hour))
	none := types.DateTime{}
	for _, c := range []struct {
		name              string
		requested, stored string
		waitingSince      types.DateTime
		capacity, going   int
		wantStatus        string
		wantSince         types.DateTime
	}{
		{"going with room", "going", "", none, 2, 1, "going", none},
		{"going, unlimited", "going", "", none, 0, 100, "going", none},
		{"going when full waits from now", "going", "", none, 2, 2, "waitlisted", atDT},
		{"going over a lowered capacity waits", "going", "maybe", none, 1, 3, "waitlisted", atDT},
		{"already going stays going when full", "going", "going", none, 2, 2, "going", none},
		{"waitlisted asking going again keeps the place", "going", "waitlisted", since, 2, 2, "waitlisted", since},
		{"waitlisted echoed back keeps the place", "waitlisted", "waitlisted", since, 2, 2, "waitlisted", since},
		{"waitlisted keeps the place even with room (promotion does the rest)", "going", "waitlisted", since, 5, 1, "waitlisted", since},
		{"maybe leaves the waitlist", "maybe", "waitlisted", since, 2, 2, "maybe", none},
		{"declined leaves going", "declined", "going", none, 2, 2, "declined", none},
		{"maybe on a new RSVP", "maybe", "", none, 2, 2, "maybe", none},
		{"waitlisted asked anew joins the end", "waitlisted", "maybe", none, 2, 0, "waitlisted", atDT},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, gotSince := collections.AdmitStatus(c.requested, c.stored, c.waitingSince, c.capacity, c.going, at)
			if status != c.wantStatus || !gotSince.Equal(c.wantSince) {
				t.Errorf("AdmitStatus(%q, %q, %v, cap %d, going %d) = %q, %v; want %q, %v",
					c.requested, c.stored, c.waitingSince, c.capacity, c.going, status, gotSince, c.wantStatus, c.wantSince)
			}
		})
	}
}
