// Package migrations embeds the SQL schema of each supported dialect. Both
// dialects share one numbering, so a database's version means the same
// schema whichever engine holds it; a test checks that the sets match.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// FS returns the migrations of a dialect ("sqlite" or "postgres").
func FS(dialect string) (fs.FS, error) { return fs.Sub(files, dialect) }
