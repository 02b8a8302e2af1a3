package collections

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Devices is the collection's name in the schema; clients rely on it.
const Devices = "devices"

var devicesSpec = declare(Spec{
	Name:          Devices,
	Rank:          8,
	Hooks:         registerDevices,
	Scope:         Scope{Private: true},
	Owner:         "user",
	ServerManaged: []string{"last_seen"},
	Fixed:         []string{"user", "token", "platform"},
	Query:         []string{"id", "user", "token", "platform", "last_seen", "created", "updated"},
})

// releaseToken deletes every device holding token, whoever holds it, so
// that the device being registered with it is the only one. A push token
// names one app install on one phone; when another user signs in on that
// phone, the pushes are theirs from then on.
func releaseToken(app core.App, token string) error {
	var held []*core.Record
	if err := app.RecordQuery(Devices).AndWhere(dbx.HashExp{"token": token}).All(&held); err != nil {
		return fmt.Errorf("devices holding a token: %w", err)
	}
	for _, d := range held {
		if err := app.Delete(d); err != nil {
			return fmt.Errorf("release token of device %s: %w", d.Id, err)
		}
	}
	return nil
}

func registerDevices(app core.App, cfg Config) {
	now := cfg.Now
	// Registering is creating: the app registers its token at every start,
	// and a token already registered, by the caller or by someone who used
	// the phone before, is released first. The answer is the same in both
	// cases, so registering tells nobody whether a token was in use.
	app.OnRecordCreate(Devices).BindFunc(func(e *core.RecordEvent) error {
		e.Record.Set("last_seen", now())
		return InTx(e, func(txApp core.App) error {
			if err := releaseToken(txApp, e.Record.GetString("token")); err != nil {
				return err
			}
			return e.Next()
		})
	})
}
