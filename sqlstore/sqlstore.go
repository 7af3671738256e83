// Package sqlstore implements experiments.Store with sqlx over SQLite (the
// embedded default) and Postgres (for several replicas sharing one store).
// Queries are written once with '?' placeholders and rebound per dialect;
// they branch on dialect only where the SQL itself differs.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/migrations"
)

// Dialect names a supported database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the sqlx implementation of experiments.Store.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	dsn     string
	writer  *committer
	log     *slog.Logger
	// onCommit observes each group commit: its latency and events written.
	onCommit atomic.Pointer[func(time.Duration, int)]

	prepareOnce sync.Once
	fullChunk   *sqlx.Stmt
	prepareErr  error

	// copying keeps this process to one copy by unit at a time (see
	// copyOutcomes).
	copying sync.Mutex
	// valueWrites, on SQLite, gives the connections that compute per-unit
	// values at once their turns at the write lock (see writeStaged), so
	// that they queue in Go rather than poll SQLite's busy handler.
	valueWrites sync.Mutex
	// lastSeenSeq is the highest event sequence number the last
	// CopyOutcomes saw, to tell when ingestion is quiet.
	lastSeenSeq atomic.Int64
	// extraConns holds a token for each connection that syncs have taken
	// besides their own (see onSpareConns).
	extraConns chan struct{}
	// checkpoints copies SQLite's WAL into the database file (nil on
	// Postgres).
	checkpoints *checkpointer
}

// OnCommit sets a function called after each group commit of events with
// the commit's latency and the number of events written, for metrics.
func (s *Store) OnCommit(fn func(d time.Duration, events int)) { s.onCommit.Store(&fn) }

var _ experiments.Store = (*Store)(nil)

// DialectOf tells which engine a --db value names: a postgres:// or
// postgresql:// URL, or else a SQLite file path.
func DialectOf(dsn string) Dialect {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// sqliteDSN turns a file path into a DSN with the settings that make an
// acknowledged write durable: WAL lets readers run beside the one writer,
// synchronous=FULL fsyncs the WAL at every commit (so a commit survives power
// loss, not only a process crash), and BEGIN IMMEDIATE takes the write lock
// up front so busy_timeout applies instead of a deadlock-time SQLITE_BUSY.
// Each connection keeps its last statements prepared (_stmt_cache_size):
// parsing was a tenth of the CPU of an assignment that records an exposure.
func sqliteDSN(path string) string { return sqliteDSNWaiting(path, 10*time.Second) }

// sqliteDSNWaiting is sqliteDSN with another limit on waiting for a lock.
func sqliteDSNWaiting(path string, busy time.Duration) string {
	dsn := path
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + fmt.Sprintf("_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_txlock=immediate&_foreign_keys=on&_cache_size=-65536&_stmt_cache_size=64", busy.Milliseconds())
}

func open(dsn string) (*sqlx.DB, Dialect, error) {
	d := DialectOf(dsn)
	if d == Postgres {
		db, err := sqlx.Open("pgx", dsn)
		return db, d, err
	}
	db, err := sqlx.Open(sqliteDriver, sqliteDSN(dsn))
	return db, d, err
}

// Open connects to dsn and checks that it answers. It does not migrate.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	db, dialect, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		// Writes are serialised by the committer anyway; more readers help reports.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	} else {
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the %s database: %w", dialect, err)
	}
	s := &Store{db: db, dialect: dialect, dsn: dsn, log: log, extraConns: make(chan struct{}, maxExtraConns)}
	workers := 1
	if dialect == Postgres {
		workers = 4
	}
	if dialect == SQLite {
		if s.checkpoints, err = startCheckpointer(dsn, log); err != nil {
			db.Close()
			return nil, fmt.Errorf("opening the SQLite checkpointer: %w", err)
		}
	}
	s.writer = newCommitter(s, workers)
	return s, nil
}

// Close stops the writer after the writes in flight and closes the database.
func (s *Store) Close() error {
	s.writer.close()
	if s.checkpoints != nil {
		s.checkpoints.close()
	}
	if s.fullChunk != nil {
		s.fullChunk.Close()
	}
	return s.db.Close()
}

// Dialect returns the engine behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the connection for tests and tools.
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// MigrationStatus reports the schema version of the database and the latest
// version this binary knows. A database with no schema has version 0.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest uint, dirty bool, err error) {
	err = s.withMigrate(func(m *migrate.Migrate, latestVersion uint) error {
		latest = latestVersion
		current, dirty, err = m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			current, err = 0, nil
		}
		return err
	})
	return current, latest, dirty, err
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.withMigrate(func(m *migrate.Migrate, _ uint) error {
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.dataSteps(ctx)
}

// MigrateTo moves the schema up or down to version, for staged upgrades.
func (s *Store) MigrateTo(ctx context.Context, version uint) error {
	err := s.withMigrate(func(m *migrate.Migrate, _ uint) error {
		if err := m.Migrate(version); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return err
		}
		return nil
	})
	if err != nil || version < statementsVersion {
		return err
	}
	return s.dataSteps(ctx)
}

// statementsVersion is the migration that adds statements; its data step
// links the claims written before it (linkClaimsToStatements).
const statementsVersion = 9

// dataSteps finish what SQL alone cannot in the migrations applied; each
// is idempotent.
func (s *Store) dataSteps(ctx context.Context) error {
	if err := s.linkClaimsToStatements(ctx); err != nil {
		return fmt.Errorf("migration %d, linking claims to statements: %w", statementsVersion, err)
	}
	return nil
}

// withMigrate runs fn with a migrator on its own connection: the migration
// drivers close the database they are given.
func (s *Store) withMigrate(fn func(m *migrate.Migrate, latest uint) error) error {
	files, err := migrations.FS(string(s.dialect))
	if err != nil {
		return err
	}
	src, err := iofs.New(files, ".")
	if err != nil {
		return err
	}
	latest, err := src.First()
	if err != nil {
		return err
	}
	for {
		next, err := src.Next(latest)
		if err != nil {
			break
		}
		latest = next
	}
	db, _, err := open(s.dsn)
	if err != nil {
		return err
	}
	var m *migrate.Migrate
	if s.dialect == Postgres {
		driver, derr := migratepgx.WithInstance(db.DB, &migratepgx.Config{})
		if derr != nil {
			db.Close()
			return derr
		}
		m, err = migrate.NewWithInstance("iofs", src, "pgx5", driver)
	} else {
		driver, derr := migratesqlite.WithInstance(db.DB, &migratesqlite.Config{})
		if derr != nil {
			db.Close()
			return derr
		}
		m, err = migrate.NewWithInstance("iofs", src, "sqlite3", driver)
	}
	if err != nil {
		db.Close()
		return err
	}
	defer m.Close()
	return fn(m, latest)
}

// adaptError maps driver errors to domain errors by error code, never by
// message text.
func adaptError(err error, conflict string) error {
	if err == nil {
		return nil
	}
	var sqliteErr sqlite3.Error
	if errors.As(err, &sqliteErr) && (sqliteErr.ExtendedCode == sqlite3.ErrConstraintUnique || sqliteErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return experiments.Errorf(experiments.CodeConflict, "%s", conflict)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return experiments.Errorf(experiments.CodeConflict, "%s", conflict)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return experiments.Errorf(experiments.CodeNotFound, "not found")
	}
	var domain *experiments.Error
	if errors.As(err, &domain) {
		return err
	}
	return experiments.Internal(err)
}

// rebind rewrites '?' placeholders for the store's dialect.
func (s *Store) rebind(q string) string { return s.db.Rebind(q) }
