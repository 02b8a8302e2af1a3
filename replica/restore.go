package replica

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
)

// CommandName is the restore command: `hearth restore [--timestamp T] [--dir D]`.
const CommandName = "restore"

// ErrEmpty reports a replica that holds no transaction (a first deploy).
var ErrEmpty = errors.New("the replica holds no data")

// Restore writes data.db at path from the replica: its latest state, or the
// state at the timestamp when not zero. It refuses to overwrite a data.db.
// The restored file is written beside path and renamed into place, and
// passes SQLite's quick_check before it is.
func Restore(ctx context.Context, cfg Config, path string, at time.Time, logger *slog.Logger) (txid uint64, err error) {
	if _, err := os.Stat(path); err == nil {
		return 0, fmt.Errorf("%s exists: restore needs a data dir without one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	client, err := cfg.watchedClient()
	if err != nil {
		return 0, err
	}
	client.SetLogger(logger)
	if err := client.Init(ctx); err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	r := litestream.NewReplicaWithClient(nil, client)
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = path
	opt.Timestamp = at
	opt.IntegrityCheck = litestream.IntegrityCheckQuick
	plan, err := litestream.CalcRestorePlan(ctx, client, 0, at, logger)
	switch {
	case errors.Is(err, litestream.ErrTxNotAvailable) && at.IsZero():
		return 0, ErrEmpty
	case errors.Is(err, litestream.ErrTxNotAvailable):
		return 0, fmt.Errorf("the replica holds nothing as old as %s", at.Format(time.RFC3339))
	case err != nil:
		return 0, fmt.Errorf("read the replica: %w", err)
	}
	if err := r.Restore(ctx, opt); err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	return uint64(plan[len(plan)-1].MaxTXID), nil
}

// restoreOnStart restores data.db when the data dir has none. A replica
// that cannot be read stops the start: starting empty in front of a replica
// that may hold the data would bury it under a new database.
func restoreOnStart(ctx context.Context, cfg Config, path string, logger *slog.Logger) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	started := time.Now()
	txid, err := Restore(ctx, cfg, path, time.Time{}, logger)
	switch {
	case errors.Is(err, ErrEmpty):
		logger.Info("replica: empty, starting with a new database", "url", cfg.URL)
		return nil
	case err != nil:
		return fmt.Errorf("replica %s: restore on start: %w (HEARTH_RESTORE_ON_START=false starts with an empty database instead)", cfg.URL, err)
	}
	logger.Info("replica: restored data.db", "url", cfg.URL, "txid", txid, "seconds", time.Since(started).Seconds())
	return nil
}

// Invoked reports whether args (os.Args) ask for the restore command. Like
// the health check it runs before PocketBase bootstraps, which would open,
// and so create, the data.db it must write.
func Invoked(args []string) bool {
	return len(args) > 1 && args[1] == CommandName
}

// Run is the restore command; args follow the command name. It returns the
// process exit code.
func Run(cfg Config, dataDir string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hearth "+CommandName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "dir", dataDir, "the data dir to restore data.db into (it must have none)")
	at := fs.String("timestamp", "", "restore the state at this time (RFC 3339, e.g. 2026-01-02T15:04:05Z); default: the latest")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hearth %s [--timestamp T] [--dir DIR]\n\nRestores data.db from HEARTH_REPLICA_URL into a data dir that has none.\n\n", CommandName)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.URL == "" {
		fmt.Fprintln(stderr, "hearth restore: HEARTH_REPLICA_URL is not set")
		return 1
	}
	var ts time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "hearth restore: --timestamp %q is not an RFC 3339 time (2026-01-02T15:04:05Z)\n", *at)
			return 2
		}
		ts = t
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "hearth restore: %v\n", err)
		return 1
	}
	path := filepath.Join(dataDir, dataDB)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	txid, err := Restore(context.Background(), cfg, path, ts, logger)
	if err != nil {
		fmt.Fprintf(stderr, "hearth restore: %s: %v\n", cfg.URL, err)
		return 1
	}
	fmt.Fprintf(stdout, "restored %s from %s (transaction %d)\n", path, cfg.URL, txid)
	return 0
}
