package collections

import "github.com/pocketbase/pocketbase/core"

func registerUsers(app core.App) {
	// A user's email is theirs alone: the emailVisibility flag that
	// PocketBase lets a user turn on is overridden for everyone else.
	app.OnRecordEnrich(Users).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo == nil || !e.RequestInfo.HasSuperuserAuth() &&
			(e.RequestInfo.Auth == nil || e.RequestInfo.Auth.Id != e.Record.Id) {
			e.Record.Hide("email")
		}
		return e.Next()
	})
}
