package changefeed

import "github.com/pocketbase/pocketbase/core"

// PruneRun records a prune run as the prune job does.
func PruneRun(app core.App, entries int64, err error) { metricsOf(app).pruneRun(entries, err) }

// SealCursor is the token the server of app's data dir issues for c.
func SealCursor(app core.App, c Cursor) string {
	s, err := loadSealer(app)
	if err != nil {
		panic(err)
	}
	return s.seal(c)
}

// OpenCursor reads a token the server of app's data dir issued.
func OpenCursor(app core.App, token string) (Cursor, error) {
	s, err := loadSealer(app)
	if err != nil {
		return Cursor{}, err
	}
	return s.open(token)
}
