package replica

import (
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
	for _, d := range []*prometheus.Desc{txidDesc, replicaTXIDDesc, lagDesc, lastSyncDesc, checkpointsDesc, checkpointSecondsDesc} {
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
	var lastSync float64
	if !st.LastSync.IsZero() {
		lastSync = float64(st.LastSync.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, lastSync)
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
