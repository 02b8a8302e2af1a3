package realtime

import (
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// bindAuthChanges keeps the auth of Hearth's clients as PocketBase keeps
// that of the clients in its broker (apis/realtime.go, bindRealtimeEvents):
// an updated auth record replaces the connection's, or clears it when the
// token key changed (a password change); a deleted one, or a changed
// collection secret, clears it. A connection whose auth is cleared
// receives nothing more until it subscribes again with new auth.
func bindAuthChanges(app core.App, h *hub) {
	app.OnModelAfterUpdateSuccess().Bind(&hook.Handler[*core.ModelEvent]{
		Func: func(e *core.ModelEvent) error {
			if r := authRecord(e.Model); r != nil {
				h.eachClientOf(r.Collection().Name, r.Id, func(c *conn, auth *core.Record) {
					if auth.TokenKey() != r.TokenKey() {
						c.client.Unset(apis.RealtimeClientAuthKey)
					} else {
						c.client.Set(apis.RealtimeClientAuthKey, r)
					}
				})
			}
			return e.Next()
		},
		Priority: -99,
	})
	app.OnModelAfterDeleteSuccess().Bind(&hook.Handler[*core.ModelEvent]{
		Func: func(e *core.ModelEvent) error {
			if r := authRecord(e.Model); r != nil {
				h.eachClientOf(r.Collection().Name, r.Id, func(c *conn, _ *core.Record) {
					c.client.Unset(apis.RealtimeClientAuthKey)
				})
			}
			return e.Next()
		},
		Priority: -99,
	})
	app.OnCollectionUpdate().Bind(&hook.Handler[*core.CollectionEvent]{
		Func: func(e *core.CollectionEvent) error {
			if !e.Collection.IsAuth() {
				return e.Next()
			}
			cached, _ := e.App.FindCachedCollectionByNameOrId(e.Collection.Id)
			if err := e.Next(); err != nil {
				return err
			}
			if cached != nil && cached.AuthToken.Secret != e.Collection.AuthToken.Secret {
				h.eachClientOf(e.Collection.Name, "", func(c *conn, _ *core.Record) {
					c.client.Unset(apis.RealtimeClientAuthKey)
				})
			}
			return nil
		},
		Priority: -99,
	})
}

func authRecord(m core.Model) *core.Record {
	var r *core.Record
	switch v := m.(type) {
	case *core.Record:
		r = v
	case core.RecordProxy:
		r = v.ProxyRecord()
	}
	if r == nil || !r.Collection().IsAuth() {
		return nil
	}
	return r
}

// eachClientOf calls f for every Hearth connection signed in as the auth
// record id of collection (any record when id is "").
func (h *hub) eachClientOf(collection, id string, f func(*conn, *core.Record)) {
	h.mu.RLock()
	conns := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	for _, c := range conns {
		auth, _ := c.client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if auth != nil && auth.Collection().Name == collection && (id == "" || auth.Id == id) {
			f(c, auth)
		}
	}
}
