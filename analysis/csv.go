package analysis

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvColumns are the columns of a report as CSV (revealed analyze --format
// csv and the report page's download): one row per comparison
// (type "comparison", the segment empty for the whole experiment), for a
// factorial experiment one per contrast (types "main_effect",
// "interaction", "slope": variant and control name the levels, abs_* the
// estimate; "exchange_rate": revealed and its CI), and one per claim
// (type "claim").
var csvColumns = []string{
	"type", "segment", "metric", "kind", "variant", "control",
	"units", "control_units", "mean", "control_mean",
	"abs_effect", "abs_ci_lo", "abs_ci_hi", "rel_effect", "rel_ci_lo", "rel_ci_hi",
	"p_value", "p_adjusted", "significant", "chance_to_win", "mde", "units_needed",
	"claim_id", "verdict", "magnitude", "revealed", "revealed_ci_lo", "revealed_ci_hi",
	"stated", "gap", "gap_ci_lo", "gap_ci_hi", "gap_p_value", "summary",
}

// WriteCSV writes a report as CSV: one row per comparison, then one per claim
// (the columns are in README.md).
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	idx := map[string]int{}
	for i, c := range csvColumns {
		idx[c] = i
	}
	row := make([]string, len(csvColumns))
	set := func(col, v string) { row[idx[col]] = v }
	comparisons := func(segment string, rep *Report) error {
		for _, m := range rep.Metrics {
			units := map[string]VariantReport{}
			for _, v := range m.Variants {
				units[v.Variant] = v
			}
			for _, c := range m.Comparisons {
				clear(row)
				set("type", "comparison")
				set("segment", segment)
				set("metric", m.Metric)
				set("kind", string(m.Kind))
				set("variant", c.Variant)
				set("control", c.Control)
				set("units", strconv.FormatInt(units[c.Variant].Units, 10))
				set("control_units", strconv.FormatInt(units[c.Control].Units, 10))
				set("mean", exactNum(units[c.Variant].Mean))
				set("control_mean", exactNum(units[c.Control].Mean))
				set("abs_effect", exactNum(c.AbsEffect))
				setCI(set, "abs_ci", c.AbsCI)
				set("rel_effect", exactNumPtr(c.RelEffect))
				setCI(set, "rel_ci", c.RelCI)
				set("p_value", exactNumPtr(c.PValue))
				set("p_adjusted", exactNumPtr(c.PAdjusted))
				set("significant", strconv.FormatBool(c.Significant))
				set("chance_to_win", exactNumPtr(c.ChanceToWin))
				set("mde", exactNumPtr(c.MDE))
				if c.UnitsNeeded != nil {
					set("units_needed", strconv.FormatInt(*c.UnitsNeeded, 10))
				}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
			if err := factorialRows(cw, row, set, m); err != nil {
				return err
			}
		}
		return nil
	}
	if err := comparisons("", r); err != nil {
		return err
	}
	for _, s := range r.Segments {
		if err := comparisons(s.Attribute+"="+s.Value, s.Report); err != nil {
			return err
		}
	}
	for _, c := range r.Claims {
		clear(row)
		set("type", "claim")
		set("metric", c.Metric)
		set("kind", string(c.Kind))
		set("units", strconv.FormatInt(c.Units, 10))
		set("p_value", exactNumPtr(c.PValue))
		set("p_adjusted", exactNumPtr(c.PAdjusted))
		set("significant", strconv.FormatBool(c.Verdict != Inconclusive))
		if c.UnitsNeeded != nil {
			set("units_needed", strconv.FormatInt(*c.UnitsNeeded, 10))
		}
		set("claim_id", c.ID)
		set("verdict", c.Verdict)
		set("magnitude", c.Magnitude)
		set("revealed", exactNumPtr(c.Revealed))
		setCI(set, "revealed_ci", c.RevealedCI)
		set("stated", exactNumPtr(c.Stated))
		set("gap", exactNumPtr(c.Gap))
		setCI(set, "gap_ci", c.GapCI)
		set("gap_p_value", exactNumPtr(c.GapPValue))
		set("summary", c.Summary)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func setCI(set func(col, v string), prefix string, ci *Interval) {
	if ci != nil {
		set(prefix+"_lo", exactNum(ci[0]))
		set(prefix+"_hi", exactNum(ci[1]))
	}
}

// exactNum formats a number exactly (shortest round-trip form).
func exactNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func exactNumPtr(x *float64) string {
	if x == nil {
		return ""
	}
	return exactNum(*x)
}

// factorialRows writes m's factorial contrasts and exchange rates.
func factorialRows(cw *csv.Writer, row []string, set func(col, v string), m MetricReport) error {
	if m.FactorialEffects == nil {
		return nil
	}
	for _, c := range m.Contrasts() {
		clear(row)
		set("type", c.Type)
		set("metric", m.Metric)
		set("kind", string(m.Kind))
		set("variant", c.Label)
		set("control", c.Reference)
		set("abs_effect", exactNumPtr(c.Estimate))
		setCI(set, "abs_ci", c.CI)
		set("p_value", exactNumPtr(c.PValue))
		set("p_adjusted", exactNumPtr(c.PAdjusted))
		set("summary", c.NullReason)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	for _, x := range m.ExchangeRates {
		clear(row)
		set("type", "exchange_rate")
		set("metric", m.Metric)
		set("kind", string(m.Kind))
		set("variant", x.Factor+cellLevelSep+x.Level)
		set("control", x.Cost)
		set("revealed", exactNumPtr(x.Estimate))
		setCI(set, "revealed_ci", x.CI)
		set("summary", x.NullReason)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	return nil
}

// scoreboardColumns are the columns of a scoreboard as CSV: one row per
// test (type "test") and one per statement's pooled result (type
// "pooled"), in the order of the statements.
var scoreboardColumns = []string{
	"type", "statement", "kind", "text", "experiment", "claim", "metric",
	"estimate", "ci_lo", "ci_hi", "se", "units", "stated", "verdict", "magnitude",
	"k", "tau2", "i2", "pi_lo", "pi_hi", "outcome", "units_needed", "pooled", "left_out", "summary",
}

// WriteScoreboardCSV writes a scoreboard as CSV (scoreboardColumns).
func WriteScoreboardCSV(w io.Writer, sb *Scoreboard) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(scoreboardColumns); err != nil {
		return err
	}
	idx := map[string]int{}
	for i, c := range scoreboardColumns {
		idx[c] = i
	}
	row := make([]string, len(scoreboardColumns))
	set := func(col, v string) { row[idx[col]] = v }
	for _, s := range sb.Statements {
		for _, t := range s.Tests {
			clear(row)
			set("type", "test")
			set("statement", s.Statement.Key)
			set("kind", string(s.Statement.Kind))
			set("text", s.Statement.Text)
			set("experiment", t.Experiment)
			set("claim", t.Claim)
			set("metric", t.Metric)
			set("estimate", exactNumPtr(t.Revealed))
			setCI(set, "ci", t.RevealedCI)
			set("se", exactNumPtr(t.SE))
			set("units", strconv.FormatInt(t.Units, 10))
			set("stated", exactNumPtr(t.Stated))
			set("verdict", t.Verdict)
			set("magnitude", t.Magnitude)
			set("pooled", strconv.FormatBool(t.Pooled))
			set("left_out", t.LeftOut)
			set("summary", t.Summary)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		clear(row)
		set("type", "pooled")
		set("statement", s.Statement.Key)
		set("kind", string(s.Statement.Kind))
		set("text", s.Statement.Text)
		set("stated", exactNumPtr(s.Stated))
		set("outcome", s.Outcome)
		set("summary", s.Summary)
		if s.UnitsNeeded != nil {
			set("units_needed", strconv.FormatInt(*s.UnitsNeeded, 10))
		}
		if m := s.Pooled; m != nil {
			set("k", strconv.Itoa(m.K))
			set("estimate", exactNumPtr(m.Estimate))
			setCI(set, "ci", m.CI)
			set("se", exactNumPtr(m.SE))
			set("tau2", exactNumPtr(m.Tau2))
			set("i2", exactNumPtr(m.I2))
			setCI(set, "pi", m.PI)
		}
		if v := s.Verdict; v != nil {
			set("verdict", v.Verdict)
			set("magnitude", v.Magnitude)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
