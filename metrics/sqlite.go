package metrics

import (
	"os"
	"path/filepath"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
)

// sqliteCollector reads, at each scrape, how long writes waited for the
// write connection, and the size of each database and its WAL.
//
// PocketBase writes through one connection per database (the
// "nonconcurrent" pool of size 1), so a write waits there for every write
// before it, and for as long as one of them waits inside SQLite for a lock
// held elsewhere (a checkpoint's). That wait is the write-lock wait.
type sqliteCollector struct {
	app                     core.App
	waits, waitSeconds      *prometheus.Desc
	databaseBytes, walBytes *prometheus.Desc
}

func newSQLiteCollector(app core.App) *sqliteCollector {
	return &sqliteCollector{
		app: app,
		waits: prometheus.NewDesc("hearth_sqlite_write_lock_waits_total",
			"Writes to data.db that had to wait for the write connection.", nil, nil),
		waitSeconds: prometheus.NewDesc("hearth_sqlite_write_lock_wait_seconds_total",
			"Total time writes to data.db waited for the write connection.", nil, nil),
		databaseBytes: prometheus.NewDesc("hearth_sqlite_database_bytes",
			"Size of a database file (db: data, auxiliary).", []string{"db"}, nil),
		walBytes: prometheus.NewDesc("hearth_sqlite_wal_bytes",
			"Size of a database's write-ahead log file (db: data, auxiliary).", []string{"db"}, nil),
	}
}

func (c *sqliteCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.waits
	ch <- c.waitSeconds
	ch <- c.databaseBytes
	ch <- c.walBytes
}

func (c *sqliteCollector) Collect(ch chan<- prometheus.Metric) {
	if db, ok := c.app.NonconcurrentDB().(*dbx.DB); ok {
		stats := db.DB().Stats()
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(stats.WaitCount))
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, stats.WaitDuration.Seconds())
	}
	for _, f := range []struct{ label, name string }{{"data", "data.db"}, {"auxiliary", "auxiliary.db"}} {
		path := filepath.Join(c.app.DataDir(), f.name)
		for desc, file := range map[*prometheus.Desc]string{c.databaseBytes: path, c.walBytes: path + "-wal"} {
			// A missing WAL (after a clean close) is an empty one.
			var size int64
			if fi, err := os.Stat(file); err == nil {
				size = fi.Size()
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(size), f.label)
		}
	}
}
