package migrations_test

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/revealed-ab/revealed/migrations"
)

// The dialects must share one numbering: version N means the same schema on
// SQLite and on Postgres.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []string{"sqlite", "postgres"} {
		files, err := migrations.FS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.Glob(files, "*.sql")
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: no migrations (%v)", d, err)
		}
		names[d] = entries
	}
	if !slices.Equal(names["sqlite"], names["postgres"]) {
		t.Fatalf("migration sets differ:\nsqlite:   %v\npostgres: %v", names["sqlite"], names["postgres"])
	}
}
