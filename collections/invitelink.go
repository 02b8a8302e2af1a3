package collections

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// UsableInvite returns the invite with code (as a person typed or followed
// it) and its group, when people may join with it at at; otherwise the
// error Join would answer (not found, expired, used up). It reads and
// changes nothing: the invite link page (package links) asks it what to
// show.
func UsableInvite(app core.App, code string, at time.Time) (*Invite, *Group, error) {
	inv, err := findInviteByCode(app, NormalizeCode(code))
	if err != nil {
		return nil, nil, err
	}
	if err := CheckInviteUsable(inv, at); err != nil {
		return nil, nil, err
	}
	group, err := Find[Group](app, inv.Group())
	if err != nil {
		return nil, nil, err
	}
	return inv, group, nil
}
