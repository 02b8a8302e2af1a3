package changefeed_test

import (
	"errors"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/metrics"
	dto "github.com/prometheus/client_model/go"
)

// The prune job's runs reach the app's registry, by result.
func TestPruneRunsAreCounted(t *testing.T) {
	app := hearthtest.NewApp(t)
	changefeed.PruneRun(app, 5, nil)
	changefeed.PruneRun(app, 0, errors.New("disk full"))
	families, err := metrics.Gatherer(app).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			got[f.GetName()+labels(s)] = s.GetCounter().GetValue()
		}
	}
	for series, want := range map[string]float64{
		"hearth_sync_prune_runs_total{result=ok}":    1,
		"hearth_sync_prune_runs_total{result=error}": 1,
		"hearth_sync_pruned_entries_total{}":         5,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
}

func labels(m *dto.Metric) string {
	s := "{"
	for i, l := range m.GetLabel() {
		if i > 0 {
			s += ","
		}
		s += l.GetName() + "=" + l.GetValue()
	}
	return s + "}"
}
