package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/windowref"
)

const (
	eventsCSV     = "testdata/events/events.csv"
	eventsMetrics = "testdata/events/metrics.json"
	eventsClaims  = "testdata/events/claims.json"
	// eventsAsOf is the report time of the --as-of goldens: units exposed
	// in the last week before it are immature for tickets_7d, and the
	// outcomes and exposures after it are left out.
	eventsAsOf = "2025-05-20T00:00:00Z"
)

var eventsStart = time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)

// eventsColumns is the column order of testdata/events/events.csv: not the
// documented order, to show that any order is read.
var eventsColumns = []string{"id", "ts", "unit_id", "metric", "value", "variant", "exposed_at"}

// writeEventsTestdata writes the committed events file: units of "teach"
// (control) and "fix", exposed over 20 days, each with outcomes of several
// event metrics, shuffled so that a unit's rows are scattered. It puts in,
// on purpose: ties in ts (broken by id, which here disagrees with the line
// order about half the time), outcomes exactly at a window's end (out) and
// start (in), outcomes before exposure (ignored), exposures without
// outcomes, outcomes of a metric nothing reads, and times with an offset.
func writeEventsTestdata(w io.Writer, units int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 17))
	type row struct {
		unit, variant, metric, id string
		exposed, ts               time.Time
		value                     float64
		exposureOnly              bool
	}
	var rows []row
	for u := range units {
		unit := fmt.Sprintf("c-%04d", u+1)
		variant, fix := "teach", u%2 == 1
		if fix {
			variant = "fix"
		}
		exposed := eventsStart.Add(time.Duration(rng.IntN(20*24*60)) * time.Minute)
		if u%15 == 0 {
			rows = append(rows, row{unit: unit, variant: variant, exposed: exposed, exposureOnly: true})
			continue
		}
		add := func(metric string, at time.Duration, value float64) {
			rows = append(rows, row{unit: unit, variant: variant, metric: metric, id: fmt.Sprintf("%016x", rng.Uint64()),
				exposed: exposed, ts: exposed.Add(at), value: value})
		}
		hours := func(max int) time.Duration { return time.Duration(rng.IntN(max*60)) * time.Minute }
		pResolved := 0.55
		if fix {
			pResolved = 0.7
		}
		if rng.Float64() < pResolved {
			add("resolved", hours(36), 1)
		} else if rng.IntN(2) == 0 {
			add("resolved", hours(24), 0)
		}
		for range rng.IntN(4) {
			score := float64(3 + rng.IntN(3))
			if fix && rng.IntN(3) == 0 {
				score = min(score+1, 5)
			}
			add("csat", hours(60), score)
			add("rating_given", hours(60), 1)
		}
		switch {
		case u%7 == 0: // exactly at the end of [0, 24h): not in csat_24h, in last_csat_48h
			add("csat", 24*time.Hour, 1)
		case u%11 == 0: // a tie in ts, broken by id
			at := hours(20)
			add("csat", at, 2)
			add("csat", at, 5)
		case u%13 == 0: // before exposure: ignored
			add("csat", -2*time.Hour, 5)
		}
		tickets := rng.IntN(3)
		if !fix {
			tickets += rng.IntN(2)
		}
		for range tickets {
			add("ticket", hours(10*24), 1)
		}
		if u%9 == 0 {
			add("ticket", time.Hour, 1)      // at the start of [1h, 7d): in
			add("ticket", 7*24*time.Hour, 1) // at its end: out
		}
		for range 1 + rng.IntN(3) {
			wait := math.Round(rng.ExpFloat64()*40) / 10
			if rng.IntN(40) == 0 {
				wait = float64(30 + rng.IntN(90)) // an outlier, for the cap
			}
			add("wait_minutes", hours(4*24), wait)
		}
		if rng.IntN(3) == 0 {
			add("page_view", hours(48), 1)
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, strings.Join(eventsColumns, ","))
	plus2 := time.FixedZone("", 2*3600)
	for i, r := range rows {
		cell := map[string]string{"unit_id": r.unit, "variant": r.variant, "exposed_at": r.exposed.Format(time.RFC3339)}
		if !r.exposureOnly {
			ts := r.ts
			if i%5 == 0 {
				ts = ts.In(plus2) // the same instant, written with an offset
			}
			cell["id"], cell["metric"], cell["ts"] = r.id, r.metric, ts.Format(time.RFC3339)
			cell["value"] = strconv.FormatFloat(r.value, 'g', -1, 64)
		}
		for k, c := range eventsColumns {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(cell[c])
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// TestGeneratedEventsTestdata keeps testdata/events/events.csv what the
// generator makes.
func TestGeneratedEventsTestdata(t *testing.T) {
	var b bytes.Buffer
	if err := writeEventsTestdata(&b, 240, 5); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(eventsCSV, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(eventsCSV)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("%s differs from the generator's output; run go test -update", eventsCSV)
	}
}

func TestEventsGolden(t *testing.T) {
	base := []string{"--events", eventsCSV, "--metrics", eventsMetrics, "--claims", eventsClaims}
	tests := []struct {
		golden string
		args   []string
	}{
		{"events.txt", base},
		{"events-asof.txt", append([]string{"--as-of", eventsAsOf}, base...)},
		{"events-asof.json", append([]string{"--as-of", eventsAsOf, "--format", "json"}, base...)},
		{"events-asof.csv", append([]string{"--as-of", eventsAsOf, "--format", "csv"}, base...)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "events", "golden", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, out)
			}
		})
	}
}

// naiveEvent is one outcome row as the naive computation keeps it.
type naiveEvent struct {
	metric, id string
	ts         int64
	value      float64
}

type naiveUnit struct {
	variant string
	exposed int64
	events  []naiveEvent
}

// naiveEventUnits reads an events file the simple way: every row in memory,
// grouped by unit. It shares no code with the streaming reader.
func naiveEventUnits(t *testing.T, path string) (map[string]*naiveUnit, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	micros := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	units := map[string]*naiveUnit{}
	var variants []string
	for _, r := range recs[1:] {
		id := r[col["unit_id"]]
		u := units[id]
		if u == nil {
			u = &naiveUnit{variant: r[col["variant"]], exposed: micros(r[col["exposed_at"]])}
			units[id] = u
			if !contains(variants, u.variant) {
				variants = append(variants, u.variant)
			}
		}
		if r[col["metric"]] == "" {
			continue
		}
		v, err := strconv.ParseFloat(r[col["value"]], 64)
		if err != nil {
			t.Fatal(err)
		}
		u.events = append(u.events, naiveEvent{r[col["metric"]], r[col["id"]], micros(r[col["ts"]]), v})
	}
	return units, variants
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// naiveValue is a unit's value of a (non-ratio) metric from its outcomes of
// the metric's source, by the reference computation the store's test uses.
func naiveValue(m experiments.Metric, u *naiveUnit) (float64, bool) {
	var outcomes []windowref.Outcome
	for _, e := range u.events {
		if e.metric == m.SourceKey() {
			outcomes = append(outcomes, windowref.Outcome{ID: e.id, TS: e.ts, Value: e.value})
		}
	}
	return windowref.Value(m, u.exposed, outcomes)
}

// naiveMetricInputs computes every metric's arms, immature units and units
// without a value from the naive units, as of asOf (µs).
func naiveMetricInputs(t *testing.T, metrics []experiments.Metric, units map[string]*naiveUnit, variants []string, asOf int64) []analysis.MetricInput {
	t.Helper()
	byKey := map[string]experiments.Metric{}
	for _, m := range metrics {
		byKey[m.Key] = m
	}
	ids := make([]string, 0, len(units))
	for id, u := range units {
		if u.exposed <= asOf {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []analysis.MetricInput
	for _, m := range metrics {
		mi := analysis.MetricInput{Metric: m.Key, Kind: analysis.Kind(m.Kind)}
		type value struct {
			variant string
			v, d    float64
		}
		var values []value
		for _, id := range ids {
			u := units[id]
			if m.Kind == experiments.MetricRatio {
				var num, den float64
				for _, e := range u.events {
					if e.ts < u.exposed || e.ts > asOf {
						continue
					}
					if e.metric == byKey[m.Numerator].SourceKey() {
						num += e.value
					}
					if e.metric == byKey[m.Denominator].SourceKey() {
						den += e.value
					}
				}
				values = append(values, value{u.variant, num, den})
				continue
			}
			if w := m.Window; w != nil && w.To != nil && u.exposed+w.To.Micros() > asOf {
				mi.ImmatureUnits++
				continue
			}
			cut := *u
			cut.events = nil
			for _, e := range u.events {
				if e.ts <= asOf {
					cut.events = append(cut.events, e)
				}
			}
			v, ok := naiveValue(m, &cut)
			if !ok {
				mi.UnitsWithoutValue++
				continue
			}
			values = append(values, value{u.variant, v, 0})
		}
		capAt := math.Inf(1)
		if c := m.Cap; c != nil && c.Absolute != nil {
			capAt = *c.Absolute
		} else if c != nil {
			sorted := make([]float64, len(values))
			for i, v := range values {
				sorted[i] = v.v
			}
			sort.Float64s(sorted)
			h := float64(len(sorted)-1) * *c.Percentile // R's type 7
			lo := int(h)
			capAt = sorted[lo]
			if lo+1 < len(sorted) {
				capAt += (h - float64(lo)) * (sorted[lo+1] - sorted[lo])
			}
		}
		for _, variant := range variants {
			var s analysis.Stats
			for _, v := range values {
				if v.variant == variant {
					x := math.Min(v.v, capAt)
					s.Units++
					s.Sum += x
					s.SumSq += x * x
					s.DenSum += v.d
					s.DenSumSq += v.d * v.d
					s.DenCross += x * v.d
				}
			}
			mi.Arms = append(mi.Arms, analysis.Arm{Variant: variant, Stats: s})
		}
		out = append(out, mi)
	}
	return out
}

// TestEventsMatchNaive checks the streamed per-unit values against the
// naive computation from the raw rows, with the default report time and
// with --as-of.
func TestEventsMatchNaive(t *testing.T) {
	mf, err := readMetricsFile(eventsMetrics)
	if err != nil {
		t.Fatal(err)
	}
	units, variants := naiveEventUnits(t, eventsCSV)
	latest := int64(math.MinInt64)
	for _, u := range units {
		latest = max(latest, u.exposed)
		for _, e := range u.events {
			latest = max(latest, e.ts)
		}
	}
	at, _ := time.Parse(time.RFC3339, eventsAsOf)
	for _, tc := range []struct {
		name string
		asOf *time.Time
		want int64
	}{{"latest time", nil, latest}, {"--as-of", &at, at.UnixMicro()}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(eventsCSV)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := readEvents(context.Background(), f, eventsCSV, mf, tc.asOf)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveMetricInputs(t, mf.metrics, units, variants, tc.want)
			sawImmature, sawWithout := false, false
			for i, w := range want {
				g := d.metrics[i]
				sawImmature = sawImmature || w.ImmatureUnits > 0
				sawWithout = sawWithout || w.UnitsWithoutValue > 0
				if g.Metric != w.Metric || g.Kind != w.Kind || g.ImmatureUnits != w.ImmatureUnits || g.UnitsWithoutValue != w.UnitsWithoutValue {
					t.Errorf("%s: kind %s immature %d without %d; want %s %s %d %d", g.Metric, g.Kind, g.ImmatureUnits, g.UnitsWithoutValue,
						w.Metric, w.Kind, w.ImmatureUnits, w.UnitsWithoutValue)
				}
				if len(g.Arms) != len(w.Arms) {
					t.Fatalf("%s: %d arms, want %d", w.Metric, len(g.Arms), len(w.Arms))
				}
				for j, wa := range w.Arms {
					ga := g.Arms[j]
					gs, ws := ga.Stats, wa.Stats
					close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
					if ga.Variant != wa.Variant || gs.Units != ws.Units || !close(gs.Sum, ws.Sum) || !close(gs.SumSq, ws.SumSq) ||
						!close(gs.DenSum, ws.DenSum) || !close(gs.DenSumSq, ws.DenSumSq) || !close(gs.DenCross, ws.DenCross) {
						t.Errorf("%s, %s: %+v\nwant %s: %+v", w.Metric, ga.Variant, gs, wa.Variant, ws)
					}
				}
			}
			if tc.asOf != nil && !sawImmature {
				t.Error("no metric has immature units: the test data no longer tests maturity")
			}
			if !sawWithout {
				t.Error("no metric has units without a value: the test data no longer tests them")
			}
		})
	}
}

// TestEventsOrder: ties in ts are broken by the id column, else by line;
// an outcome at a window's end is out and one at its start is in.
func TestEventsOrder(t *testing.T) {
	metrics := `{"metrics": [
 {"key": "first", "kind": "mean", "source": "s", "aggregation": "first"},
 {"key": "last", "kind": "mean", "source": "s", "aggregation": "last"},
 {"key": "day", "kind": "mean", "source": "s", "window": {"from": "1h", "to": "24h"}},
 {"key": "peak", "kind": "mean", "source": "s", "aggregation": "peak_end"}
]}`
	mf, err := parseMetrics("metrics.json", []byte(metrics))
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		value  float64
		ts, id string
	}
	// file writes u1's outcomes, with or without the id column, and an
	// exposure of u2 without outcomes.
	file := func(withID bool, outcomes ...outcome) string {
		const x = "2025-05-01T00:00:00Z"
		var b strings.Builder
		b.WriteString("unit_id,variant,exposed_at,metric,value,ts")
		if withID {
			b.WriteString(",id")
		}
		b.WriteString("\n")
		for _, o := range outcomes {
			fmt.Fprintf(&b, "u1,a,%s,s,%g,%s", x, o.value, o.ts)
			if withID {
				b.WriteString("," + o.id)
			}
			b.WriteString("\n")
		}
		b.WriteString("u2,b," + x + ",,,")
		if withID {
			b.WriteString(",")
		}
		b.WriteString("\n")
		return b.String()
	}
	spread := []outcome{
		{5, "2025-05-01T02:00:00Z", "b"},
		{7, "2025-05-01T02:00:00Z", "a"},
		{1, "2025-05-01T01:00:00Z", "c"}, // at the window's start: in day; first
		{9, "2025-05-02T00:00:00Z", "d"}, // at its end: out of day; last
	}
	tie := []outcome{{5, "2025-05-01T02:00:00Z", "b"}, {7, "2025-05-01T02:00:00Z", "a"}}
	asOf := time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC) // every window has closed
	for _, tc := range []struct {
		name string
		file string
		want map[string]float64 // u1's value
	}{
		{"by id", file(true, spread...), map[string]float64{"first": 1, "last": 9, "day": 13, "peak": 9}},
		{"by line", file(false, spread...), map[string]float64{"first": 1, "last": 9, "day": 13, "peak": 9}},
		{"tie by id", file(true, tie...), map[string]float64{"first": 7, "last": 5, "day": 12, "peak": 6}},
		{"tie by line", file(false, tie...), map[string]float64{"first": 5, "last": 7, "day": 12, "peak": 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := readEvents(context.Background(), strings.NewReader(tc.file), "events.csv", mf, &asOf)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range d.metrics {
				a := m.Arms[0].Stats
				if a.Units != 1 || a.Sum != tc.want[m.Metric] {
					t.Errorf("%s: units %d value %v, want 1 and %v", m.Metric, a.Units, a.Sum, tc.want[m.Metric])
				}
			}
		})
	}
}

func TestEventsErrors(t *testing.T) {
	const header = "unit_id,variant,exposed_at,metric,value,ts\n"
	const x = "2025-05-01T00:00:00Z"
	const metrics = `{"metrics": [{"key": "m", "kind": "mean"}]}`
	ok := header + "u1,a," + x + ",m,1," + x + "\nu2,b," + x + ",m,2," + x + "\n"
	tests := []struct {
		name    string
		events  string
		metrics string
		args    []string
		want    string // the whole of stderr
	}{
		{"unit in two variants", header + "u1,a," + x + ",m,1," + x + "\nu2,b," + x + ",m,1," + x + "\nu1,b," + x + ",m,1," + x + "\n", metrics, nil,
			`events.csv:4: column "variant": unit "u1" is in variant "b" here and in "a" on line 2; a unit has one variant`},
		{"two exposures", header + "u1,a," + x + ",m,1," + x + "\nu1,a,2025-05-01T00:00:01Z,,,\n", metrics, nil,
			`events.csv:3: column "exposed_at": unit "u1" was first exposed at 2025-05-01T00:00:01Z here and at 2025-05-01T00:00:00Z on line 2; a unit has one first exposure`},
		{"bad time", header + "u1,a,yesterday,m,1," + x + "\n", metrics, nil,
			`events.csv:2: column "exposed_at": "yesterday" is not an RFC 3339 time such as 2025-05-01T09:30:00Z`},
		{"empty ts", header + "u1,a," + x + ",m,1,\n", metrics, nil,
			`events.csv:2: column "ts": empty, a time is needed (RFC 3339, e.g. 2025-05-01T09:30:00Z)`},
		{"bad value", header + "u1,a," + x + ",m,lots," + x + "\n", metrics, nil,
			`events.csv:2: column "value": "lots" is not a number`},
		{"value without a metric", header + "u1,a," + x + ",,1,\n", metrics, nil,
			`events.csv:2: column "value": a row without a metric is an exposure without outcomes; leave value and ts empty`},
		{"empty id", "unit_id,variant,exposed_at,metric,value,ts,id\nu1,a," + x + ",m,1," + x + ",\n", metrics, nil,
			`events.csv:2: column "id": empty; an outcome's id breaks ties in ts for first, last and peak_end`},
		{"missing column", "unit_id,variant,metric,value,ts\nu1,a,m,1," + x + "\n", metrics, nil,
			`events.csv:1: column "exposed_at": missing from the header of event rows (unit_id,variant,exposed_at,metric,value,ts)`},
		{"unknown column", "unit_id,variant,exposed_at,metric,value,ts,segment\n", metrics, nil,
			`events.csv:1: column "segment": unknown column for event rows (allowed: unit_id,variant,exposed_at,metric,value,ts,id)`},
		{"one variant", header + "u1,a," + x + ",m,1," + x + "\n", metrics, nil,
			`events.csv:2: 1 variant(s) in the file (a); at least 2 are needed`},
		{"metrics not an object", ok, `[{"key": "m", "kind": "mean"}]`, nil,
			`metrics.json:1: want {"metrics": [...]}, the metrics of the experiment as the API takes them`},
		{"metrics missing", ok, `{"key": "x"}`, nil,
			`metrics.json:1: column "metrics": missing; want {"metrics": [...]}, the metrics of the experiment as the API takes them`},
		{"metrics unknown field", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\"},\n {\"key\": \"n\", \"kind\": \"mean\", \"windw\": {}}]}", nil,
			`metrics.json:3: json: unknown field "windw"`},
		{"metrics bad span", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\", \"window\": {\"from\": \"1w\"}}]}", nil,
			`metrics.json:2: "1w" is not a duration such as "30m", "24h" or "90d"`},
		{"metrics type", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\", \"higher_is_better\": \"yes\"}]}", nil,
			`metrics.json:2: column "higher_is_better": want bool, got a JSON string`},
		{"binary aggregation", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"binary\", \"aggregation\": \"sum\"}]}", nil,
			`metrics.json:2: column "aggregation": metric "m": a binary metric is 1 when any outcome is > 0: its aggregation is "any"`},
		{"unknown aggregation", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\", \"aggregation\": \"median\"}]}", nil,
			`metrics.json:2: column "aggregation": metric "m": must be one of sum, count, any, mean, min, max, first, last, peak_end`},
		{"window backwards", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\"},\n {\"key\": \"n\", \"kind\": \"mean\", \"window\": {\"from\": \"2h\", \"to\": \"1h\"}}]}", nil,
			`metrics.json:3: column "window.to": metric "n": must be after window.from`},
		{"peak without peak_end", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\", \"peak\": \"min\"}]}", nil,
			`metrics.json:2: column "peak": metric "m": is only for the peak_end aggregation`},
		{"duplicate metric", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\"},\n {\"key\": \"m\", \"kind\": \"binary\"}]}", nil,
			`metrics.json:3: column "key": metric "m": duplicate metric "m"`},
		{"ratio of a windowed part", ok, "{\"metrics\": [\n {\"key\": \"m\", \"kind\": \"mean\", \"window\": {\"from\": \"0h\"}},\n {\"key\": \"n\", \"kind\": \"mean\"},\n {\"key\": \"r\", \"kind\": \"ratio\", \"numerator\": \"m\", \"denominator\": \"n\"}]}", nil,
			`metrics.json:4: column "numerator": metric "r": cannot have a window or an aggregation: a ratio sums its parts' outcomes since exposure`},
		{"claim on an unknown metric", ok, metrics, []string{"--claims", "CLAIMS"},
			`claims.json:1: column "metric": claim "c": names no metric of the experiment: "zzz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--events", writeFile(t, "events.csv", tt.events), "--metrics", writeFile(t, "metrics.json", tt.metrics)}
			for _, a := range tt.args {
				if a == "CLAIMS" {
					a = writeFile(t, "claims.json", `[{"id": "c", "statement": "s", "kind": "share", "metric": "zzz", "stated_share": 0.5, "survey_n": 10}]`)
				}
				args = append(args, a)
			}
			code, out, errOut := runCLI(t, "", args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			// The message names the file by the path given; compare from its base name.
			got := strings.TrimSpace(errOut)
			if i := strings.Index(got, filepath.Base(strings.SplitN(tt.want, ":", 2)[0])+":"); i >= 0 {
				got = got[i:]
			}
			if got != tt.want {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestEventsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--events", "e.csv"}, "--events needs --metrics metrics.json, the metrics to form from the events"},
		{[]string{"--metrics", "m.json", "x.csv"}, "--metrics and --as-of are for an events file: add --events events.csv"},
		{[]string{"--events", "e.csv", "--metrics", "m.json", "x.csv"}, "--events e.csv names the input; drop x.csv"},
		{[]string{"--events", "e.csv", "--metrics", "m.json", "--as-of", "2025-05-01"}, `--as-of "2025-05-01": want an RFC 3339 time, e.g. 2025-05-01T00:00:00Z`},
		{[]string{"--events", "e.csv", "--metrics", "m.json", "--kind", "m=mean"}, "--kind does not go with --events: metrics.json gives each metric's kind"},
		{[]string{"--events", "e.csv", "--metrics", "m.json", "--lower-is-better", "m"}, "--lower-is-better does not go with --events: metrics.json gives each metric's higher_is_better"},
		{[]string{"--events", "e.csv", "--metrics", "m.json", "--responses", "r.csv"}, "--responses does not go with --events: survey answers join per-unit rows, not events"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, "", tt.args...)
		want := "revealed analyze: " + tt.want + "\nRun \"revealed analyze -h\" for usage.\n"
		if code != 2 || out != "" || errOut != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing and %q", tt.args, code, out, errOut, want)
		}
	}
}

// TestEventsBOMCRLFStdin: a byte-order mark, CRLF line endings, upper-case
// header names and standard input read as the plain file does.
func TestEventsBOMCRLFStdin(t *testing.T) {
	plain, err := os.ReadFile(eventsCSV)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--metrics", eventsMetrics, "--format", "json", "--experiment", "x"}
	_, want, _ := runCLI(t, "", append(args, "--events", eventsCSV)...)
	header, rest, _ := strings.Cut(string(plain), "\n")
	odd := "\uFEFF" + strings.ToUpper(header) + "\r\n" + strings.ReplaceAll(rest, "\n", "\r\n")
	code, got, errOut := runCLI(t, odd, append(args, "--events", "-")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got != want {
		t.Errorf("stdin with BOM and CRLF gives another report:\n%s\nwant\n%s", got, want)
	}
}

// writeEventsBenchCSV writes events outcomes of units units, each outcome
// of a random unit, so that a unit's rows are spread over the whole file,
// with the event metrics of testdata/events/metrics.json. A unit's variant
// and exposure follow from its number, so the writer keeps nothing per unit.
func writeEventsBenchCSV(w io.Writer, units, events int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 23))
	fmt.Fprintln(bw, "unit_id,variant,exposed_at,metric,value,ts,id")
	sources := []string{"resolved", "csat", "rating_given", "ticket", "wait_minutes", "page_view"}
	for i := range events {
		u := rng.IntN(units)
		variant := "teach"
		if u%2 == 1 {
			variant = "fix"
		}
		exposed := eventsStart.Add(time.Duration(u*7919%(20*24*60)) * time.Minute)
		metric := sources[rng.IntN(len(sources))]
		value := 1.0
		switch metric {
		case "csat":
			value = float64(1 + rng.IntN(5))
		case "wait_minutes":
			value = math.Round(rng.ExpFloat64()*40) / 10
		case "resolved":
			value = float64(rng.IntN(2))
		}
		ts := exposed.Add(time.Duration(rng.IntN(10*24*60)-60) * time.Minute)
		fmt.Fprintf(bw, "c-%d,%s,%s,%s,%g,%s,e%08d\n", u, variant, exposed.Format(time.RFC3339), metric, value, ts.Format(time.RFC3339), i)
	}
	return bw.Flush()
}

// TestEventsWriteBenchFiles writes events files to $REVEALED_BENCH_DIR, for
// measuring the built command's time and peak memory from outside: 50,000
// units with 100k, 1M and 5M events (memory should not grow with events),
// and 500,000 units with 1M events (it grows with units).
func TestEventsWriteBenchFiles(t *testing.T) {
	dir := os.Getenv("REVEALED_BENCH_DIR")
	if dir == "" {
		t.Skip("set REVEALED_BENCH_DIR to write the benchmark files there")
	}
	for _, f := range []struct {
		name          string
		units, events int
	}{
		{"events-50k-units-100k.csv", 50_000, 100_000},
		{"events-50k-units-1m.csv", 50_000, 1_000_000},
		{"events-50k-units-5m.csv", 50_000, 5_000_000},
		{"events-500k-units-1m.csv", 500_000, 1_000_000},
	} {
		writeFileWith(t, filepath.Join(dir, f.name), func(w io.Writer) error { return writeEventsBenchCSV(w, f.units, f.events, 1) })
	}
}
