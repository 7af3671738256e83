package experiments

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// DefaultRefreshEvery is how often a running experiment's report is
// recomputed when its analysis settings say nothing else.
const DefaultRefreshEvery = time.Hour

// refreshLease bounds how long a replica may hold an experiment's refresh:
// a replica that dies mid-refresh frees it after this.
const refreshLease = 30 * time.Minute

// Refresh computes the experiment's report from its events now and stores
// it as the snapshot that reads return (GET …/report, the pages, the
// scoreboard), saying when it was computed and over which events. Its
// sequential p-values are running minima over the stored snapshots. With
// several replicas, a refresh of the same experiment elsewhere makes this
// one wait for it and return what it stored.
func (s *Service) Refresh(ctx context.Context, key string) (*ReportView, error) {
	lease := "report:" + key
	for {
		ok, err := s.store.TryLease(ctx, lease, s.id, s.nowUTC(), refreshLease)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		select { // another replica is computing it: wait and read its snapshot
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer func() {
		if err := s.store.ReleaseLease(context.WithoutCancel(ctx), lease, s.id); err != nil {
			s.log.Warn("releasing a report lease", "experiment", key, "err", err)
		}
	}()
	return s.refreshLocked(ctx, key)
}

func (s *Service) refreshLocked(ctx context.Context, key string) (*ReportView, error) {
	e, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	claims, err := s.store.Claims(ctx, key)
	if err != nil {
		return nil, err
	}
	latest, err := s.latestReport(ctx, key)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	through, err := s.syncUnitValues(ctx, e)
	if err != nil {
		return nil, err
	}
	synced := time.Now()
	r, err := s.analyse(ctx, e, claims, latest, true, through)
	if err != nil {
		return nil, err
	}
	s.log.Debug("report computed", "experiment", key, "sync", synced.Sub(start), "analysis", time.Since(synced))
	now := s.nowUTC()
	r.ComputedAt, r.EventsThrough = &now, &through
	body, err := json.Marshal(r)
	if err != nil {
		return nil, Internal(err)
	}
	if err := s.store.SaveSnapshot(ctx, key, now, body); err != nil {
		return nil, err
	}
	return &ReportView{Experiment: e, Claims: claims, Report: r, Snapshots: []Snapshot{{ComputedAt: now, Report: body}}}, nil
}

// syncUnitValues brings the stored per-unit values of e's metrics up to
// date, for the queries the report makes, and returns the highest event
// sequence number they include.
func (s *Service) syncUnitValues(ctx context.Context, e *Experiment) (int64, error) {
	settings := e.Analysis.WithDefaults()
	qs := make([]StatsQuery, 0, len(e.Metrics))
	for _, m := range e.Metrics {
		qs = append(qs, s.statsQuery(e, m, settings, unitValues{}))
	}
	return s.store.SyncUnitValues(ctx, e, qs)
}

// latestReport decodes the latest stored snapshot, or nil when there is
// none or it does not decode (the running minima then restart: weaker
// protection against peeking, but a report all the same).
func (s *Service) latestReport(ctx context.Context, key string) (*analysis.Report, error) {
	snaps, err := s.store.Snapshots(ctx, key, 1)
	if err != nil || len(snaps) == 0 {
		return nil, err
	}
	var r analysis.Report
	if err := json.Unmarshal(snaps[0].Report, &r); err != nil {
		s.log.Warn("the latest snapshot does not decode", "experiment", key, "err", err)
		return nil, nil
	}
	if r.ComputedAt == nil {
		at := snaps[0].ComputedAt
		r.ComputedAt = &at
	}
	return &r, nil
}

// RefreshDue refreshes every running experiment whose latest report is
// older than every (or that has none), skipping those another replica is
// refreshing; it returns how many it refreshed.
func (s *Service) RefreshDue(ctx context.Context, every time.Duration) (int, error) {
	list, err := s.store.ListExperiments(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range list {
		if e.Status != StatusRunning {
			continue
		}
		latest, err := s.store.Snapshots(ctx, e.Key, 1)
		if err != nil {
			return n, err
		}
		// Due when it has none, when it is older than every, or when the
		// definition or a claim changed since.
		if len(latest) > 0 && s.nowUTC().Sub(latest[0].ComputedAt) < every && !e.UpdatedAt.After(latest[0].ComputedAt) {
			continue
		}
		lease := "report:" + e.Key
		ok, err := s.store.TryLease(ctx, lease, s.id, s.nowUTC(), refreshLease)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		_, err = s.refreshLocked(ctx, e.Key)
		if rerr := s.store.ReleaseLease(context.WithoutCancel(ctx), lease, s.id); rerr != nil {
			s.log.Warn("releasing a report lease", "experiment", e.Key, "err", rerr)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunRefresher runs the scheduler of `revealed serve` until ctx ends. Every
// copyTick it orders the new outcomes by unit, so that the cost of that step
// is spread over time and a refresh on demand finds little left to do; every
// dueTick it refreshes the reports that are due. The copy takes only whole
// buckets of sequence numbers: ticking once a minute, it fell behind a fill
// of 120,000 events/s by up to six buckets, and the refresh after the fill
// spent 5-7 s (SQLite) and 14-17 s (Postgres) copying them itself.
func (s *Service) RunRefresher(ctx context.Context, every, dueTick, copyTick time.Duration) {
	t := time.NewTicker(min(copyTick, dueTick))
	defer t.Stop()
	var lastDue time.Time
	for {
		if err := s.store.CopyOutcomes(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("copying outcomes by unit", "err", err)
		}
		if now := time.Now(); now.Sub(lastDue) >= dueTick {
			lastDue = now
			if n, err := s.RefreshDue(ctx, every); err != nil && ctx.Err() == nil {
				s.log.Warn("refreshing reports", "err", err)
			} else if n > 0 {
				s.log.Info("refreshed reports", "experiments", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newReplicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
