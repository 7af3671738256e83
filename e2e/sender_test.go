package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"
)

// sender is one client sending batches continuously. A batch that gets no
// answer may or may not have been stored, so it is sent again, with the same
// ids, until it is acknowledged: that is what exercises idempotency.
type sender struct {
	hc      *http.Client
	targets []*target // replicas; a retry moves to the next one
	gen     *batchGen
	rng     *rand.Rand
	minN    int
	maxN    int
	log     *ackLog
	name    string
}

// run sends until stop closes, then finishes the batch in hand, so that
// every batch ever sent ends acknowledged and the database must hold exactly
// the acknowledged ids.
func (s *sender) run(ctx context.Context, t *testing.T, stop <-chan struct{}) {
	var recent [][]wireEvent
	for {
		select {
		case <-stop:
			return
		default:
		}
		if len(recent) > 0 && s.rng.IntN(10) == 0 {
			// Replay a batch acknowledged earlier, likely before a restart:
			// the server must now call every event a duplicate.
			b := recent[s.rng.IntN(len(recent))]
			res, _, err := s.deliver(ctx, t, b)
			if err != nil {
				t.Errorf("%s: replay: %v", s.name, err)
				return
			}
			s.log.replays++
			s.log.dups += res.Duplicates
			if res.Accepted != 0 || res.Duplicates != len(b) {
				t.Errorf("%s: replayed batch of %d acknowledged events: got %+v, want all duplicates", s.name, len(b), res)
			}
			continue
		}
		b := s.gen.batch(s.minN + s.rng.IntN(s.maxN-s.minN+1))
		res, attempts, err := s.deliver(ctx, t, b)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			return
		}
		s.log.accepted += res.Accepted
		s.log.dups += res.Duplicates
		switch {
		case attempts == 1 && (res.Accepted != len(b) || res.Duplicates != 0):
			t.Errorf("%s: fresh batch of %d acknowledged on first try as %+v, want all accepted", s.name, len(b), res)
		case res.Accepted+res.Duplicates != len(b):
			t.Errorf("%s: batch of %d acknowledged as %+v: accepted+duplicates must be %d", s.name, len(b), res, len(b))
		}
		if attempts > 1 {
			s.log.resent++
			if res.Duplicates > 0 {
				s.log.resentStored++
			}
		}
		s.log.record(b)
		if len(recent) < 32 {
			recent = append(recent, b)
		} else {
			recent[s.rng.IntN(len(recent))] = b
		}
	}
}

// deliver sends b until a 202. No answer means retry; a 5xx is counted (a
// killed process gives no answer, so a 5xx is a server bug) and retried; a
// 4xx is an error of the test.
func (s *sender) deliver(ctx context.Context, t *testing.T, b []wireEvent) (ingestResult, int, error) {
	body := map[string]any{"events": b}
	pref := s.rng.IntN(len(s.targets))
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return ingestResult{}, attempt, fmt.Errorf("batch never acknowledged after %d attempts: %w", attempt-1, ctx.Err())
		}
		tgt := s.targets[(pref+attempt-1)%len(s.targets)]
		status, resp, err := call(ctx, s.hc, "POST", tgt.get()+"/api/v1/events", body)
		switch {
		case err != nil:
			time.Sleep(10 * time.Millisecond)
		case status == http.StatusAccepted:
			var res ingestResult
			if err := json.Unmarshal(resp, &res); err != nil {
				return res, attempt, fmt.Errorf("decoding 202 body %s: %v", resp, err)
			}
			return res, attempt, nil
		case status >= 500:
			s.log.errs5xx++
			if s.log.errs5xx <= 3 {
				t.Logf("%s: status %d: %s", s.name, status, resp)
			}
			time.Sleep(10 * time.Millisecond)
		default:
			return ingestResult{}, attempt, fmt.Errorf("status %d: %s", status, resp)
		}
	}
}

// runSenders starts n senders and returns their logs and a function that
// stops them and waits until each has its last batch acknowledged.
func runSenders(ctx context.Context, t *testing.T, n int, seed uint64, targets []*target, gen func(i int, rng *rand.Rand) *batchGen) ([]*ackLog, func()) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	logs := make([]*ackLog, n)
	for i := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		s := &sender{hc: newHTTPClient(1), targets: targets, gen: gen(i, rng), rng: rng,
			minN: 100, maxN: 500, log: newAckLog(), name: fmt.Sprintf("client %d", i)}
		logs[i] = s.log
		wg.Go(func() { s.run(ctx, t, stop) })
	}
	return logs, func() { close(stop); wg.Wait() }
}

type totals struct {
	acked, responses, accepted, dups, resent, resentStored, replays, errs5xx int
}

func sum(logs []*ackLog) totals {
	var tot totals
	for _, l := range logs {
		tot.acked += len(l.ids)
		tot.responses += l.types["response"]
		tot.accepted += l.accepted
		tot.dups += l.dups
		tot.resent += l.resent
		tot.resentStored += l.resentStored
		tot.replays += l.replays
		tot.errs5xx += l.errs5xx
	}
	return tot
}
