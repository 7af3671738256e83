package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	_ "github.com/mattn/go-sqlite3" // the floor query reads the server's SQLite file
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

// measureFloor times each floor query twice on the server's SQLite file,
// opened read-only, and prints the faster run.
func measureFloor(ctx context.Context, cfg config, out io.Writer) error {
	db, err := sql.Open("sqlite3", "file:"+cfg.floorDB+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range floorQueries {
		best := time.Duration(0)
		for range 2 {
			start := time.Now()
			rows, err := db.QueryContext(ctx, q.sql, cfg.metric, cfg.experiment)
			if err != nil {
				return fmt.Errorf("floor query on %s: %w", cfg.floorDB, err)
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
