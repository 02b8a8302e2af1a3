package replica

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
)

// logTarget is where Litestream's logs go, switchable while Litestream
// runs (its own SetLogger is not safe then): the app's logger while the
// server runs, standard error for the final flush, after PocketBase has
// closed its logger.
type logTarget struct{ h atomic.Pointer[slog.Handler] }

func (t *logTarget) set(h slog.Handler) { t.h.Store(&h) }

// logger is a logger writing to the target's handler of the moment.
func (t *logTarget) logger() *slog.Logger { return slog.New(loggable{target: t}) }

// loggable hands records to the target's current handler, with the
// attributes and groups it was given, and durations written as strings:
// Litestream logs time.Duration values, which PocketBase cannot store in its
// log table (its JSON encoder has no representation for them).
type loggable struct {
	target *logTarget
	with   []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func (h loggable) current() slog.Handler {
	out := *h.target.h.Load()
	for _, w := range h.with {
		out = w(out)
	}
	return out
}

func (h loggable) Enabled(ctx context.Context, level slog.Level) bool {
	return (*h.target.h.Load()).Enabled(ctx, level)
}

func (h loggable) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(durationsAsStrings(a))
		return true
	})
	return h.current().Handle(ctx, out)
}

func (h loggable) WithAttrs(attrs []slog.Attr) slog.Handler {
	converted := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		converted[i] = durationsAsStrings(a)
	}
	return h.then(func(t slog.Handler) slog.Handler { return t.WithAttrs(converted) })
}

func (h loggable) WithGroup(name string) slog.Handler {
	return h.then(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}

func (h loggable) then(w func(slog.Handler) slog.Handler) slog.Handler {
	return loggable{target: h.target, with: append(slices.Clip(h.with), w)}
}

func durationsAsStrings(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration:
		return slog.String(a.Key, v.Duration().String())
	case slog.KindGroup:
		group := v.Group()
		converted := make([]any, len(group))
		for i, g := range group {
			converted[i] = durationsAsStrings(g)
		}
		return slog.Group(a.Key, converted...)
	}
	return slog.Attr{Key: a.Key, Value: v}
}
