package collections

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// JoinPath is the route of joining a group by invite code. PocketBase's rate
// limiter (on outside dev mode, see config/settings.go) matches it by the
// labels "POST /api/crews/join" and "/api/crews/join".
const JoinPath = "/api/crews/join"

// Join makes user a member of the group of the invite with code, counting
// one use of the invite, and returns the membership. Someone who already
// belongs gets their membership back and the invite is not counted, so a
// retried request (the phone lost the first answer) succeeds even when it
// took the invite's last use. Call it inside a transaction: the check of
// uses against max_uses and the write of uses+1 must see no other join in
// between.
func Join(app core.App, code, user string, at time.Time) (*Membership, error) {
	code = NormalizeCode(code)
	if code == "" {
		return nil, fieldError("code", "validation_required", "Send the invite code as \"code\".")
	}
	inv, err := findInviteByCode(app, code)
	if err != nil {
		return nil, err
	}
	m, err := FindMembership(app, inv.Group(), user)
	if err == nil {
		return m, nil
	}
	if !IsNotFound(err) {
		return nil, err
	}
	if err := CheckInviteUsable(inv, at); err != nil {
		return nil, err
	}
	m, err = AddMember(app, inv.Group(), user, RoleMember)
	if err != nil {
		return nil, err
	}
	inv.Set("uses", inv.Uses()+1)
	if err := app.Save(inv); err != nil {
		return nil, fmt.Errorf("count use of invite %s: %w", inv.Id, err)
	}
	return m, nil
}

// CheckCanJoin refuses a caller who is not a signed-in app user. Superusers
// administer groups from the dashboard; they are not people who join them.
func CheckCanJoin(auth *core.Record) error {
	if auth == nil {
		return Errorf(EUNAUTHORIZED, "Sign in to join a group.")
	}
	if auth.Collection().Name != Users {
		return Errorf(EFORBIDDEN, "Only app users can join groups; a %s account is not one.", auth.Collection().Name)
	}
	return nil
}

type joinRequest struct {
	Code string `json:"code" form:"code"`
}

// handleJoin serves POST /api/crews/join, joining at now(). The answer is
// the membership as the records API shows it, with its group expanded (and
// whatever else ?expand= asks for), through the same enrichment and view
// rules.
func handleJoin(e *core.RequestEvent, now func() time.Time) error {
	if err := CheckCanJoin(e.Auth); err != nil {
		return APIError(err)
	}
	var body joinRequest
	// The body is bounded by the request edge (edge/bodyroutes.go: 4 KB).
	if err := e.BindBody(&body); err != nil {
		return APIError(fieldError("code", "validation_invalid_body", "Send a JSON body like {\"code\": \"...\"}."))
	}
	var m *Membership
	err := e.App.RunInTransaction(func(txApp core.App) error {
		var err error
		m, err = Join(txApp, body.Code, e.Auth.Id, now())
		return err
	})
	if err != nil {
		return APIError(err)
	}
	// Enriched after the commit: the expand checks the group's view rule,
	// which only sees the new membership once it is committed.
	record := m.ProxyRecord()
	if err := apis.EnrichRecord(e, record, "group"); err != nil {
		return APIError(fmt.Errorf("enrich membership %s: %w", record.Id, err))
	}
	return e.JSON(http.StatusOK, record)
}

func registerJoin(app core.App, now func() time.Time) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST(JoinPath, func(e *core.RequestEvent) error { return handleJoin(e, now) })
		return se.Next()
	})
}
