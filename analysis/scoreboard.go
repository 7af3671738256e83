package analysis

import (
	"fmt"
	"math"
	"strings"
)

// Outcomes of a statement on the scoreboard, from its pooled verdict and
// magnitude.
const (
	OutcomeHoldsAsStated   = "holds_as_stated"
	OutcomeHoldsOverstated = "holds_overstated"
	OutcomeHoldsUnderstate = "holds_understated"
	OutcomeHolds           = "holds"
	OutcomeContradicted    = "contradicted"
	OutcomeInconclusive    = "inconclusive"
	OutcomeUntested        = "untested"
)

// ScoreboardInput is one source's statements, each with the claims that
// test it and their results in their experiments' reports.
type ScoreboardInput struct {
	// Source names the source in the summary, e.g. "ignite80 × Front (2019)".
	Source     string
	Alpha      float64 // 0 means DefaultAlpha
	Statements []StatementTests
}

// StatementTests is a statement and its tests.
type StatementTests struct {
	Statement Statement
	Tests     []TestInput
}

// TestInput is one claim testing a statement in one experiment.
type TestInput struct {
	Experiment string
	// HigherIsBetter is the claim metric's direction (effect claims).
	HigherIsBetter bool
	Result         ClaimResult
	// Reason, when set, says why the experiment gave no result (e.g. it is
	// a draft); Result is then ignored.
	Reason string
}

// Scoreboard is what a source's statements come to in what customers did.
type Scoreboard struct {
	Alpha      float64          `json:"alpha"`
	Statements []StatementScore `json:"statements"`
	// Counts are the statements per outcome.
	Counts map[string]int `json:"counts"`
	// Summary is the one-line answer for the source.
	Summary string `json:"summary"`
}

// StatementScore is one statement: its tests, pooled when they can be.
type StatementScore struct {
	Statement Statement `json:"statement"`
	// Stated is the figure the pooled result is judged against (the mean
	// of the tests' stated shares for say_do), with the survey's interval
	// when it has one; null for a statement of a direction only.
	Stated   *float64        `json:"stated"`
	StatedCI *Interval       `json:"stated_ci"`
	Tests    []ScoreboardRow `json:"tests"`
	// Pooled is the random-effects pooling of the tests' revealed figures
	// (null for kinds that are not pooled); Verdict judges the stated
	// figure against it by the rules of a claim.
	Pooled      *MetaResult    `json:"pooled"`
	Verdict     *PooledVerdict `json:"verdict"`
	UnitsNeeded *int64         `json:"units_needed"`
	Outcome     string         `json:"outcome"`
	Summary     string         `json:"summary"`
}

// ScoreboardRow is one test of a statement.
type ScoreboardRow struct {
	Experiment string    `json:"experiment"`
	Claim      string    `json:"claim"`
	Metric     string    `json:"metric"`
	Verdict    string    `json:"verdict"`
	Magnitude  string    `json:"magnitude,omitempty"`
	Revealed   *float64  `json:"revealed"`
	RevealedCI *Interval `json:"revealed_ci"`
	SE         *float64  `json:"se"`
	Stated     *float64  `json:"stated"`
	Units      int64     `json:"units"`
	Summary    string    `json:"summary"`
	// Pooled says whether the test is in the pooled result; LeftOut why
	// not.
	Pooled  bool   `json:"pooled"`
	LeftOut string `json:"left_out,omitempty"`

	noResult bool // the experiment gave no result at all
}

// pooledKinds are the kinds whose revealed figures are pooled, on their
// natural scale: shares, differences of shares, effects.
func pooledKind(k ClaimKind) bool {
	return k == ClaimShare || k == ClaimSayDo || k == ClaimEffect || k == ClaimSegmentGap
}

// BuildScoreboard pools each statement's tests (PoolRandomEffects) and
// judges its stated figure against the pooled one (JudgePooled). Only like
// is pooled with like: the tests of the statement's kind on the metric most
// of them measure (and, for effects, in the same direction); every other
// test is listed with why it was left out.
func BuildScoreboard(in ScoreboardInput) *Scoreboard {
	alpha := in.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	sb := &Scoreboard{Alpha: alpha, Statements: []StatementScore{}, Counts: map[string]int{}}
	for _, st := range in.Statements {
		s := scoreStatement(st, alpha)
		sb.Counts[s.Outcome]++
		sb.Statements = append(sb.Statements, s)
	}
	sb.Summary = sourceSummary(in.Source, sb)
	return sb
}

func scoreStatement(st StatementTests, alpha float64) StatementScore {
	s := StatementScore{Statement: st.Statement, Tests: []ScoreboardRow{}, Outcome: OutcomeUntested}
	kind := st.Statement.Kind
	// The metric (and direction) most tests measure is the one pooled.
	votes := map[string]int{}
	best := ""
	for _, t := range st.Tests {
		if t.Reason == "" {
			key := metricKey(t)
			votes[key]++
			if votes[key] > votes[best] {
				best = key
			}
		}
	}
	var studies []MetaStudy
	var stated []float64
	var pooledUnits int64
	var pooledRows []int
	for _, t := range st.Tests {
		r := t.Result
		row := ScoreboardRow{Experiment: t.Experiment, Claim: r.ID, Metric: r.Metric, Verdict: r.Verdict, Magnitude: r.Magnitude,
			Revealed: r.Revealed, RevealedCI: r.RevealedCI, SE: r.RevealedSE, Stated: r.Stated, Units: r.Units, Summary: r.Summary}
		switch {
		case t.Reason != "":
			row.Verdict, row.LeftOut, row.Summary, row.noResult = Inconclusive, t.Reason, t.Reason, true
		case !pooledKind(kind):
			row.LeftOut = fmt.Sprintf("a %s statement is judged test by test, not pooled", kind)
		case r.Kind != kind:
			row.LeftOut = fmt.Sprintf("the claim is a %s claim, not %s like the statement", r.Kind, kind)
		case metricKey(t) != best:
			row.LeftOut = fmt.Sprintf("it measures %s, not %s like the pooled tests", describeMetric(metricKey(t)), describeMetric(best))
		case r.Revealed == nil || r.RevealedSE == nil || !(*r.RevealedSE > 0):
			row.LeftOut = "no revealed figure with a standard error"
			if r.Reason != "" {
				row.LeftOut += " (" + r.Reason + ")"
			}
		default:
			row.Pooled = true
			studies = append(studies, MetaStudy{Label: t.Experiment + "/" + r.ID, Estimate: *r.Revealed, SE: *r.RevealedSE})
			pooledUnits += r.Units
			pooledRows = append(pooledRows, len(s.Tests))
			if r.Stated != nil {
				stated = append(stated, *r.Stated)
			}
		}
		s.Tests = append(s.Tests, row)
	}
	s.Stated, s.StatedCI = statedFigure(st.Statement, stated, alpha)
	if !pooledKind(kind) {
		s.Outcome = agreedOutcome(s.Tests)
		s.Summary = statementSummary(&s, 0)
		return s
	}
	if len(studies) == 0 {
		s.Summary = statementSummary(&s, 0)
		return s
	}
	m := PoolRandomEffects(studies, alpha)
	s.Pooled = &m
	null := 0.0
	if kind == ClaimShare || kind == ClaimSayDo {
		null = 0.5
	}
	target, directionOnly := 0.0, s.Stated == nil
	switch {
	case !directionOnly:
		target = *s.Stated
	case kind == ClaimEffect:
		// No stated size: the statement says the preferred variant does
		// better, in the metric's direction.
		target = 1
		if strings.HasSuffix(best, lowerIsBetterTag) {
			target = -1
		}
	}
	margin := 0.0
	if st.Statement.Margin != nil {
		margin = *st.Statement.Margin
	}
	v := JudgePooled(m, target, null, margin)
	if directionOnly {
		v.Magnitude, v.Gap, v.GapCI, v.GapPValue, v.EquivalenceCI = "", nil, nil, nil, nil
	}
	s.Verdict = &v
	s.Outcome = outcomeOf(v)
	if s.Outcome == OutcomeInconclusive && m.Estimate != nil && m.SE != nil {
		if len(pooledRows) == 1 {
			s.UnitsNeeded = st.Tests[pooledRows[0]].Result.UnitsNeeded
		} else if d := math.Abs(*m.Estimate - null); d > 0 {
			// The pooled interval's own quantile (t with k − 1 df): more
			// customers in the same experiments shrink se, not the quantile.
			q := normQuantile(1 - alpha/2)
			if m.DF != nil {
				q = tQuantile(1-alpha/2, float64(*m.DF))
			}
			k := (q + normQuantile(Power)) * *m.SE / d
			if u, ok := toUnits(k*k*float64(pooledUnits) - float64(pooledUnits)); ok && u > 0 {
				s.UnitsNeeded = ptr(u)
			}
		}
	}
	s.Summary = statementSummary(&s, len(studies))
	return s
}

const lowerIsBetterTag = " (lower is better)"

// metricKey is what must agree for two tests to be pooled: the metric, and
// its direction for an effect.
func metricKey(t TestInput) string {
	if t.Result.Kind == ClaimEffect && !t.HigherIsBetter {
		return t.Result.Metric + lowerIsBetterTag
	}
	return t.Result.Metric
}

func describeMetric(key string) string {
	if m, ok := strings.CutSuffix(key, lowerIsBetterTag); ok {
		return fmt.Sprintf("%q%s", m, lowerIsBetterTag)
	}
	return fmt.Sprintf("%q", key)
}

// statedFigure is the figure a statement is judged against, with the
// survey's own interval where it has one.
func statedFigure(s Statement, sayDoStated []float64, alpha float64) (*float64, *Interval) {
	switch s.Kind {
	case ClaimShare:
		return s.StatedShare, wilson(*s.StatedShare, float64(s.SurveyN), alpha)
	case ClaimEffect:
		return s.StatedEffect, nil
	case ClaimSegmentGap:
		c := Claim{SurveyN: s.SurveyN, SurveyNA: s.SurveyNA, SurveyNB: s.SurveyNB}
		nA, nB := c.surveySizes()
		a, b := *s.StatedA, *s.StatedB
		se := math.Sqrt(a*(1-a)/nA + b*(1-b)/nB)
		z := normQuantile(1 - alpha/2)
		return num(a - b), interval(a-b-z*se, a-b+z*se)
	case ClaimSayDo:
		if len(sayDoStated) == 0 {
			return nil, nil
		}
		var sum float64
		for _, x := range sayDoStated {
			sum += x
		}
		return num(sum / float64(len(sayDoStated))), nil
	case ClaimTradeoff:
		return s.StatedCost, nil
	}
	return nil, nil
}

func outcomeOf(v PooledVerdict) string {
	switch {
	case v.Verdict == Contradicted:
		return OutcomeContradicted
	case v.Verdict != Holds:
		return OutcomeInconclusive
	case v.Magnitude == Matches:
		return OutcomeHoldsAsStated
	case v.Magnitude == Overstated:
		return OutcomeHoldsOverstated
	case v.Magnitude == Understated:
		return OutcomeHoldsUnderstate
	}
	return OutcomeHolds
}

// agreedOutcome is, for a kind that is not pooled, the verdict its tests
// agree on, or inconclusive when they do not.
func agreedOutcome(rows []ScoreboardRow) string {
	verdict := ""
	for _, r := range rows {
		switch {
		case r.noResult:
			continue
		case verdict == "":
			verdict = r.Verdict
		case verdict != r.Verdict:
			return OutcomeInconclusive
		}
	}
	switch verdict {
	case "":
		return OutcomeUntested
	case Holds:
		return OutcomeHolds
	case Contradicted:
		return OutcomeContradicted
	}
	return OutcomeInconclusive
}

// statementSummary is one sentence on a statement's outcome.
func statementSummary(s *StatementScore, pooled int) string {
	if len(s.Tests) == 0 {
		return "No experiment tests this statement yet."
	}
	if s.Pooled == nil {
		if pooled == 0 && pooledKind(s.Statement.Kind) {
			return fmt.Sprintf("None of its %d tests has a revealed figure to pool yet.", len(s.Tests))
		}
		return fmt.Sprintf("Judged test by test (%d): %s.", len(s.Tests), outcomeText(s.Outcome, 1))
	}
	m := s.Pooled
	if m.Estimate == nil || m.CI == nil {
		return fmt.Sprintf("The %d tests could not be pooled: %s.", pooled, m.NullReason)
	}
	fig := func(x float64) string { return figure(s.Statement.Kind, x) }
	where := "In 1 experiment"
	if pooled > 1 {
		where = fmt.Sprintf("Pooled over %d experiments", pooled)
	}
	out := fmt.Sprintf("%s, %s (%s CI %s to %s)", where, fig(*m.Estimate), levelText(m.Alpha), fig(m.CI[0]), fig(m.CI[1]))
	if s.Stated != nil {
		out += " against the stated " + fig(*s.Stated)
	}
	out += ": " + outcomeText(s.Outcome, 1)
	if s.UnitsNeeded != nil {
		out += fmt.Sprintf(" (needs about %s more customers)", FormatCount(roundCount(*s.UnitsNeeded)))
	}
	return out + "."
}

func figure(kind ClaimKind, x float64) string {
	switch kind {
	case ClaimShare, ClaimSayDo:
		return fmt.Sprintf("%.0f%%", 100*x)
	case ClaimSegmentGap:
		return fmt.Sprintf("%+.0f points", 100*x)
	}
	return FormatSigned(x)
}

func levelText(alpha float64) string { return fmt.Sprintf("%g%%", 100*(1-alpha)) }

// outcomeText is an outcome as a verb phrase for n statements.
func outcomeText(outcome string, n int) string {
	one := n == 1
	pick := func(singular, plural string) string {
		if one {
			return singular
		}
		return plural
	}
	switch outcome {
	case OutcomeHoldsAsStated:
		return pick("holds as stated", "hold as stated")
	case OutcomeHoldsOverstated:
		return pick("holds but is overstated", "hold but are overstated")
	case OutcomeHoldsUnderstate:
		return pick("holds but is understated", "hold but are understated")
	case OutcomeHolds:
		return pick("holds", "hold")
	case OutcomeContradicted:
		return pick("is contradicted", "are contradicted")
	case OutcomeInconclusive:
		return pick("is inconclusive", "are inconclusive")
	}
	return pick("is not tested yet", "are not tested yet")
}

// roundCount keeps two significant digits: "about 1,900", not 1,873.
func roundCount(n int64) int64 {
	if n < 100 {
		return n
	}
	scale := math.Pow(10, math.Floor(math.Log10(float64(n)))-1)
	return int64(math.Round(float64(n)/scale) * scale)
}

// sourceSummary is the one-line answer: "Of 5 statements from X, 2 hold as
// stated, 2 hold but are overstated, 1 is inconclusive (needs about 1,900
// more customers)."
func sourceSummary(source string, sb *Scoreboard) string {
	n := len(sb.Statements)
	if n == 0 {
		return fmt.Sprintf("%s has no statements yet.", source)
	}
	var parts []string
	for _, o := range []string{OutcomeHoldsAsStated, OutcomeHoldsOverstated, OutcomeHoldsUnderstate, OutcomeHolds,
		OutcomeContradicted, OutcomeInconclusive, OutcomeUntested} {
		k := sb.Counts[o]
		if k == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", k, outcomeText(o, k))
		if o == OutcomeInconclusive {
			var need int64
			known := false
			for _, s := range sb.Statements {
				if s.Outcome == o && s.UnitsNeeded != nil {
					need += *s.UnitsNeeded
					known = true
				}
			}
			if known {
				part += fmt.Sprintf(" (%s about %s more customers)", map[bool]string{true: "needs", false: "need"}[k == 1], FormatCount(roundCount(need)))
			}
		}
		parts = append(parts, part)
	}
	noun := "statements"
	if n == 1 {
		noun = "statement"
	}
	list := parts[0]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	return fmt.Sprintf("Of %d %s from %s, %s.", n, noun, source, list)
}
