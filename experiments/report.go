package experiments

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// ReportView is everything a report page shows, read in one pass.
type ReportView struct {
	Experiment *Experiment
	Claims     []*Claim
	Report     *analysis.Report
	// Snapshots are stored reports, newest first, including the one this
	// report may just have stored.
	Snapshots []Snapshot
}

// Report returns the experiment's latest report, as the last refresh
// (Refresh, or the scheduler of `revealed serve`) stored it: reading it
// computes nothing from the events and writes nothing. Before the first
// refresh it answers a report with no figures and a warning saying so.
func (s *Service) Report(ctx context.Context, key string) (*analysis.Report, error) {
	v, err := s.ReportView(ctx, key, 1)
	if err != nil {
		return nil, err
	}
	return v.Report, nil
}

// ReportView returns the latest report as Report does, with the
// experiment, its claims and up to snapshots stored reports, newest first.
func (s *Service) ReportView(ctx context.Context, key string, snapshots int) (*ReportView, error) {
	e, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	claims, err := s.store.Claims(ctx, key)
	if err != nil {
		return nil, err
	}
	snaps, err := s.store.Snapshots(ctx, key, max(1, snapshots))
	if err != nil {
		return nil, err
	}
	r, err := s.latestReport(ctx, key)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = notComputed(e)
	}
	return &ReportView{Experiment: e, Claims: claims, Report: r, Snapshots: snaps[:min(len(snaps), max(snapshots, 0))]}, nil
}

// notComputed is the report of an experiment that has not been refreshed
// yet: no figures, and a warning that says when it will have some.
func notComputed(e *Experiment) *analysis.Report {
	settings := e.Analysis.WithDefaults()
	why := fmt.Sprintf("not computed yet: a running experiment's report is computed every %s by the server, and now with POST /api/v1/experiments/%s/refresh", DefaultRefreshEvery, e.Key)
	if e.Status == StatusDraft {
		why = "not computed yet: a draft has no report until it starts"
	}
	return &analysis.Report{
		Experiment: e.Key, Alpha: settings.Alpha, Correction: analysis.Correction(settings.Correction),
		SRM:     analysis.SRM{PValue: 1, OK: true, Status: analysis.SRMNotEnoughTraffic, Variants: []analysis.SRMVariant{}},
		Metrics: []analysis.MetricReport{}, Claims: []analysis.ClaimResult{}, Interactions: []analysis.InteractionCheck{},
		Warnings: []string{why},
	}
}

// analyse aggregates the experiment's statistics and runs the analysis;
// latest is the last stored report, for the sequential running minima.
// With stored, the per-unit values are read from those SyncUnitValues keeps,
// and through is the event sequence number that sync reached.
func (s *Service) analyse(ctx context.Context, e *Experiment, claims []*Claim, latest *analysis.Report, stored bool, through int64) (*analysis.Report, error) {
	settings := e.Analysis.WithDefaults()
	in := analysis.Input{
		Experiment: e.Key,
		Alpha:      settings.Alpha,
		Correction: analysis.Correction(settings.Correction),
	}
	for _, v := range e.Variants {
		in.Variants = append(in.Variants, analysis.Variant{Key: v.Key, Weight: v.Weight, Control: v.Control})
	}
	if len(e.Factors) > 0 {
		in.Factors = AnalysisFactors(e.Factors)
	}
	for _, c := range claims {
		in.Claims = append(in.Claims, c.Claim)
	}
	values, err := s.resolveCaps(ctx, e, settings, stored)
	if err != nil {
		return nil, err
	}
	bySegment, assigned, err := s.metricInputs(ctx, e, settings, values, "")
	if err != nil {
		return nil, err
	}
	in.Metrics, in.Assigned = bySegment[""], assigned
	attributes, err := s.segmentAttributes(ctx, e, settings, claims, through)
	if err != nil {
		return nil, err
	}
	for _, attr := range attributes {
		bySegment, _, err := s.metricInputs(ctx, e, settings, values, attr)
		if err != nil {
			return nil, err
		}
		values := make([]string, 0, len(bySegment))
		for v := range bySegment {
			values = append(values, v)
		}
		sort.Strings(values)
		for _, v := range values {
			in.Segments = append(in.Segments, analysis.Segment{Attribute: attr, Value: v, Metrics: bySegment[v]})
		}
	}
	if *settings.Sequential {
		in.Sequential = &analysis.Sequential{NStar: settings.NStar, Prior: reportedPValues(latest)}
	}
	in.Questions = s.catalog.questionDesigns()
	if in.SayDo, err = s.sayDoTables(ctx, e, claims); err != nil {
		return nil, err
	}
	var lateWarnings []string
	for _, attr := range attributes {
		question, ok := strings.CutPrefix(attr, AnswerSegmentPrefix)
		if !ok {
			continue
		}
		late, err := s.store.LateAnswers(ctx, e, question)
		if err != nil {
			return nil, err
		}
		if late > 0 {
			lateWarnings = append(lateWarnings, fmt.Sprintf("the segments by %s leave out %d units whose first answer came after their first exposure: a later answer may be an effect of the treatment", attr, late))
		}
	}
	r, err := analysis.Analyze(in)
	if err != nil {
		// Every write validates the settings Analyze checks, so this is a
		// bug of ours, not the user's: log it and answer what can be said.
		s.log.Error("the stored definition cannot be analysed", "experiment", e.Key, "err", err)
		return &analysis.Report{
			Experiment: e.Key, Alpha: settings.Alpha, Correction: in.Correction,
			SRM:     analysis.SRM{PValue: 1, OK: true, Status: analysis.SRMOK, Variants: []analysis.SRMVariant{}},
			Metrics: []analysis.MetricReport{}, Claims: []analysis.ClaimResult{}, Interactions: []analysis.InteractionCheck{},
			Warnings: []string{"the report could not be computed from this definition: " + err.Error()},
		}, nil
	}
	r.Warnings = append(r.Warnings, lateWarnings...)
	if r.Interactions, err = s.interactionChecks(ctx, e, settings, values, r); err != nil {
		return nil, err
	}
	return r, nil
}

// AnswerSegmentPrefix marks a segment by a question's answer, e.g.
// "answer:agent_pref" in analysis.segments.
const AnswerSegmentPrefix = "answer:"

// sayDoTables counts each say_do claim's table of said × did in the store.
func (s *Service) sayDoTables(ctx context.Context, e *Experiment, claims []*Claim) (map[string]analysis.SayDoCells, error) {
	out := map[string]analysis.SayDoCells{}
	for _, c := range claims {
		m, ok := e.Metric(c.Metric)
		if c.Kind != analysis.ClaimSayDo || !ok {
			continue
		}
		q := SayDoQuery{Metric: m, Question: c.Question, Variant: c.Variant}
		q.SegmentAttribute, q.SegmentValue, _ = strings.Cut(c.Segment, "=")
		counts, err := s.store.SayDoCounts(ctx, e, q)
		if err != nil {
			return nil, err
		}
		var cells analysis.SayDoCells
		for _, n := range counts {
			switch said := n.Answer == c.Answer; {
			case said && n.Did:
				cells.SaidDid += n.Units
			case said:
				cells.SaidDidnt += n.Units
			case n.Did:
				cells.DidntSayDid += n.Units
			default:
				cells.DidntSayDidnt += n.Units
			}
		}
		out[c.ID] = cells
	}
	return out, nil
}

// Snapshots returns the stored reports of an experiment, newest first.
func (s *Service) Snapshots(ctx context.Context, key string, limit int) ([]Snapshot, error) {
	if _, err := s.store.GetExperiment(ctx, key); err != nil {
		return nil, err
	}
	return s.store.Snapshots(ctx, key, limit)
}

// reportTime decides maturity: now, or when the experiment stopped.
func (s *Service) reportTime(e *Experiment) time.Time {
	if e.StoppedAt != nil {
		return *e.StoppedAt
	}
	return s.nowUTC()
}

// unitValues says how a report reads its per-unit values: each metric's
// cap, as a number, and whether the values are the stored ones.
type unitValues struct {
	caps   map[string]*float64
	stored bool
}

// resolveCaps turns each capped metric's cap into a number: a percentile cap
// is computed over the pooled units of all variants.
func (s *Service) resolveCaps(ctx context.Context, e *Experiment, settings AnalysisSettings, stored bool) (unitValues, error) {
	values := unitValues{caps: map[string]*float64{}, stored: stored}
	caps := values.caps
	for _, m := range e.Metrics {
		switch {
		case m.Cap == nil:
		case m.Cap.Absolute != nil:
			caps[m.Key] = m.Cap.Absolute
		case m.Cap.Percentile != nil:
			v, err := s.store.UnitValueQuantile(ctx, e, s.statsQuery(e, m, settings, values), *m.Cap.Percentile)
			if err != nil {
				return values, err
			}
			caps[m.Key] = &v
		}
	}
	return values, nil
}

// metricInputs aggregates every metric, per segment value of attribute when
// it is set (the key "" holds the whole experiment).
func (s *Service) metricInputs(ctx context.Context, e *Experiment, settings AnalysisSettings, values unitValues, attribute string) (map[string][]analysis.MetricInput, []analysis.VariantUnits, error) {
	out := map[string][]analysis.MetricInput{}
	var exposed []analysis.VariantUnits
	for i, m := range e.Metrics {
		q := s.statsQuery(e, m, settings, values)
		q.SegmentAttribute = attribute
		cuped := q.Lookback > 0
		arms, err := s.store.MetricStats(ctx, e, q)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 && attribute == "" {
			exposed = exposedUnits(arms)
		}
		segments := map[string]*analysis.MetricInput{}
		for _, a := range arms {
			mi := segments[a.Segment]
			if mi == nil {
				mi = &analysis.MetricInput{Metric: m.Key, Kind: analysis.Kind(m.Kind), HigherIsBetter: m.HigherIsBetter, CUPED: cuped}
				if m.Prior != nil {
					mi.Prior = &analysis.Prior{Mean: m.Prior.Mean, Variance: m.Prior.Variance}
				}
				segments[a.Segment] = mi
			}
			mi.ImmatureUnits += a.Immature
			mi.UnitsWithoutValue += a.WithoutValue
			mi.Arms = append(mi.Arms, analysis.Arm{Variant: a.Variant, Stats: analysis.Stats{
				Units: a.Units, Sum: a.Sum, SumSq: a.SumSq,
				PreSum: a.PreSum, PreSumSq: a.PreSumSq, PreCross: a.PreCross,
				DenSum: a.DenSum, DenSumSq: a.DenSumSq, DenCross: a.DenCross,
			}})
		}
		if attribute == "" && len(segments) == 0 { // no exposures yet: still report the metric
			segments[""] = &analysis.MetricInput{Metric: m.Key, Kind: analysis.Kind(m.Kind), HigherIsBetter: m.HigherIsBetter}
		}
		for seg, mi := range segments {
			out[seg] = append(out[seg], *mi)
		}
	}
	return out, exposed, nil
}

// exposedUnits counts a metric's units per variant, whatever their value:
// every unit exposed when the values were computed. The sample-ratio check
// takes them from the first metric rather than counting the exposures
// again, which on Postgres read all 950k of them at each refresh (about 90
// ms of a refresh that found nothing changed), and so checks the very units
// the metrics were computed over.
func exposedUnits(arms []ArmStats) []analysis.VariantUnits {
	out := make([]analysis.VariantUnits, 0, len(arms))
	for _, a := range arms {
		out = append(out, analysis.VariantUnits{Variant: a.Variant, Units: a.Units + a.Immature + a.WithoutValue})
	}
	return out
}

// statsQuery is what the report aggregates for metric m of e: its parts
// for a ratio, its cap, maturity at the report's time, and the CUPED
// lookback when it uses CUPED.
func (s *Service) statsQuery(e *Experiment, m Metric, settings AnalysisSettings, values unitValues) StatsQuery {
	q := StatsQuery{Metric: m, Cap: values.caps[m.Key], AsOf: s.reportTime(e).UnixMicro(), Stored: values.stored}
	if m.Kind == MetricRatio {
		num, _ := e.Metric(m.Numerator)
		den, _ := e.Metric(m.Denominator)
		q.Numerator, q.Denominator = num.SourceKey(), den.SourceKey()
	}
	if m.UsesCUPED(settings) {
		q.Lookback = time.Duration(settings.CUPEDLookbackDays) * 24 * time.Hour
	}
	return q
}

// segmentAttributes are the configured segments, or else every exposure
// attribute with 2 to MaxSegmentValues values; claims' segments always count.
// through is the event sequence number a sync has just reached, or 0.
func (s *Service) segmentAttributes(ctx context.Context, e *Experiment, settings AnalysisSettings, claims []*Claim, through int64) ([]string, error) {
	set := map[string]bool{}
	for _, a := range settings.Segments {
		set[a] = true
	}
	if len(settings.Segments) == 0 {
		counts, err := s.attributes.counts(ctx, s.store, e, through)
		if err != nil {
			return nil, err
		}
		for a, n := range counts {
			if n >= 2 && n <= MaxSegmentValues {
				set[a] = true
			}
		}
	}
	for _, c := range claims {
		for _, a := range c.SegmentAttributes() {
			set[a] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// reportedPValues lists the p-values a stored report gave, whole and per
// segment; they are already running minima.
func reportedPValues(r *analysis.Report) []analysis.PriorPValue {
	if r == nil {
		return nil
	}
	var out []analysis.PriorPValue
	add := func(segment string, metrics []analysis.MetricReport) {
		for _, m := range metrics {
			for _, c := range m.Comparisons {
				if c.PValue != nil {
					out = append(out, analysis.PriorPValue{Segment: segment, Metric: m.Metric, Variant: c.Variant, PValue: *c.PValue})
				}
			}
		}
	}
	add("", r.Metrics)
	for _, seg := range r.Segments {
		if seg.Report != nil {
			add(seg.Attribute+"="+seg.Value, seg.Metrics)
		}
	}
	return out
}
