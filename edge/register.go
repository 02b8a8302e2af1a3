package edge

import "github.com/pocketbase/pocketbase/core"

// Register binds the request edge to app. It must be called before the
// domain's hooks are bound (crews.Register does), so that its request hooks
// run first among those of equal priority.
func Register(app core.App) {
	registerBodyLimits(app)
	registerBodyShape(app)
	registerBodyChecks(app)
	registerServerFields(app)
	registerCreateDenials(app)
	registerBatchDenials(app)
	registerReads(app)
	registerFileCaching(app)
}
