package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/sqlstore"
)

// seedFromEnv returns REVEALED_CRASH_SEED when set, so that a failing run's
// kill schedule can be replayed, else a fresh seed.
func seedFromEnv(t *testing.T) uint64 {
	if s := os.Getenv("REVEALED_CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("REVEALED_CRASH_SEED: %v", err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashKill9SQLite is issue 6's crash test: clients send batches
// continuously while the server is killed with SIGKILL at random moments and
// restarted on the same SQLite file. Every event acknowledged with 202
// (exposures, outcomes and survey responses) must be stored exactly once,
// each unit's first answer must be the one kept, and the report must count
// the acknowledged units.
func TestCrashKill9SQLite(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 5
	}
	seed := seedFromEnv(t)
	t.Logf("seed %d (replay with REVEALED_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dbPath := filepath.Join(t.TempDir(), "crash.db")
	env := []string{"REVEALED_ADMIN_KEY=" + adminKey}
	p := testbin.Start(t, env, "--db", dbPath)
	hc := newHTTPClient(2)
	const key = "crash-sqlite"
	def := createRunning(t, hc, p.URL, key)
	createCrashQuestions(t, hc, p.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tgt := newTarget(p.URL)
	logs, stopSenders := runSenders(ctx, t, 4, seed, []*target{tgt}, func(i int, rng *rand.Rand) *batchGen {
		return &batchGen{rng: rng, def: def, units: 20000, unit: "c", responses: true}
	})

	began := time.Now()
	for range kills {
		time.Sleep(time.Duration(50+rng.IntN(450)) * time.Millisecond)
		p.Kill()
		p = testbin.Start(t, env, "--db", dbPath)
		tgt.set(p.URL)
	}
	stopSenders()
	elapsed := time.Since(began)

	// One more crash with nothing in flight, then the report as a fresh
	// process computes it from what is on disk.
	p.Kill()
	p = testbin.Start(t, env, "--db", dbPath)
	gotUnits := reportUnits(t, hc, p.URL, key)
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopCancel()
	if err := p.Terminate(stopCtx); err != nil {
		t.Errorf("SIGTERM: %v\n%s", err, p.Stderr())
	}

	tot := sum(logs)
	lost, dupIDs := checkStored(t, dbPath, logs)
	t.Logf("kills %d in %v; events acknowledged %d (responses %d, first answers %d); lost %d; duplicates stored %d; "+
		"batches resent after no answer %d (of which already stored %d); acknowledged batches replayed %d; duplicates reported by the server %d; 5xx %d",
		kills, elapsed.Round(time.Millisecond), tot.acked, tot.responses, len(firstAnswers(logs)), lost, dupIDs, tot.resent, tot.resentStored, tot.replays, tot.dups, tot.errs5xx)

	if tot.errs5xx > 0 {
		t.Errorf("%d responses were 5xx; a killed server gives no answer, so these are server errors", tot.errs5xx)
	}
	if tot.resent == 0 {
		t.Errorf("no batch was ever resent: the kills never caught a request in flight, so idempotency across restarts went untested")
	}
	if tot.acked == 0 || tot.responses == 0 {
		t.Fatalf("%d events acknowledged, %d of them responses: want both", tot.acked, tot.responses)
	}
	wantUnits := unitsPerVariant(logs)
	if fmt.Sprint(gotUnits) != fmt.Sprint(wantUnits) {
		t.Errorf("report units per variant %v, want the acknowledged exposed units %v", gotUnits, wantUnits)
	}
}

// checkStored opens the database the server left and compares its events
// with the acknowledged ids: it fails on any lost, extra or repeated event,
// of any type, and on a responses table that does not hold each unit's
// first acknowledged answer.
func checkStored(t *testing.T, dsn string, logs []*ackLog) (lost, dupIDs int) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB()
	// Grouping by id, not trusting the unique index to exist.
	if err := db.GetContext(ctx, &dupIDs, `SELECT COUNT(*) FROM (SELECT id FROM events GROUP BY id HAVING COUNT(*) > 1) d`); err != nil {
		t.Fatal(err)
	}
	var stored []string
	if err := db.SelectContext(ctx, &stored, `SELECT DISTINCT id FROM events ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	acked := allIDs(logs)
	for i := 1; i < len(acked); i++ {
		if acked[i] == acked[i-1] {
			t.Fatalf("the test generated id %s twice", acked[i])
		}
	}
	lost, extra, sample := compareIDs(acked, stored)
	if lost > 0 || extra > 0 || dupIDs > 0 {
		t.Errorf("stored events: %d acknowledged ids lost, %d stored but never acknowledged, %d ids stored more than once; e.g. %v",
			lost, extra, dupIDs, sample)
	}

	var types []struct {
		Type   string `db:"type"`
		Events int    `db:"events"`
	}
	if err := db.SelectContext(ctx, &types, `SELECT type, COUNT(*) AS events FROM events GROUP BY type`); err != nil {
		t.Fatal(err)
	}
	gotTypes, wantTypes := map[string]int{}, map[string]int{}
	for _, r := range types {
		gotTypes[r.Type] = r.Events
	}
	for _, l := range logs {
		for typ, n := range l.types {
			wantTypes[typ] += n
		}
	}
	if fmt.Sprint(gotTypes) != fmt.Sprint(wantTypes) {
		t.Errorf("stored events by type %v, want the acknowledged %v", gotTypes, wantTypes)
	}
	checkFirstAnswers(t, db, logs)

	var rows []struct {
		Variant string `db:"variant"`
		Units   int64  `db:"units"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT variant, COUNT(*) AS units FROM exposures GROUP BY variant`); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Variant] = r.Units
	}
	if want := unitsPerVariant(logs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("exposures table: units per variant %v, want %v", got, want)
	}
	return lost, dupIDs
}

// checkFirstAnswers compares the responses table with the acknowledged
// responses: one row per question and unit, holding the earliest answer.
func checkFirstAnswers(t *testing.T, db *sqlx.DB, logs []*ackLog) {
	t.Helper()
	var rows []struct {
		Question string `db:"question"`
		Unit     string `db:"unit_id"`
		Answer   string `db:"answer"`
		TS       int64  `db:"ts"`
	}
	if err := db.SelectContext(context.Background(), &rows, `SELECT question, unit_id, answer, ts FROM responses`); err != nil {
		t.Fatal(err)
	}
	want := firstAnswers(logs)
	var wrong []string
	for _, r := range rows {
		k := answerKey{r.Question, r.Unit}
		a, ok := want[k]
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("%s/%s answered %q but never acknowledged", r.Question, r.Unit, r.Answer))
		case r.TS != a.ts || !slices.Contains(a.answers, r.Answer):
			wrong = append(wrong, fmt.Sprintf("%s/%s holds %q at %d, want %q at %d", r.Question, r.Unit, r.Answer, r.TS, a.answers, a.ts))
		}
		delete(want, k)
	}
	for k := range want {
		wrong = append(wrong, fmt.Sprintf("%s/%s: acknowledged answer missing", k.question, k.unit))
	}
	if len(wrong) > 0 {
		t.Errorf("responses table: %d of %d first answers wrong; e.g. %v", len(wrong), len(rows), wrong[:min(len(wrong), 5)])
	}
}
