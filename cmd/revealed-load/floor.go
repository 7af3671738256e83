package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // or its Postgres database
	_ "github.com/mattn/go-sqlite3"    // the floor query reads the server's SQLite file

	"github.com/revealed-ab/revealed/sqlstore"
)

// floorQueries compute the metric's sum per variant over the experiment's
// exposed units, each unit's outcomes summed first: the least any refresh
// must do. The first reads the outcomes through the events' covering index
// by (metric, ts); the second through unit_outcomes, clustered by unit.
var floorQueries = []struct{ name, sql string }{
	{"events, covering index by (metric, ts)", floorSQL(`events WHERE type = 'outcome' AND metric = ?`)},
	{"unit_outcomes, clustered by (metric, unit)", floorSQL(`unit_outcomes WHERE metric = ?`)},
}

// floorSQL sums each unit's outcomes read from outcomes, then the sums per
// variant over the experiment's exposed units.
func floorSQL(outcomes string) string {
	return `SELECT x.variant, COUNT(*), SUM(COALESCE(u.v, 0)), SUM(COALESCE(u.v, 0) * COALESCE(u.v, 0))
		FROM exposures x LEFT JOIN (SELECT unit_id, SUM(value) AS v FROM ` + outcomes + ` GROUP BY unit_id) u ON u.unit_id = x.unit_id
		WHERE x.experiment = ? GROUP BY x.variant`
}

// measureFloor times each floor query twice on the server's database and
// prints the faster run. A SQLite file is opened read-only. On Postgres the
// three tables are analysed first, so that the floor is the best plan the
// planner can find rather than the one it guesses without statistics.
func measureFloor(ctx context.Context, cfg config, out io.Writer) error {
	driver, dsn := "sqlite3", "file:"+cfg.floorDB+"?mode=ro&_busy_timeout=10000"
	if isPostgresDSN(cfg.floorDB) {
		driver, dsn = "pgx", cfg.floorDB
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if driver == "pgx" {
		if _, err := db.ExecContext(ctx, `ANALYZE exposures, events, unit_outcomes`); err != nil {
			return fmt.Errorf("analysing the floor's tables: %w", err)
		}
	}
	for _, q := range floorQueries {
		query := q.sql
		if driver == "pgx" {
			query = strings.Replace(strings.Replace(query, "?", "$1", 1), "?", "$2", 1)
		}
		best := time.Duration(0)
		for range 2 {
			start := time.Now()
			rows, err := db.QueryContext(ctx, query, cfg.metric, cfg.experiment)
			if err != nil {
				return fmt.Errorf("floor query: %w", err)
			}
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return err
			}
			if d := time.Since(start); best == 0 || d < best {
				best = d
			}
		}
		fmt.Fprintf(out, "floor (%s): %v\n", q.name, best)
	}
	return nil
}

func isPostgresDSN(s string) bool { return sqlstore.DialectOf(s) == sqlstore.Postgres }

// floorHostAllowed keeps --floor-db, like --url, to this machine: on
// Postgres the floor analyses tables.
func floorHostAllowed(dsn string) bool {
	if !isPostgresDSN(dsn) {
		return true
	}
	u, err := url.Parse(dsn)
	return err == nil && isLoopbackHost(u.Hostname())
}
