package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// TestCheckpointerKeepsTheWALShort ingests the same events into two SQLite
// stores, one whose checkpointer never comes round: there the WAL holds
// every commit, since commits no longer checkpoint it themselves (the
// backstop is far off), while the checkpointer copies it into the database
// file and the WAL starts again, so that it stays a fraction of that size.
// Every event is stored either way.
func TestCheckpointerKeepsTheWALShort(t *testing.T) {
	const batches, perBatch = 80, 500
	ingest := func(t *testing.T, every time.Duration) (walBytes int64) {
		defer sqlstore.SetCheckpointing(every, 64)()
		path := testdb.SQLite(t)
		s := sqlstore.OpenMigrated(t, path)
		ctx := context.Background()
		for b := range batches {
			batch := make([]experiments.StoredEvent, perBatch)
			for i := range batch {
				batch[i] = outcome(fmt.Sprintf("e%d-%d", b, i), fmt.Sprintf("u%d", i), "", "csat", float64(i), int64(b*perBatch+i))
			}
			if _, err := s.Ingest(ctx, batch); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // room for the checkpointer between commits
		}
		var stored int
		if err := s.DB().GetContext(ctx, &stored, `SELECT COUNT(*) FROM events`); err != nil {
			t.Fatal(err)
		}
		if stored != batches*perBatch {
			t.Fatalf("%d events stored, want %d", stored, batches*perBatch)
		}
		info, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}
	never := ingest(t, time.Hour)
	checkpointed := ingest(t, time.Millisecond)
	t.Logf("WAL after %d commits: %d KB without the checkpointer, %d KB with it", batches, never>>10, checkpointed>>10)
	// SQLite's own default would have the commits checkpoint at 1,000 pages.
	if never < 6<<20 {
		t.Errorf("WAL of %d bytes without the checkpointer: the commits checkpointed it themselves", never)
	}
	if checkpointed*4 > never {
		t.Errorf("WAL of %d bytes with the checkpointer, against %d without: want under a quarter", checkpointed, never)
	}
}
