package replica

import (
	"context"
	"log/slog"
)

// loggable wraps the app's log handler for Litestream's logs: Litestream
// logs durations (time.Duration), which PocketBase cannot store in its log
// table (its JSON encoder has no representation for them), so they are
// written as strings ("15s").
type loggable struct{ slog.Handler }

func newLogger(h slog.Handler) *slog.Logger { return slog.New(loggable{h}) }

func (h loggable) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(durationsAsStrings(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h loggable) WithAttrs(attrs []slog.Attr) slog.Handler {
	converted := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		converted[i] = durationsAsStrings(a)
	}
	return loggable{h.Handler.WithAttrs(converted)}
}

func (h loggable) WithGroup(name string) slog.Handler {
	return loggable{h.Handler.WithGroup(name)}
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
