package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// previousRelease is the last schema version of the release before
// statements: its claims state their own figures.
const previousRelease = 7

// rawDB opens dsn without the store, to write rows as an older release did.
func rawDB(t *testing.T, dsn string) *sqlx.DB {
	t.Helper()
	driver := "sqlite3"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrationLinksClaimsToStatements: on a database created by the
// previous release, migrating turns every live claim into a test of a
// statement of a source named after its source text, as a new claim
// version; every earlier version, and every deleted claim, is kept as it
// was. The same statement typed in two experiments becomes one statement,
// and a second run changes nothing.
func TestMigrationLinksClaimsToStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := sqlstore.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.MigrateTo(ctx, previousRelease); err != nil {
			t.Fatal(err)
		}
		db := rawDB(t, dsn)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
		for _, key := range []string{"emea", "us"} {
			exec(`INSERT INTO experiments (key, name, hypothesis, unit, salt, traffic, status, variants, targeting, metrics, analysis, created_at, updated_at, version)
				VALUES (?, 'x', '', 'customer_id', ?, 1, 'running', ?, '[]', ?, '{}', ?, ?, 1)`, key, key,
				`[{"key":"bot","weight":0.5,"control":true},{"key":"human","weight":0.5,"control":false}]`,
				`[{"key":"chose_human","kind":"binary","higher_is_better":true}]`, at, at)
		}
		const survey = "ignite80 with Front, survey of 2,128 B2B buyers (2019)"
		claim := func(id, source string, share float64) analysis.Claim {
			return analysis.Claim{ID: id, Statement: "74% would wait for a human", Source: source, Kind: analysis.ClaimShare,
				Metric: "chose_human", SurveyN: 2128, StatedShare: &share}
		}
		type stored struct {
			experiment string
			claim      analysis.Claim
			version    int
			deleted    bool
		}
		rows := []stored{
			{"emea", claim("human-74", survey, 0.70), 1, false},
			{"emea", claim("human-74", survey, 0.74), 2, false}, // an edit: version 2 is the live one
			{"us", claim("human-74", survey, 0.74), 1, false},   // the same statement, typed again
			{"us", claim("other", "", 0.6), 1, false},           // no source
			{"us", claim("gone", survey, 0.5), 1, false},
			{"us", claim("gone", survey, 0.5), 2, true}, // deleted: stays deleted, unlinked
		}
		rows = append(rows, stored{"emea", claim("human-74b", survey, 0.74), 1, false})
		rows[len(rows)-1].claim.ID = "human-74b"
		rows = append(rows, stored{"us", claim("human-74c", survey, 0.74), 1, false})
		rows[len(rows)-1].claim.Statement = "74% would wait 10 minutes for a human"
		for _, r := range rows {
			body, err := json.Marshal(experiments.Claim{Claim: r.claim, Version: r.version, CreatedAt: time.UnixMicro(at).UTC()})
			if err != nil {
				t.Fatal(err)
			}
			deleted := 0
			if r.deleted {
				deleted = 1
			}
			exec(`INSERT INTO claims (experiment, id, version, body, deleted, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				r.experiment, r.claim.ID, r.version, string(body), deleted, at)
		}
		bodiesBefore := claimBodies(t, db)

		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		bodiesAfter := claimBodies(t, db)
		for k, v := range bodiesBefore {
			if bodiesAfter[k] != v {
				t.Errorf("claim version %s changed:\n%s\n%s", k, v, bodiesAfter[k])
			}
		}
		if got, want := len(bodiesAfter), len(bodiesBefore)+5; got != want {
			t.Fatalf("%d claim versions after migrating twice, want %d (one new version per live claim)", got, want)
		}

		links := map[string]string{}
		for _, exp := range []string{"emea", "us"} {
			claims, err := s.Claims(ctx, exp)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range claims {
				links[exp+"/"+c.ID] = c.StatementKey
				if c.StatementKey == "" {
					t.Errorf("%s/%s is not linked", exp, c.ID)
				}
			}
		}
		want := map[string]string{"emea/human-74": "human-74", "us/human-74": "human-74", "us/other": "other",
			"emea/human-74b": "human-74b", "us/human-74c": "human-74c"}
		if !reflect.DeepEqual(links, want) {
			t.Errorf("links %v, want %v", links, want)
		}
		sources, err := s.ListSources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sources) != 2 || sources[0].Title != "Claims without a source" || sources[1].Key != "ignite80-with-front-survey-of-2-128-b2b-buyers-2019" || sources[1].Title != survey {
			t.Fatalf("sources: %+v", sources)
		}
		statements, err := s.Statements(ctx, sources[1].Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(statements) != 3 || statements[0].Key != "human-74" || *statements[0].StatedShare != 0.74 || statements[0].SurveyN != 2128 ||
			statements[0].Text != "74% would wait for a human" || statements[2].Text != "74% would wait 10 minutes for a human" {
			t.Fatalf("statements: %+v", statements)
		}
		history, deleted, err := s.ClaimHistory(ctx, "us", "gone")
		if err != nil || len(history) != 2 || !deleted[1] || history[1].StatementKey != "" {
			t.Errorf("a deleted claim was touched: %v %v %v", history, deleted, err)
		}
		refs, err := s.ClaimsByStatement(ctx, []string{"human-74"})
		if err != nil || len(refs) != 2 {
			t.Errorf("tests of human-74: %v %v", refs, err)
		}
	})
}

// TestMigrationKeepsDifferentFiguresApart: two experiments' claims with
// one id but different figures become two statements.
func TestMigrationKeepsDifferentFiguresApart(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.SQLite(t)
	s, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MigrateTo(ctx, previousRelease); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, dsn)
	for i, share := range []float64{0.74, 0.61} {
		c := experiments.Claim{Claim: analysis.Claim{ID: "pref", Statement: "s", Source: "Survey", Kind: analysis.ClaimShare,
			Metric: "m", SurveyN: 10, StatedShare: &share}, Version: 1}
		body, _ := json.Marshal(c)
		if _, err := db.Exec(`INSERT INTO claims (experiment, id, version, body, deleted, created_at) VALUES (?, 'pref', 1, ?, 0, 0)`,
			[]string{"a", "b"}[i], string(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := db.Select(&keys, `SELECT statement_key FROM claims WHERE version = 2 ORDER BY experiment`); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys, []string{"pref", "pref-2"}) {
		t.Errorf("statement keys %v, want [pref pref-2]", keys)
	}
}

func claimBodies(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	var rows []struct {
		Experiment string `db:"experiment"`
		ID         string `db:"id"`
		Version    int    `db:"version"`
		Body       string `db:"body"`
	}
	if err := db.Select(&rows, `SELECT experiment, id, version, body FROM claims`); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Experiment+"/"+r.ID+"/"+string(rune('0'+r.Version))] = r.Body
	}
	return out
}
