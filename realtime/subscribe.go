package realtime

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/crews/hearth/edge"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// subscribeForm is PocketBase's realtimeSubscribeForm.
type subscribeForm struct {
	ClientId      string   `form:"clientId" json:"clientId"`
	Subscriptions []string `form:"subscriptions" json:"subscriptions"`
}

func (form *subscribeForm) validate() error {
	return validation.ValidateStruct(form,
		validation.Field(&form.ClientId, validation.Required, validation.Length(1, 255)),
		validation.Field(&form.Subscriptions,
			validation.Length(0, 1000),
			validation.Each(validation.Length(0, 2500)),
		),
	)
}

// setSubscriptions serves POST /api/realtime as PocketBase's
// realtimeSetSubscriptions does (same checks, same hooks), and decides
// here, on the topics as the hooks left them and as they will be stored
// and consumed (readSubscriptions): the reserved prefix, the options, the
// query policy (edge.CheckQuery: filter, sort, expand and fields, for
// everyone but superusers) on both paths, and the owner's caps. Then it splits the topics between
// Hearth and PocketBase and indexes the connection.
func (h *hub) setSubscriptions(e *core.RequestEvent) error {
	form := new(subscribeForm)
	if err := e.BindBody(form); err != nil {
		return e.BadRequestError("", err)
	}
	if err := form.validate(); err != nil {
		return e.BadRequestError("", err)
	}
	client, err := h.clients.ClientById(form.ClientId)
	if err != nil {
		return e.NotFoundError("Missing or invalid client id.", err)
	}
	if ip, _ := client.Get(apis.RealtimeClientIPKey).(string); ip != "" && ip != e.RealIP() {
		return e.BadRequestError("Invalid realtime client.", errors.New("the subscription request IP doesn't match with the realtime client IP"))
	}
	// As PocketBase: only a guest to auth upgrade; any other auth change is refused.
	if auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record); auth != nil && !isSameAuth(auth, e.Auth) {
		return e.ForbiddenError("The current and the previous request authorization don't match.", nil)
	}
	if err := h.ensureLoaded(); err != nil {
		return e.InternalServerError("", err)
	}

	event := new(core.RealtimeSubscribeRequestEvent)
	event.RequestEvent = e
	event.Client = client
	event.Subscriptions = form.Subscriptions
	return e.App.OnRealtimeSubscribeRequest().Trigger(event, func(e *core.RealtimeSubscribeRequestEvent) error {
		c := h.connOf(e.Client.Id())
		if c == nil {
			return e.NotFoundError("Missing or invalid client id.", nil)
		}
		subs, err := readSubscriptions(e.App, e.Subscriptions)
		if err != nil {
			return err
		}
		if !e.HasSuperuserAuth() {
			for _, s := range subs {
				if s.collection == nil {
					continue // no options (readSubscriptions refuses them), so no query
				}
				if err := edge.CheckQuery(s.collection, s.options.Query); err != nil {
					return err
				}
			}
		}
		var stored []string
		var topics []topic
		for _, s := range subs {
			stored = append(stored, s.stored)
			if s.hearth != nil {
				topics = append(topics, *s.hearth)
			}
		}
		if err := h.indexConn(c, e.Auth, ownerKey(e.Auth, e.RealIP()), len(subs), topics); err != nil {
			return err
		}
		e.Client.Set(apis.RealtimeClientAuthKey, e.Auth)
		e.Client.Unsubscribe()
		e.Client.Subscribe(stored...)

		// Topics of other collections take PocketBase's path, which only
		// sees clients in its broker. A client stays there once added: the
		// broker can drop a client only by discarding it. Registering under
		// the lock orders it with unregister, which removes it again.
		h.mu.Lock()
		if len(stored) > len(topics) && !c.inBroker && !c.gone {
			c.inBroker = true
			e.App.SubscriptionsBroker().Register(e.Client)
			if c.wire != nil {
				go c.wire.pump(c) // no handler reads the client's channel
			}
		}
		h.mu.Unlock()
		e.App.Logger().Debug("Realtime subscriptions updated", slog.String("clientId", e.Client.Id()), slog.Any("subscriptions", e.Subscriptions))
		return e.NoContent(http.StatusNoContent)
	})
}
