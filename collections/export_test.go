package collections

import (
	"testing"
	"time"
)

// SetNow replaces the package clock until t ends. Tests that use it must not
// run in parallel with each other.
func SetNow(t testing.TB, f func() time.Time) {
	t.Helper()
	prev := now
	now = f
	t.Cleanup(func() { now = prev })
}

// BodyLimits and BatchBodyLimit are the limits the body limit tests cross.
var (
	BodyLimits     = collectionBodyLimits
	BatchBodyLimit = batchBodyLimit
)
