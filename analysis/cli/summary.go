package cli

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// relTol and absTol bound the rounding allowed in the consistency checks of
// summed statistics, as the analysis package allows.
const (
	relTol = 1e-9
	absTol = 1e-9
)

type summaryMetric struct {
	kind     analysis.Kind // as the file says
	line     int           // first row
	cuped    bool
	top      []analysis.Arm
	hasTop   bool
	segments map[int][]analysis.Arm
}

func readSummary(ctx context.Context, c *csvReader, cols map[string]int, o readOptions) (*data, error) {
	d := &data{lastLine: c.line}
	var variants, metrics, segments names
	var ms []*summaryMetric
	seen := map[[3]int]int{} // (segment+1, metric, variant) → line
	iSeg := col(cols, colSegment)
	_, hasPre := cols[colPreSum]
	_, hasDen := cols[colDenSum]
	for _, group := range [][]string{{colPreSum, colPreSumSq, colPreCross}, {colDenSum, colDenSumSq, colDenCross}} {
		for _, h := range group[1:] {
			if _, ok := cols[group[0]]; ok != (col(cols, h) >= 0) {
				return nil, &lineError{File: c.name, Line: c.line, Column: h,
					Msg: fmt.Sprintf("%s must come together", strings.Join(group, ", "))}
			}
		}
	}
	if err := eachRow(ctx, c, d, func(rec []string) error {
		iMetric, iVariant, iKind := cols[colMetric], cols[colVariant], cols[colKind]
		if rec[iMetric] == "" {
			return c.errAt(iMetric, "empty metric")
		}
		if rec[iVariant] == "" {
			return c.errAt(iVariant, "empty variant")
		}
		fileKind := analysis.Kind(strings.ToLower(strings.TrimSpace(rec[iKind])))
		switch fileKind {
		case analysis.Binary, analysis.Mean, analysis.Ratio:
		default:
			return c.errAt(iKind, "%q: want binary, mean or ratio", clip(rec[iKind]))
		}
		if err := checkSegment(c, rec, iSeg); err != nil {
			return err
		}
		m, isNew := metrics.id(rec[iMetric])
		if isNew {
			ms = append(ms, &summaryMetric{kind: fileKind, line: c.line, segments: map[int][]analysis.Arm{}})
		}
		sm := ms[m]
		if fileKind != sm.kind {
			return c.errAt(iKind, "%q, but line %d says metric %q is %s", fileKind, sm.line, metrics.list[m], sm.kind)
		}
		kind := fileKind
		if k, ok := o.kinds[metrics.list[m]]; ok {
			kind = k
		}
		if kind == analysis.Ratio && !hasDen {
			return c.errAt(iKind, "a ratio metric needs the columns %s, %s and %s", colDenSum, colDenSumSq, colDenCross)
		}
		v, _ := variants.id(rec[iVariant])
		seg := -1
		if iSeg >= 0 && rec[iSeg] != "" {
			seg, _ = segments.id(rec[iSeg])
		}
		key := [3]int{seg + 1, m, v}
		if prev, dup := seen[key]; dup {
			return c.errAt(iVariant, "a second row for metric %q, variant %q%s (the first is on line %d)",
				metrics.list[m], variants.list[v], inSegment(rec, iSeg), prev)
		}
		seen[key] = c.line

		s, cuped, err := summaryStats(c, rec, cols, kind)
		if err != nil {
			return err
		}
		sm.cuped = sm.cuped || cuped && hasPre
		arm := analysis.Arm{Variant: variants.list[v], Stats: s}
		if seg < 0 {
			sm.top = append(sm.top, arm)
			sm.hasTop = true
		} else {
			sm.segments[seg] = append(sm.segments[seg], arm)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	d.variants = variants.list
	kindOf := func(m int) analysis.Kind {
		if k, ok := o.kinds[metrics.list[m]]; ok {
			return k
		}
		return ms[m].kind
	}
	for m, sm := range ms {
		if !sm.hasTop {
			return nil, &lineError{File: c.name, Line: sm.line, Column: colSegment, Msg: fmt.Sprintf(
				"metric %q has only segment rows; it also needs rows for the whole experiment (an empty segment)", metrics.list[m])}
		}
		k := kindOf(m)
		d.metrics = append(d.metrics, analysis.MetricInput{Metric: metrics.list[m], Kind: k, Arms: sm.top, CUPED: sm.cuped && k != analysis.Ratio})
	}
	for s, name := range segments.list {
		attr, value := splitSegment(name)
		seg := analysis.Segment{Attribute: attr, Value: value}
		for m, sm := range ms {
			if arms := sm.segments[s]; len(arms) > 0 {
				k := kindOf(m)
				seg.Metrics = append(seg.Metrics, analysis.MetricInput{Metric: metrics.list[m], Kind: k, Arms: arms, CUPED: sm.cuped && k != analysis.Ratio})
			}
		}
		d.segments = append(d.segments, seg)
	}
	return d, nil
}

func inSegment(rec []string, iSeg int) string {
	if iSeg < 0 || rec[iSeg] == "" {
		return ""
	}
	return fmt.Sprintf(" in segment %q", rec[iSeg])
}

// summaryStats reads and checks the statistics of one summary row; cuped
// says whether it has pre-exposure sums.
func summaryStats(c *csvReader, rec []string, cols map[string]int, kind analysis.Kind) (analysis.Stats, bool, error) {
	var s analysis.Stats
	iUnits := cols[colUnits]
	us := strings.TrimSpace(rec[iUnits])
	units, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(us, 64); ferr == nil && f < 0 {
			return s, false, c.errAt(iUnits, "%q is negative", clip(us))
		}
		return s, false, c.errAt(iUnits, "%q is not a whole number of units", clip(us))
	}
	if units < 0 {
		return s, false, c.errAt(iUnits, "%q is negative", clip(us))
	}
	s.Units = units
	n := float64(units)
	num := func(name string, v *float64, allowEmpty bool, def float64) error {
		i, ok := cols[name]
		if !ok {
			return nil
		}
		f, err := c.number(rec, i, allowEmpty, def)
		*v = f
		return err
	}
	if err := num(colSum, &s.Sum, false, 0); err != nil {
		return s, false, err
	}
	// For a binary metric sum_sq is sum; it may be left empty.
	if err := num(colSumSq, &s.SumSq, kind == analysis.Binary, s.Sum); err != nil {
		return s, false, err
	}
	cuped := false
	if i, ok := cols[colPreSum]; ok && strings.TrimSpace(rec[i]) != "" {
		cuped = true
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{colPreSum, &s.PreSum}, {colPreSumSq, &s.PreSumSq}, {colPreCross, &s.PreCross}} {
		if err := num(f.name, f.v, true, 0); err != nil {
			return s, false, err
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{colDenSum, &s.DenSum}, {colDenSumSq, &s.DenSumSq}, {colDenCross, &s.DenCross}} {
		i, ok := cols[f.name]
		if !ok {
			continue
		}
		if kind != analysis.Ratio {
			if strings.TrimSpace(rec[i]) != "" {
				return s, false, c.errAt(i, "given for a %s metric; only ratio metrics have a denominator", kind)
			}
			continue
		}
		if err := num(f.name, f.v, false, 0); err != nil {
			return s, false, err
		}
	}

	if units == 0 {
		for _, f := range []struct {
			name string
			v    float64
		}{{colSum, s.Sum}, {colSumSq, s.SumSq}, {colPreSum, s.PreSum}, {colPreSumSq, s.PreSumSq},
			{colPreCross, s.PreCross}, {colDenSum, s.DenSum}, {colDenSumSq, s.DenSumSq}, {colDenCross, s.DenCross}} {
			if f.v != 0 {
				return s, false, c.errAt(cols[f.name], "%v, but units is 0", f.v)
			}
		}
		return s, cuped, nil
	}
	if kind == analysis.Binary {
		switch {
		case s.Sum < 0 || s.Sum > n:
			return s, false, c.errAt(cols[colSum], "%v converted of %d units: a binary sum must be in [0, units]", s.Sum, units)
		case s.Sum != math.Round(s.Sum):
			return s, false, c.errAt(cols[colSum], "%v: a binary sum counts converted units, a whole number", s.Sum)
		case math.Abs(s.SumSq-s.Sum) > absTol+relTol*s.Sum:
			return s, false, c.errAt(cols[colSumSq], "%v, but for a binary metric (values 0 or 1) sum_sq equals sum (%v)", s.SumSq, s.Sum)
		}
	} else if err := checkVar(c, cols, colSum, colSumSq, s.Sum, s.SumSq, n); err != nil {
		return s, false, err
	}
	if cuped {
		if err := checkVar(c, cols, colPreSum, colPreSumSq, s.PreSum, s.PreSumSq, n); err != nil {
			return s, false, err
		}
		if err := checkCross(c, cols[colPreCross], s.Sum, s.SumSq, s.PreSum, s.PreSumSq, s.PreCross, n); err != nil {
			return s, false, err
		}
	}
	if kind == analysis.Ratio {
		if err := checkVar(c, cols, colDenSum, colDenSumSq, s.DenSum, s.DenSumSq, n); err != nil {
			return s, false, err
		}
		if err := checkCross(c, cols[colDenCross], s.Sum, s.SumSq, s.DenSum, s.DenSumSq, s.DenCross, n); err != nil {
			return s, false, err
		}
	}
	return s, cuped, nil
}

// checkVar checks Σx² ≥ (Σx)²/n (Cauchy–Schwarz), up to rounding.
func checkVar(c *csvReader, cols map[string]int, sumCol, sqCol string, sum, sq, n float64) error {
	if sq < sum*sum/n*(1-relTol)-absTol {
		return c.errAt(cols[sqCol], "%v is less than %s²/units = %v: no values have these sums", sq, sumCol, sum*sum/n)
	}
	return nil
}

// checkCross checks that the covariance implied by Σxy is within the bound
// of the two variances, up to rounding.
func checkCross(c *csvReader, i int, sx, sxx, sy, syy, sxy, n float64) error {
	vx, vy := math.Max(0, sxx-sx*sx/n), math.Max(0, syy-sy*sy/n)
	cov := sxy - sx*sy/n
	slack := absTol + 1e-6*(math.Abs(sxy)+math.Abs(sx*sy/n))
	if math.Abs(cov) > math.Sqrt(vx*vy)*(1+1e-6)+slack {
		return c.errAt(i, "%v implies a correlation beyond ±1 with these sums", sxy)
	}
	return nil
}
