package collections

import "github.com/pocketbase/pocketbase/core"

// registerPrivate binds, for the collections whose records are their
// owner's alone (Scope.Private: devices, mutes), the request checks that
// serverfields.go applies to the group-scoped collections from its own
// tables, read here from the specs: the caller becomes the owner when the
// body names none, and a server-managed field in the body is refused.
// Fixed fields need no check: only superusers update these records.
func registerPrivate(app core.App) {
	for _, name := range Names {
		spec := specs[name]
		if spec == nil || !spec.Scope.Private {
			continue
		}
		app.OnRecordCreateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			if e.Auth != nil && !e.HasSuperuserAuth() && e.Record.GetString(spec.Owner) == "" {
				e.Record.Set(spec.Owner, e.Auth.Id)
			}
			return refuseFields(e, spec.ServerManaged, "is set by the server")
		})
	}
}
