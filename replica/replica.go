// Package replica streams Hearth's main database (data.db) to S3 while it is
// written, and restores it from there into an empty data dir at start. It
// embeds Litestream (github.com/benbjohnson/litestream, pinned in go.mod)
// as a library; Litestream's Go API is not declared stable, so this package
// is the only one that imports it.
//
// Hearth is the only checkpointer of a replicated data.db: its connections
// are opened with SQLite's automatic checkpoints off (DBConnect), and the
// checkpoints PocketBase asks for (before a backup's zip, in the daily
// optimisation) become Litestream checkpoints. Litestream holds a read
// transaction open between its syncs; a TRUNCATE checkpoint from
// PocketBase would wait out the 10 s busy timeout against it, blocking every
// write meanwhile, and a checkpoint Litestream did not make would cost it a
// full snapshot. Litestream also writes to data.db, so PocketBase's
// transactions there take the write lock when they begin (dbconnect.go).
//
// Hearth runs Litestream's loops itself (stream.go), for bounds whatever
// S3 does: the WAL is taken into local files without asking S3; retries
// wait at most 4 s; a request that moves no byte for Config.Timeout is
// abandoned (timeout.go) and a WARN line says since when replication is
// stuck; while Litestream cannot take data.db in (S3 unreachable at its
// start-up, which asks S3 first, or its local files dropped past
// Config.LocalMax during an outage), Hearth checkpoints the WAL past
// Config.WALMax itself (guard.go) and Litestream ships a snapshot when S3
// answers. The lag is read from the replica's position kept beside data.db
// (position.go, lag.go), so a restart does not reset it.
//
// Usage (main.go):
//
//	app := pocketbase.NewWithConfig(pocketbase.Config{DBConnect: replica.DBConnect(nil, 0), ...})
//	replica.Register(app, replica.Config{
//		URL:            "s3://backups/hearth",
//		SyncInterval:   time.Second,
//		RestoreOnStart: true,
//		S3:             replica.S3{Endpoint: "http://minio:9000", Region: "us-east-1", AccessKey: "...", Secret: "...", ForcePathStyle: true},
//		LocalMax:       512 << 20, WALMax: 32 << 20, Timeout: 30 * time.Second, // the defaults
//	})
//
// and, for a point-in-time restore into an empty data dir, before PocketBase
// opens anything (like the health check):
//
//	if replica.Invoked(os.Args) { // hearth restore [--timestamp T] [--dir D]
//		os.Exit(replica.Run(replicaConfig, dataDir, os.Args[2:], os.Stdout, os.Stderr))
//	}
//
// The replica's position and lag are in the superuser answer of
// GET /api/health (health.go) and in the metrics (collector.go).
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/crews/hearth/metrics"
	"github.com/pocketbase/pocketbase/core"
)

// Config says where and how often data.db is replicated.
type Config struct {
	// URL is the replica's location: s3://BUCKET/PATH, or file:///DIR for a
	// directory (another disk, a mounted volume). Empty turns replication off.
	URL string
	// SyncInterval is the longest a committed write waits before it is
	// shipped; zero means DefaultSyncInterval.
	SyncInterval time.Duration
	// RestoreOnStart restores data.db from the replica when the data dir has
	// none, before PocketBase opens it.
	RestoreOnStart bool
	// S3 connects to the bucket of an s3:// URL.
	S3 S3
	// LocalMax is the disk budget of the local transaction files (bytes;
	// zero means DefaultLocalMax). Past it, while the replica fails, they
	// are dropped and the replica gets a snapshot when it answers again.
	LocalMax int64
	// WALMax bounds data.db's WAL while replication is not taking it in
	// (bytes; zero means DefaultWALMax).
	WALMax int64
	// Timeout abandons a request to the replica that has moved no byte
	// for this long; zero means DefaultTimeout.
	Timeout time.Duration
}

// DefaultLocalMax is the default disk budget of the local transaction
// files (HEARTH_REPLICA_LOCAL_MAX): about 20 minutes of an outage at 50
// writes/s (28 MB a minute measured).
const DefaultLocalMax = 512 << 20

// S3 is the connection to an S3 server (Hearth's HEARTH_S3_* variables).
type S3 struct {
	// Endpoint is the server's URL; empty means AWS.
	Endpoint string
	// Region; empty means us-east-1.
	Region string
	// AccessKey and Secret; both empty means the AWS default credential
	// chain (AWS_ACCESS_KEY_ID, instance roles, ...).
	AccessKey, Secret string
	// ForcePathStyle addresses buckets as http://host/bucket (MinIO and most
	// self-hosted servers).
	ForcePathStyle bool
}

// DefaultSyncInterval bounds how long an acknowledged write may exist only
// on this server.
const DefaultSyncInterval = time.Second

// monitorInterval is how often Litestream copies new WAL frames into its
// local transaction files; a write reaches the replica within this plus
// the sync interval.
const monitorInterval = 250 * time.Millisecond

// shutdownTimeout bounds the final sync at a clean shutdown; it stays under
// Docker's 10 s between SIGTERM and SIGKILL.
const shutdownTimeout = 8 * time.Second

// dataDB is PocketBase's main database file in the data dir.
const dataDB = "data.db"

// Register binds replication to app when cfg.URL is set: the restore on
// start (at bootstrap, for every command, so that none creates a fresh
// data.db in front of the replica's), the stream (while `serve` runs), its
// final flush at a clean shutdown, the health answer and the metrics.
func Register(app core.App, cfg Config) {
	if cfg.URL == "" {
		return
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.LocalMax <= 0 {
		cfg.LocalMax = DefaultLocalMax
	}
	if cfg.WALMax <= 0 {
		cfg.WALMax = DefaultWALMax
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	var s *stream

	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		path := filepath.Join(e.App.DataDir(), dataDB)
		if cfg.RestoreOnStart {
			if err := restoreOnStart(context.Background(), cfg, path, e.App.Logger()); err != nil {
				return err
			}
		}
		s = newStream(cfg, path)
		// Registered before PocketBase connects, so that DBConnect opens
		// this data.db without automatic checkpoints.
		register(path, s)
		return e.Next()
	})

	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := s.open(e.App); err != nil {
			return fmt.Errorf("replica %s: %w", cfg.URL, err)
		}
		if err := metrics.Add(e.App, collector{s}); err != nil {
			return fmt.Errorf("replica metrics: %w", err)
		}
		e.Router.BindFunc(s.health)
		return e.Next()
	})

	app.OnBackupCreate().BindFunc(func(e *core.BackupEvent) error {
		// Litestream's local transaction files and the replica's position
		// belong to this server's stream, not to a backup (a restored
		// backup starts a new one).
		e.Exclude = append(e.Exclude, metaDir, positionFile)
		return e.Next()
	})

	// Restoring a PocketBase backup replaces data.db and restarts the
	// process: replication stops before the files move, so that it never
	// reads the replaced database through the old one's state; the
	// restarted process replicates the restored one (from a new snapshot).
	app.OnBackupRestore().BindFunc(func(e *core.BackupEvent) error {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		cerr := s.close(ctx, e.App.Logger().Handler())
		cancel()
		if cerr != nil {
			e.App.Logger().Error("replica: final sync before the backup restore failed", "url", cfg.URL, "error", cerr)
		}
		err := e.Next()
		if err != nil {
			// The restore failed and was undone: replicate again.
			if oerr := s.open(e.App); oerr != nil {
				return errors.Join(err, fmt.Errorf("replica %s: %w", cfg.URL, oerr))
			}
		}
		return err
	})

	// The final flush runs after PocketBase has stopped the HTTP server and
	// closed its connections, so no write can follow it. PocketBase's
	// logger is closed by then: the flush logs to standard error.
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		err := e.Next()
		if s != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if cerr := s.close(ctx, slog.Default().Handler()); cerr != nil {
				slog.Error("replica: final sync failed", "url", cfg.URL, "error", cerr)
			}
		}
		return err
	})
}
