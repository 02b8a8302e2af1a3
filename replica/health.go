package replica

import (
	"github.com/crews/hearth/internal/healthdata"
	"github.com/pocketbase/pocketbase/core"
)

// health adds the replica's Status to the answer of GET /api/health for a
// superuser, as data.replica, beside PocketBase's own fields. Others get
// PocketBase's answer unchanged.
func (s *stream) health(e *core.RequestEvent) error {
	if !healthdata.Is(e) || !e.HasSuperuserAuth() {
		return e.Next()
	}
	st, ok := s.status()
	if !ok {
		return e.Next()
	}
	return healthdata.Add(e, "replica", st)
}
