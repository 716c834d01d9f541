package store

import (
	"context"
	"log/slog"
)

// quieter returns logger passing on only records at min or above, whatever the level
// of logger's own handler: River and its migrator log routine steps at INFO that the
// store summarizes in one line of its own.
func quieter(logger *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{Handler: logger.Handler(), min: min})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
