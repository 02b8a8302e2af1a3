package collections

import "github.com/pocketbase/pocketbase/core"

// Register binds every Crews hook to app.
func Register(app core.App) {
	registerServerFields(app)
	registerBodyTypes(app)
	registerCreateDenials(app)
	registerUsers(app)
	registerGroups(app)
	registerEvents(app)
	registerMessages(app)
}
