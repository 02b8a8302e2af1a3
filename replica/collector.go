package replica

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// collector exports the stream's state to Hearth's metrics (package
// metrics), read at each scrape.
type collector struct{ s *stream }

var (
	txidDesc = prometheus.NewDesc("hearth_replica_txid",
		"Last local transaction of data.db taken in by replication (one or more SQLite commits each).", nil, nil)
	replicaTXIDDesc = prometheus.NewDesc("hearth_replica_replicated_txid",
		"Last transaction of data.db stored in the replica.", nil, nil)
	lagDesc = prometheus.NewDesc("hearth_replica_lag_seconds",
		"Age of the oldest local transaction of data.db not yet in the replica; 0 when it holds every one taken in.", nil, nil)
	lastSyncDesc = prometheus.NewDesc("hearth_replica_last_sync_timestamp_seconds",
		"When the replica last stored a transaction successfully (Unix time; 0: not yet since the start).", nil, nil)
	failingDesc = prometheus.NewDesc("hearth_replica_failing_since_timestamp_seconds",
		"When the current run of failed attempts to reach the replica began (Unix time; 0: not failing).", nil, nil)
	errorsDesc = prometheus.NewDesc("hearth_replica_errors_total",
		"Failed attempts to reach the replica (uploads, and probes while replication is detached).", nil, nil)
	detachedDesc = prometheus.NewDesc("hearth_replica_detached",
		"1 while replication does not take the WAL in (replica unreachable at start, or local files dropped past their budget): Hearth bounds the WAL itself.", nil, nil)
	localBytesDesc = prometheus.NewDesc("hearth_replica_local_bytes",
		"Size of the local transaction files (HEARTH_REPLICA_LOCAL_MAX bounds it while the replica fails).", nil, nil)
	localMaxDesc = prometheus.NewDesc("hearth_replica_local_max_bytes",
		"HEARTH_REPLICA_LOCAL_MAX, the disk budget of the local transaction files.", nil, nil)
	localDroppedDesc = prometheus.NewDesc("hearth_replica_local_dropped_total",
		"Times the local transaction files were dropped past their budget while the replica failed (each costs a snapshot and a gap in point-in-time restores).", nil, nil)
	guardCheckpointsDesc = prometheus.NewDesc("hearth_replica_detached_checkpoints_total",
		"TRUNCATE checkpoints of data.db made by Hearth while replication was detached (past HEARTH_REPLICA_WAL_MAX).", nil, nil)
	checkpointsDesc = prometheus.NewDesc("hearth_sqlite_checkpoints_total",
		"Checkpoints of data.db (all made by replication; mode: PASSIVE, or TRUNCATE for the WAL's emergency limit).", []string{"mode"}, nil)
	checkpointSecondsDesc = prometheus.NewDesc("hearth_sqlite_checkpoint_seconds_total",
		"Total time spent in checkpoints of data.db.", []string{"mode"}, nil)
)

// Litestream counts checkpoints, per database path and mode, in these
// families of Prometheus's default registry (its metrics are package
// variables); they are re-exported under Hearth's names.
var checkpointFamilies = map[string]*prometheus.Desc{
	"litestream_checkpoint_count":   checkpointsDesc,
	"litestream_checkpoint_seconds": checkpointSecondsDesc,
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{txidDesc, replicaTXIDDesc, lagDesc, lastSyncDesc, failingDesc, errorsDesc, detachedDesc,
		localBytesDesc, localMaxDesc, localDroppedDesc, guardCheckpointsDesc, checkpointsDesc, checkpointSecondsDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.s.status()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(txidDesc, prometheus.GaugeValue, float64(st.TXID))
	ch <- prometheus.MustNewConstMetric(replicaTXIDDesc, prometheus.GaugeValue, float64(st.ReplicaTXID))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.LagSeconds)
	lastSync := unix(st.LastSync)
	ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, lastSync)
	ch <- prometheus.MustNewConstMetric(failingDesc, prometheus.GaugeValue, unix(st.FailingSince))
	ch <- prometheus.MustNewConstMetric(detachedDesc, prometheus.GaugeValue, boolValue(st.Detached))
	ch <- prometheus.MustNewConstMetric(localBytesDesc, prometheus.GaugeValue, float64(st.LocalBytes))
	ch <- prometheus.MustNewConstMetric(localMaxDesc, prometheus.GaugeValue, float64(c.s.cfg.LocalMax))
	errs, dropped := c.s.counts()
	ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(errs))
	ch <- prometheus.MustNewConstMetric(localDroppedDesc, prometheus.CounterValue, float64(dropped))
	ch <- prometheus.MustNewConstMetric(guardCheckpointsDesc, prometheus.CounterValue, float64(c.s.guard.checkpoints.Load()))
	c.collectCheckpoints(ch)
}

func (c collector) collectCheckpoints(ch chan<- prometheus.Metric) {
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(checkpointsDesc, err)
		return
	}
	for _, f := range families {
		desc, ok := checkpointFamilies[f.GetName()]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "db") == c.s.path {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), label(m, "mode"))
			}
		}
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// unix is t in Unix seconds; 0 for the zero time.
func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
