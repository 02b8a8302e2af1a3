package config

import (
	"fmt"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

// Register applies cfg to app: the listen address becomes the serve
// command's default; the declared settings are saved and the configured
// superuser is upserted before the server accepts requests (after
// migrations, which serve runs first).
func Register(app *pocketbase.PocketBase, cfg Config) {
	previous := app.RootCmd.PersistentPreRunE
	app.RootCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if f := cmd.Flags().Lookup("http"); cmd.Name() == "serve" && f != nil && defaultsListenAddr(cfg, f.Changed, args) {
			if err := f.Value.Set(cfg.HTTPAddr); err != nil {
				return fmt.Errorf("HEARTH_HTTP: %w", err)
			}
		}
		if previous != nil {
			return previous(cmd, args)
		}
		return nil
	}

	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := ApplySettings(e.App, cfg.Settings); err != nil {
			return err
		}
		return e.Next()
	})

	if cfg.SuperuserEmail != "" {
		app.OnServe().BindFunc(func(e *core.ServeEvent) error {
			if err := UpsertSuperuser(e.App, cfg.SuperuserEmail, cfg.SuperuserPassword); err != nil {
				return err
			}
			return e.Next()
		})
	}
}

// UpsertSuperuser creates the superuser with that email, or resets its
// password when it exists. The password never reaches a log line.
func UpsertSuperuser(app core.App, email, password string) error {
	col, err := app.FindCachedCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return fmt.Errorf("superuser from HEARTH_SUPERUSER_EMAIL: %w", err)
	}
	record, err := app.FindAuthRecordByEmail(col, email)
	if err != nil {
		record = core.NewRecord(col)
		record.SetEmail(email)
	} else if record.ValidatePassword(password) {
		return nil
	}
	record.SetPassword(password)
	if err := app.Save(record); err != nil {
		return fmt.Errorf("superuser from HEARTH_SUPERUSER_EMAIL: save %s: %w", email, err)
	}
	app.Logger().Info("superuser configured from environment", "email", email)
	return nil
}

// defaultsListenAddr reports whether serve should listen on cfg.HTTPAddr: not
// when --http was given, and not when domain arguments ask PocketBase for
// automatic TLS on 0.0.0.0:80 and :443, unless HEARTH_HTTP names another
// address than the built-in default.
func defaultsListenAddr(cfg Config, flagGiven bool, domains []string) bool {
	if flagGiven {
		return false
	}
	return len(domains) == 0 || cfg.HTTPAddr != DefaultHTTPAddr
}
