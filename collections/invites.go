package collections

import (
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Invites is the collection's name in the schema; clients rely on it.
const Invites = "invites"

var invitesSpec = declare(Spec{
	Name:          Invites,
	Rank:          4,
	Hooks:         registerInvites,
	Scope:         Scope{Field: "group"},
	Owner:         "created_by",
	ServerManaged: []string{"code", "uses", "created_by"},
	Fixed:         []string{"group"},
	Query:         []string{"id", "group", "code", "expires", "max_uses", "uses", "created_by", "created", "updated"},
})

// Invite wraps an invites record.
type Invite struct {
	core.BaseRecordProxy
}

func (*Invite) collection() string { return Invites }

// Group is the id of the group the invite lets people join.
func (i *Invite) Group() string { return i.GetString("group") }

// Code is the server-generated code people type or follow.
func (i *Invite) Code() string { return i.GetString("code") }

// Expires is when the invite stops working; zero when it never does.
func (i *Invite) Expires() types.DateTime { return i.GetDateTime("expires") }

// MaxUses is how many people may join with the invite; 0 means no limit.
func (i *Invite) MaxUses() int { return i.GetInt("max_uses") }

// Uses is how many people have joined with the invite.
func (i *Invite) Uses() int { return i.GetInt("uses") }

// NormalizeCode turns what a person typed into the stored form of a code:
// codes are upper case, and pasted ones often carry spaces.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

// findInviteByCode returns the invite with code, or an ENOTFOUND error.
func findInviteByCode(app core.App, code string) (*Invite, error) {
	inv := &Invite{}
	err := app.RecordQuery(Invites).AndWhere(dbx.HashExp{"code": code}).Limit(1).One(inv)
	if err != nil {
		if IsNotFound(err) {
			return nil, notFound(err, "No invite has this code.")
		}
		return nil, fmt.Errorf("find invite: %w", err)
	}
	return inv, nil
}

// CheckInviteUsable refuses an invite that expired or was used up at at,
// saying which, on the request field "code".
func CheckInviteUsable(inv *Invite, at time.Time) error {
	if !inv.Expires().IsZero() && !at.Before(inv.Expires().Time()) {
		return fieldError("code", "validation_invite_expired", "This invite has expired: ask the group for a new one.")
	}
	if inv.MaxUses() > 0 && inv.Uses() >= inv.MaxUses() {
		return fieldError("code", "validation_invite_used_up", "This invite has been used as many times as it allows: ask the group for a new one.")
	}
	return nil
}

func registerInvites(app core.App, cfg Config) {
	// A code is an invite's identity once shared: no write changes it, not
	// even a superuser's, so a printed or sent code never silently dies.
	app.OnRecordUpdate(Invites).BindFunc(func(e *core.RecordEvent) error {
		if code := e.Record.Original().GetString("code"); code != "" {
			e.Record.Set("code", code)
		}
		return e.Next()
	})
}
