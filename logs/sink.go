package logs

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"
)

// sink decides, as PocketBase stores each log entry (in batches, within 3 s
// of it being logged), whether the entry is kept, and writes the kept ones
// to the configured output. Entries PocketBase did not store (below its
// minimum level) never reach it.
type sink struct {
	cfg     Config
	handler slog.Handler // nil without a Format
}

func newSink(cfg Config) *sink {
	s := &sink{cfg: cfg}
	// PocketBase has applied the minimum level already.
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	switch cfg.Format {
	case FormatJSON:
		s.handler = slog.NewJSONHandler(cfg.Output, opts)
	case FormatText:
		s.handler = slog.NewTextHandler(cfg.Output, opts)
	}
	return s
}

// onCreate is bound to the creation of _logs rows: not calling e.Next
// drops the entry.
func (s *sink) onCreate(e *core.ModelEvent) error {
	entry, ok := e.Model.(*core.Log)
	if !ok {
		return e.Next()
	}
	if !s.keep(entry) {
		return nil
	}
	if s.handler != nil {
		_ = s.handler.Handle(context.Background(), record(entry))
	}
	return e.Next()
}

// keep: every application entry; a request entry when it failed, was slow,
// or is drawn by the sample.
func (s *sink) keep(entry *core.Log) bool {
	if entry.Data["type"] != "request" {
		return true
	}
	if cast.ToInt(entry.Data["status"]) >= 400 || entry.Level >= int(slog.LevelWarn) || entry.Data["error"] != nil {
		return true
	}
	took := time.Duration(cast.ToFloat64(entry.Data["execTime"]) * float64(time.Millisecond))
	if took >= s.cfg.SlowRequest {
		return true
	}
	return s.cfg.Sample()
}

// record turns a stored entry into a log/slog record: its time, level and
// message, then its data in key order, with the request's meta (requestId,
// route) at the top level. execTime is PocketBase's name for a request's
// duration in milliseconds.
func record(entry *core.Log) slog.Record {
	r := slog.NewRecord(entry.Created.Time(), slog.Level(entry.Level), entry.Message, 0)
	for _, k := range slices.Sorted(maps.Keys(entry.Data)) {
		v := entry.Data[k]
		if meta, ok := v.(map[string]any); ok && k == "meta" {
			for _, mk := range slices.Sorted(maps.Keys(meta)) {
				r.AddAttrs(slog.Any(mk, meta[mk]))
			}
			continue
		}
		r.AddAttrs(slog.Any(k, v))
	}
	return r
}
