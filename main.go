// Command hearth is the Crews backend: PocketBase embedded as a library, with
// the Crews schema (pb_migrations), business rules (collections), push
// notifications (push), JS hooks (pb_hooks) and deploy-time settings
// (config).
package main

import (
	"log"
	"os"

	"github.com/crews/hearth/config"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/healthcheck"
	_ "github.com/crews/hearth/pb_migrations"
	"github.com/crews/hearth/push"
	"github.com/crews/hearth/seed"
	"github.com/crews/hearth/typegen"
	"github.com/crews/hearth/version"
	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/plugins/jsvm"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
)

func main() {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("hearth: configuration: %v", err)
	}
	if healthcheck.Invoked(os.Args) {
		os.Exit(healthcheck.Run(cfg.HTTPAddr, os.Stderr))
	}
	app := pocketbase.NewWithConfig(cfg.PocketBase())

	config.Register(app, cfg)
	// HooksPoolSize: without a pool every JS hook call builds a fresh VM
	// (about 2 ms more per message create; BenchmarkMessageCreate).
	jsvm.MustRegister(app, jsvm.Config{HooksDir: cfg.HooksDir, HooksWatch: app.IsDev(), HooksPoolSize: 15, MigrationsDir: "pb_migrations"})
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{Dir: "pb_migrations", TemplateLang: migratecmd.TemplateLangGo, Automigrate: app.IsDev()})
	crews.Register(app, crews.Config{
		SyncRetention: cfg.SyncRetention,
		Push:          push.Config{URL: cfg.PushURL, AccessToken: cfg.PushAccessToken, Window: cfg.PushWindow, Retention: cfg.PushRetention},
	})
	seed.Register(app)
	typegen.Register(app)
	version.Register(app)

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
