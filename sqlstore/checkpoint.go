package sqlstore

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// sqliteDriver is the SQLite driver with the store's per-connection
// settings that a DSN cannot carry.
const sqliteDriver = "sqlite3_revealed"

// backstopCheckpointPages is the WAL size, in pages, at which a committing
// connection checkpoints by itself, as SQLite does by default at 1,000
// pages. The checkpointer keeps the WAL far below it; it bounds the WAL if
// the checkpointer falls behind.
const backstopCheckpointPages = 65536

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, backstopCheckpointPages), nil)
		return err
	}})
}

var (
	// checkpointEvery is how often the checkpointer copies the WAL into the
	// database file.
	checkpointEvery = 250 * time.Millisecond
	// restartPages is the WAL size, in pages, at which the checkpointer also
	// has the next writer start the WAL again from its beginning.
	restartPages = 8192 // 32 MB of 4 KB pages; a variable only so that tests can reach it
)

// restartBackoff is how long the checkpointer waits before trying again to
// restart the WAL after a reader kept it from doing so.
const restartBackoff = 2 * time.Second

// checkpointer copies SQLite's WAL into the database file in the
// background, so that commits do not. By default the connection whose
// commit takes the WAL past 1,000 pages checkpoints before its commit
// returns: a group commit of 5,000 events writes a few MB of WAL, so the
// committer checkpointed every few groups, and the events waited for it:
// with 10M events stored, 66,000-73,000 events/s and a p99 of 1.1-1.6 s,
// against 83,000 and 0.4-0.5 s with this. A passive checkpoint never
// blocks. The WAL starts again from its beginning only once every frame has
// been copied when a writer begins, which under steady writes never happens
// by itself, so past restartPages the checkpointer asks for a restart:
// writers wait while it copies the frames added since its passive pass. It
// gives up after 20 ms of waiting for readers of old frames (a refresh that
// reads for seconds) and tries again restartBackoff later.
type checkpointer struct {
	db           *sqlx.DB
	log          *slog.Logger
	every        time.Duration
	restartPages int
	warned       time.Time
	stop         chan struct{}
	done         chan struct{}
}

// startCheckpointer checkpoints the SQLite database at path on a
// connection of its own until close.
func startCheckpointer(path string, log *slog.Logger) (*checkpointer, error) {
	db, err := sqlx.Open(sqliteDriver, sqliteDSNWaiting(path, 20*time.Millisecond))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, log: log, every: checkpointEvery, restartPages: restartPages, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	var noRestartUntil time.Time
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		walPages, err := c.checkpoint("PASSIVE")
		if err != nil || walPages < c.restartPages || time.Now().Before(noRestartUntil) {
			continue
		}
		if walPages, err = c.checkpoint("RESTART"); err == nil && walPages >= c.restartPages {
			noRestartUntil = time.Now().Add(restartBackoff)
		}
	}
}

// checkpoint runs a checkpoint in mode and returns the size of the WAL, in
// pages, that it leaves: what a writer will still append to, or 0 when the
// next one starts the WAL again.
func (c *checkpointer) checkpoint(mode string) (int, error) {
	var busy, walPages, copied int
	err := c.db.QueryRowx(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &walPages, &copied)
	if err != nil {
		if time.Since(c.warned) >= time.Minute {
			c.log.Warn("checkpointing the SQLite WAL failed; commits checkpoint it themselves past the backstop", "mode", mode, "err", err,
				"backstop_pages", backstopCheckpointPages)
			c.warned = time.Now()
		}
		return 0, err
	}
	if mode == "RESTART" && busy == 0 {
		return 0, nil
	}
	return walPages, nil
}

func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
	c.db.Close()
}
