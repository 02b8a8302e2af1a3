// Command hearth is the Crews backend: PocketBase embedded as a library, with
// the Crews schema (pb_migrations), business rules (collections), push
// notifications (push), JS hooks (pb_hooks), deploy-time settings (config),
// and what runs it unattended: replication of data.db (replica), metrics
// and production logs.
package main

import (
	"log"
	"os"

	"github.com/crews/hearth/checkpoint"
	"github.com/crews/hearth/config"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/diskfull"
	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/healthcheck"
	"github.com/crews/hearth/logs"
	"github.com/crews/hearth/metrics"
	_ "github.com/crews/hearth/pb_migrations"
	"github.com/crews/hearth/push"
	"github.com/crews/hearth/replica"
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
	if replica.Invoked(os.Args) {
		os.Exit(replica.Run(cfg.Replica, cfg.DataDir, os.Args[2:], os.Stdout, os.Stderr))
	}
	pbConfig := cfg.PocketBase()
	// Opens a replicated data.db without SQLite's automatic checkpoints,
	// with the page cache every other database gets (config.DBConnect).
	pbConfig.DBConnect = replica.DBConnect(pbConfig.DBConnect, config.SQLiteCacheKiB)
	app := pocketbase.NewWithConfig(pbConfig)

	config.Register(app, cfg)
	replica.Register(app, cfg.Replica)
	// Copies the write-ahead logs back between requests' commits; a
	// replicated data.db is Litestream's to checkpoint and is left alone.
	checkpoint.Register(app, checkpoint.Config{})
	diskfull.Register(app)
	metrics.Register(app, cfg.Metrics)
	logs.Register(app, cfg.Log)
	// HooksPoolSize: without a pool every JS hook call builds a fresh VM
	// (about 2 ms more per message create; BenchmarkMessageCreate).
	jsvm.MustRegister(app, jsvm.Config{HooksDir: cfg.HooksDir, HooksWatch: app.IsDev(), HooksPoolSize: 15, MigrationsDir: "pb_migrations"})
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{Dir: "pb_migrations", TemplateLang: migratecmd.TemplateLangGo, Automigrate: app.IsDev()})
	crews.Register(app, crews.Config{
		SyncRetention: cfg.SyncRetention,
		Push:          push.Config{URL: cfg.PushURL, AccessToken: cfg.PushAccessToken, Window: cfg.PushWindow, Retention: cfg.PushRetention},
		Links:         cfg.Links,
		Auth:          cfg.Auth,
	})
	seed.Register(app)
	firebase.RegisterCommand(app)
	typegen.Register(app)
	version.Register(app)

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
