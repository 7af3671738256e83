package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/revealed-ab/revealed/internal/testbin"
)

// throwawayPostgres creates a database of its own on the server that
// REVEALED_TEST_POSTGRES names, so that the test sees only its own rows and
// other tests sharing that server see none of them, and drops it afterwards.
func throwawayPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("REVEALED_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("REVEALED_TEST_POSTGRES is not set; set it to a postgres:// DSN " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the Postgres replica tests")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("revealed_e2e_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating a throwaway database: %v", err)
	}
	// Registered before any process starts, so it runs after their
	// cleanups have killed them; FORCE ends any connection still open.
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestPostgresTwoReplicasIdempotent runs two replicas on one Postgres
// database. The same batch sent to both at once must be stored once, with
// the two answers' accepted and duplicates each adding up to the batch; and
// clients moving between replicas while either is killed must lose and
// repeat nothing, nor keep any answer but each unit's first.
func TestPostgresTwoReplicasIdempotent(t *testing.T) {
	dsn := throwawayPostgres(t)
	seed := seedFromEnv(t)
	t.Logf("seed %d (replay with REVEALED_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	env := []string{"REVEALED_ADMIN_KEY=" + adminKey}
	procs := []*testbin.Process{testbin.Start(t, env, "--db", dsn), testbin.Start(t, env, "--db", dsn)}
	targets := []*target{newTarget(procs[0].URL), newTarget(procs[1].URL)}
	hc := newHTTPClient(4)
	const key = "pg-replicas"
	def := createRunning(t, hc, procs[0].URL, key)
	createCrashQuestions(t, hc, procs[0].URL)

	// The same batch to both replicas at once.
	same := newAckLog()
	gen := &batchGen{rng: rng, def: def, units: 5000, unit: "s", responses: true}
	for round := range 10 {
		b := gen.batch(1000)
		var res [2]ingestResult
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				status, body, err := call(context.Background(), hc, "POST", targets[i].get()+"/api/v1/events", map[string]any{"events": b})
				if err != nil || status != http.StatusAccepted {
					t.Errorf("round %d, replica %d: status %d, err %v: %s", round, i, status, err, body)
					return
				}
				if err := json.Unmarshal(body, &res[i]); err != nil {
					t.Errorf("round %d, replica %d: %v", round, i, err)
				}
			})
		}
		wg.Wait()
		if acc, dup := res[0].Accepted+res[1].Accepted, res[0].Duplicates+res[1].Duplicates; acc != len(b) || dup != len(b) {
			t.Errorf("round %d: replicas answered %+v and %+v: accepted add up to %d and duplicates to %d, want %d each",
				round, res[0], res[1], acc, dup, len(b))
		}
		same.record(b)
		same.accepted += res[0].Accepted + res[1].Accepted
		same.dups += res[0].Duplicates + res[1].Duplicates
	}

	// Clients spread over both replicas; a retry goes to the other one.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs, stopSenders := runSenders(ctx, t, 4, seed, targets, func(i int, rng *rand.Rand) *batchGen {
		return &batchGen{rng: rng, def: def, units: 5000, unit: "s", responses: true}
	})
	kills := 6
	for range kills {
		time.Sleep(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		i := rng.IntN(2)
		procs[i].Kill()
		procs[i] = testbin.Start(t, env, "--db", dsn)
		targets[i].set(procs[i].URL)
	}
	stopSenders()

	gotUnits := reportUnits(t, hc, targets[1].get(), key)
	for _, p := range procs {
		stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := p.Terminate(stopCtx); err != nil {
			t.Errorf("SIGTERM: %v\n%s", err, p.Stderr())
		}
		stopCancel()
	}

	logs = append(logs, same)
	tot := sum(logs)
	lost, dupIDs := checkStored(t, dsn, logs)
	t.Logf("replica kills %d; events acknowledged %d (responses %d); lost %d; duplicates stored %d; "+
		"batches resent after no answer %d (of which already stored %d); duplicates reported by the servers %d; 5xx %d",
		kills, tot.acked, tot.responses, lost, dupIDs, tot.resent, tot.resentStored, tot.dups, tot.errs5xx)
	if tot.errs5xx > 0 {
		t.Errorf("%d responses were 5xx", tot.errs5xx)
	}
	if want := unitsPerVariant(logs); fmt.Sprint(gotUnits) != fmt.Sprint(want) {
		t.Errorf("report units per variant %v, want the acknowledged exposed units %v", gotUnits, want)
	}
}

// TestPostgresConcurrentOverlappingUnits sends, to two replicas at once,
// batches with fresh ids whose exposures cover the same units in different
// orders, as independent clients of one product do. Upserts that lock the
// same rows in different orders can deadlock; a batch must never fail for it.
func TestPostgresConcurrentOverlappingUnits(t *testing.T) {
	dsn := throwawayPostgres(t)
	env := []string{"REVEALED_ADMIN_KEY=" + adminKey}
	procs := []*testbin.Process{testbin.Start(t, env, "--db", dsn), testbin.Start(t, env, "--db", dsn)}
	hc := newHTTPClient(8)
	const key = "pg-overlap"
	def := createRunning(t, hc, procs[0].URL, key)

	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[int]int{}
	var sample string
	for c := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for range 5 {
				b := make([]wireEvent, 0, 300)
				for _, u := range rng.Perm(300) {
					unit := fmt.Sprintf("o-u%d", u)
					b = append(b, wireEvent{ID: experimentsID(), Type: "exposure", UnitID: unit, Experiment: key,
						Variant: assignVariant(def, unit)})
				}
				status, body, err := call(context.Background(), hc, "POST", procs[c%2].URL+"/api/v1/events", map[string]any{"events": b})
				if err != nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
				if status != http.StatusAccepted {
					mu.Lock()
					failures[status]++
					sample = string(body)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("of 40 valid batches, these failed, by status: %v; e.g. %s\nreplica 0 log (tail):\n%s", failures, sample, tail(procs[0].Stderr(), 3))
	}
}
