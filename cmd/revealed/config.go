package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// setting is one configuration value: a flag with an environment-variable
// fallback. This table is the single source of both, and a test checks that
// docker-compose.yml and the Dockerfile use only names that exist here.
type setting struct {
	flag, env, def, usage string
}

var settings = []setting{
	{"addr", "REVEALED_ADDR", "127.0.0.1:8080", "address to listen on"},
	{"db", "REVEALED_DB", "revealed.db", "SQLite file path, or a postgres:// URL"},
	{"log-level", "REVEALED_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "REVEALED_LOG_FORMAT", "text", "text or json"},
	{"rate-limit", "REVEALED_RATE_LIMIT", "2000", "requests a second allowed per API key on average (0 turns the limit off)"},
	{"rate-burst", "REVEALED_RATE_BURST", "4000", "requests per API key allowed in a burst"},
	{"refresh-every", "REVEALED_REFRESH_EVERY", "1h", "how often a running experiment's report is recomputed and stored (reads never compute)"},
}

// envAdminKey is read from the environment only: a secret does not belong in
// a command line that every user of the machine can read.
const envAdminKey = "REVEALED_ADMIN_KEY"

// config holds the parsed settings.
type config struct {
	values map[string]*string
}

func (c config) get(name string) string { return *c.values[name] }

// bindSettings registers the named settings on fs, defaulting each to its
// environment variable when set.
func bindSettings(fs *flag.FlagSet, names ...string) config {
	c := config{values: map[string]*string{}}
	for _, s := range settings {
		for _, n := range names {
			if n != s.flag {
				continue
			}
			def := s.def
			if v, ok := os.LookupEnv(s.env); ok {
				def = v
			}
			c.values[s.flag] = fs.String(s.flag, def, fmt.Sprintf("%s (env %s)", s.usage, s.env))
		}
	}
	return c
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
