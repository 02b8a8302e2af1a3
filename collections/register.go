package collections

import "github.com/pocketbase/pocketbase/core"

// Register binds every Crews hook and route to app.
func Register(app core.App) {
	registerBodyLimits(app)
	registerBodyShape(app)
	registerBodyChecks(app)
	registerServerFields(app)
	registerCreateDenials(app)
	registerUsers(app)
	registerGroups(app)
	registerMemberships(app)
	registerInvites(app)
	registerEvents(app)
	registerRSVPs(app)
	registerMessages(app)
	registerJoin(app)
}
