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
