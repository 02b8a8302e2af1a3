package changefeed

import "github.com/pocketbase/pocketbase/core"

// PruneRun records a prune run as the prune job does.
func PruneRun(app core.App, entries int64, err error) { metricsOf(app).pruneRun(entries, err) }
