package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

var update = flag.Bool("update", false, "rewrite the golden files and the generated testdata")

// perUnitColumns is the column order of testdata/perunit.csv: not the
// documented order, to show that any order is read.
var perUnitColumns = []string{"variant", "unit_id", "segment", "metric", "value", "covariate"}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGeneratedTestdata keeps testdata/perunit.csv what the generator makes.
func TestGeneratedTestdata(t *testing.T) {
	var b bytes.Buffer
	if err := writePerUnitCSV(&b, 400, 3, 7, perUnitColumns); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/perunit.csv"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("%s differs from the generator's output; run go test -update", path)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"perunit.txt", []string{"testdata/perunit.csv", "--claims", "testdata/claims.json", "--cap", "minutes=p99"}},
		{"perunit.csv", []string{"--format", "csv", "--claims", "testdata/claims.json", "testdata/perunit.csv"}},
		{"perunit.json", []string{"--format=json", "--claims", "testdata/claims.json", "testdata/perunit.csv"}},
		{"summary.txt", []string{"--claims", "testdata/claims.json", "--lower-is-better", "minutes", "testdata/summary.csv"}},
		{"summary.csv", []string{"--format", "csv", "--claims", "testdata/claims.json", "testdata/summary.csv"}},
		{"sequential.txt", []string{"--sequential", "2000", "--correction", "bh", "--alpha", "0.1", "testdata/summary.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "golden", tt.golden)
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

// naiveInput builds the analysis input of a per-unit file the simple way:
// every row in memory, grouped by unit, then summed in the order units
// first appear. It shares no code with the streaming reader. The file must
// be plain (no quotes), as the generated files are.
func naiveInput(t *testing.T, path string) analysis.Input {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ",") {
		col[h] = i
	}
	cuped := map[string]bool{} // metrics with a covariate
	type unit struct {
		variant, segment string
		value, pre       map[string]float64
	}
	units := map[string]*unit{}
	var unitOrder, variants, metrics, segments []string
	seen := map[string]bool{}
	firstSeen := func(list *[]string, key, s string) {
		if !seen[key+s] {
			seen[key+s] = true
			*list = append(*list, s)
		}
	}
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		id, m := f[col["unit_id"]], f[col["metric"]]
		u := units[id]
		if u == nil {
			u = &unit{variant: f[col["variant"]], value: map[string]float64{}, pre: map[string]float64{}}
			if i, ok := col["segment"]; ok {
				u.segment = f[i]
			}
			units[id] = u
			unitOrder = append(unitOrder, id)
		}
		firstSeen(&variants, "v:", u.variant)
		firstSeen(&metrics, "m:", m)
		if u.segment != "" {
			firstSeen(&segments, "s:", u.segment)
		}
		v, _ := strconv.ParseFloat(f[col["value"]], 64)
		u.value[m] += v
		if i, ok := col["covariate"]; ok && f[i] != "" {
			x, _ := strconv.ParseFloat(f[i], 64)
			u.pre[m] += x
			cuped[m] = true
		}
	}
	metricInputs := func(segment string) []analysis.MetricInput {
		var out []analysis.MetricInput
		for _, m := range metrics {
			stats := map[string]*analysis.Stats{}
			binary := true
			for _, id := range unitOrder {
				u := units[id]
				v, ok := u.value[m]
				if !ok || (segment != "" && u.segment != segment) {
					continue
				}
				s := stats[u.variant]
				if s == nil {
					s = &analysis.Stats{}
					stats[u.variant] = s
				}
				x := u.pre[m]
				s.Units++
				s.Sum += v
				s.SumSq += v * v
				s.PreSum += x
				s.PreSumSq += x * x
				s.PreCross += v * x
				binary = binary && (v == 0 || v == 1)
			}
			mi := analysis.MetricInput{Metric: m, Kind: analysis.Mean, HigherIsBetter: true, CUPED: cuped[m]}
			if binary {
				mi.Kind = analysis.Binary
			}
			for _, v := range variants {
				if s := stats[v]; s != nil {
					mi.Arms = append(mi.Arms, analysis.Arm{Variant: v, Stats: *s})
				}
			}
			out = append(out, mi)
		}
		return out
	}
	in := analysis.Input{Experiment: "x", Metrics: metricInputs("")}
	for _, v := range variants {
		var n int64
		for _, u := range units {
			if u.variant == v {
				n++
			}
		}
		in.Variants = append(in.Variants, analysis.Variant{Key: v, Weight: 1, Control: v == "control"})
		in.Assigned = append(in.Assigned, analysis.VariantUnits{Variant: v, Units: n})
	}
	for _, s := range segments {
		a, v, _ := strings.Cut(s, "=")
		in.Segments = append(in.Segments, analysis.Segment{Attribute: a, Value: v, Metrics: metricInputs(s)})
	}
	return in
}

// summaryCSV writes the summary file of in, as an analyst would export it
// from a warehouse.
func summaryCSV(in analysis.Input) string {
	var b strings.Builder
	b.WriteString("metric,variant,kind,units,sum,sum_sq,pre_sum,pre_sum_sq,pre_cross,segment\n")
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	write := func(segment string, ms []analysis.MetricInput) {
		for _, m := range ms {
			for _, a := range m.Arms {
				s := a.Stats
				pre := ",,"
				if m.CUPED {
					pre = g(s.PreSum) + "," + g(s.PreSumSq) + "," + g(s.PreCross)
				}
				fmt.Fprintf(&b, "%s,%s,%s,%d,%s,%s,%s,%s\n", m.Metric, a.Variant, m.Kind, s.Units,
					g(s.Sum), g(s.SumSq), pre, segment)
			}
		}
	}
	write("", in.Metrics)
	for _, s := range in.Segments {
		write(s.Attribute+"="+s.Value, s.Metrics)
	}
	return b.String()
}

func readClaims(t *testing.T, path string) []analysis.Claim {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseClaims(path, b)
	if err != nil {
		t.Fatal(err)
	}
	return f.claims
}

// TestJSONEqualsAnalyze: the JSON output is the analysis package's report of
// the independently built input, byte for byte.
func TestJSONEqualsAnalyze(t *testing.T) {
	for _, withClaims := range []bool{false, true} {
		t.Run(fmt.Sprintf("claims=%v", withClaims), func(t *testing.T) {
			in := naiveInput(t, "testdata/perunit.csv")
			args := []string{"--format", "json", "--experiment", "x", "testdata/perunit.csv"}
			if withClaims {
				in.Claims = readClaims(t, "testdata/claims.json")
				args = append(args, "--claims", "testdata/claims.json")
			}
			r, err := analysis.Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			// As the server encodes it (server/decode.go: jsonRender).
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out != want.String() {
				t.Errorf("JSON differs from analysis.Analyze:\ngot  %s\nwant %s", out, want.String())
			}
		})
	}
}

// TestJSONNotEscaped: like the server, the JSON keeps "p < 0.001" as
// written rather than as "p \u003c 0.001".
func TestJSONNotEscaped(t *testing.T) {
	_, out, _ := runCLI(t, "", "--format", "json", "--claims", "testdata/claims.json", "testdata/summary.csv")
	if !strings.Contains(out, "(p < 0.001)") || strings.Contains(out, `\u003c`) {
		t.Errorf("summaries are escaped or lack a small p-value: %s", out)
	}
}

// TestPerUnitMatchesSummary: the per-unit file and the summary computed
// from it independently give the same report.
func TestPerUnitMatchesSummary(t *testing.T) {
	in := naiveInput(t, "testdata/perunit.csv")
	summary := writeFile(t, "summary.csv", summaryCSV(in))
	for _, format := range []string{"json", "csv", "text"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"--format", format, "--experiment", "x", "--claims", "testdata/claims.json"}
			c1, fromUnits, e1 := runCLI(t, "", append(args, "testdata/perunit.csv")...)
			c2, fromSummary, e2 := runCLI(t, "", append(args, summary)...)
			if c1 != 0 || c2 != 0 {
				t.Fatalf("exit %d, %d: %s %s", c1, c2, e1, e2)
			}
			if format == "text" {
				// Only the input line differs.
				fromUnits = regexp.MustCompile(`(?m)^Input: .*\n`).ReplaceAllString(fromUnits, "")
				fromSummary = regexp.MustCompile(`(?m)^Input: .*\n`).ReplaceAllString(fromSummary, "")
			}
			if fromUnits != fromSummary {
				t.Errorf("per-unit and summary reports differ:\nper-unit: %s\nsummary:  %s", fromUnits, fromSummary)
			}
		})
	}
}

// TestPerUnitSums checks the streamed sums against hand-computed ones,
// including a unit's consecutive rows for one metric being summed.
func TestPerUnitSums(t *testing.T) {
	const file = "unit_id,variant,metric,value,covariate\n" +
		"a,control,m,1,2\n" +
		"a,control,m,2,1\n" + // summed with the row above: value 3, covariate 3
		"a,control,n,1,\n" +
		"b,control,m,4,0\n" +
		"c,treatment,m,5,1\n" +
		"b,control,n,0,\n" + // b again, another metric: fine
		"d,treatment,m,0.5,2\n"
	d, err := readData(context.Background(), strings.NewReader(file), "f.csv", readOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []analysis.MetricInput{
		{Metric: "m", Kind: analysis.Mean, CUPED: true, Arms: []analysis.Arm{
			{Variant: "control", Stats: analysis.Stats{Units: 2, Sum: 7, SumSq: 25, PreSum: 3, PreSumSq: 9, PreCross: 9}},
			{Variant: "treatment", Stats: analysis.Stats{Units: 2, Sum: 5.5, SumSq: 25.25, PreSum: 3, PreSumSq: 5, PreCross: 6}},
		}},
		{Metric: "n", Kind: analysis.Binary, Arms: []analysis.Arm{
			{Variant: "control", Stats: analysis.Stats{Units: 2, Sum: 1, SumSq: 1}},
		}},
	}
	if !reflect.DeepEqual(d.metrics, want) {
		t.Errorf("metrics:\ngot  %+v\nwant %+v", d.metrics, want)
	}
	wantAssigned := []analysis.VariantUnits{{Variant: "control", Units: 2}, {Variant: "treatment", Units: 2}}
	if !reflect.DeepEqual(d.assigned, wantAssigned) {
		t.Errorf("assigned = %+v, want %+v", d.assigned, wantAssigned)
	}
	if w := missingWarnings(d); len(w) != 1 || !strings.Contains(w[0], `metric "n" has rows for 0 of the 2 units of variant "treatment"`) {
		t.Errorf("warnings = %q", w)
	}
}

func TestErrors(t *testing.T) {
	const unitHeader = "unit_id,variant,metric,value\n"
	const sumHeader = "metric,variant,kind,units,sum,sum_sq\n"
	ok := unitHeader + "u1,control,m,1\nu2,treatment,m,0\n"
	tests := []struct {
		name  string
		file  string
		args  []string
		want  string // in stderr
		claim string // claims file content, when set
	}{
		{"empty file", "", nil, `data.csv:1: empty file`, ""},
		{"unknown header", "a,b,c\n1,2,3\n", nil, `data.csv:1: header "a,b,c" is neither`, ""},
		{"missing column", "unit_id,variant,value\nu,c,1\n", nil, `data.csv:1: column "metric": missing`, ""},
		{"unknown column", "unit_id,variant,metric,value,colour\nu,c,m,1,red\n", nil, `data.csv:1: column "colour": unknown column`, ""},
		{"duplicate column", "unit_id,variant,metric,value,value\nu,c,m,1,1\n", nil, `data.csv:1: column "value": appears twice`, ""},
		{"both kinds", "unit_id,variant,metric,value,units\n", nil, `data.csv:1: header has both`, ""},
		{"no rows", unitHeader, nil, `data.csv:2: no data rows`, ""},
		{"not a number", unitHeader + "u1,control,m,1\nu2,control,m,abc\n", nil, `data.csv:3: column "value": "abc" is not a number`, ""},
		{"NaN", unitHeader + "u1,control,m,NaN\n", nil, `data.csv:2: column "value": "NaN" is not a finite number`, ""},
		{"Inf", unitHeader + "u1,control,m,-Inf\n", nil, `data.csv:2: column "value": "-Inf" is not a finite number`, ""},
		{"overflow", unitHeader + "u1,control,m,1e999\n", nil, `data.csv:2: column "value": "1e999" is out of range`, ""},
		{"empty value", unitHeader + "u1,control,m,\n", nil, `data.csv:2: column "value": empty`, ""},
		{"empty unit", unitHeader + ",control,m,1\n", nil, `data.csv:2: column "unit_id": empty unit id`, ""},
		{"bad covariate", "unit_id,variant,metric,value,covariate\nu1,control,m,1,x\n", nil, `data.csv:2: column "covariate": "x" is not a number`, ""},
		{"field count", unitHeader + "u1,control,m,1\nu2,control,m\n", nil, `data.csv:3: 3 fields, but the header has 4`, ""},
		{"bare quote", unitHeader + "u1,control,m,1\nu\"2,control,m,1\n", nil, `data.csv:3: column 2: bare "`, ""},
		{"multi-line field", unitHeader + "\"u\n1\",control,m,1\nu2,control,m,x\n", nil, `data.csv:4: column "value": "x"`, ""},
		{"unit in two variants", unitHeader + "u1,control,m,1\nu2,control,m,1\nu1,treatment,n,1\n", nil, `data.csv:4: column "variant": unit "u1" is in variant "treatment"`, ""},
		{"unit in two segments", "unit_id,variant,metric,value,segment\nu1,control,m,1,age=a\nu1,control,n,1,age=b\n", nil, `data.csv:3: column "segment": unit "u1" is in segment "age=b"`, ""},
		{"bad segment", "unit_id,variant,metric,value,segment\nu1,control,m,1,=x\n", nil, `data.csv:2: column "segment": "=x"`, ""},
		{"non-adjacent duplicate", unitHeader + "u1,control,m,1\nu2,control,m,1\nu1,control,m,1\n", nil, `data.csv:4: column "unit_id": unit "u1" already has a "m" value`, ""},
		{"one variant", unitHeader + "u1,control,m,1\nu2,control,m,0\n", nil, `data.csv:3: 1 variant(s) in the file (control)`, ""},
		{"negative units", sumHeader + "m,control,mean,-3,1,1\n", nil, `data.csv:2: column "units": "-3" is negative`, ""},
		{"fractional units", sumHeader + "m,control,mean,2.5,1,1\n", nil, `data.csv:2: column "units": "2.5" is not a whole number`, ""},
		{"sum_sq too small", sumHeader + "m,control,mean,10,10,5\nm,treatment,mean,10,10,10\n", nil, `data.csv:2: column "sum_sq": 5 is less than sum²/units = 10`, ""},
		{"binary sum over units", sumHeader + "m,control,binary,10,11,11\n", nil, `data.csv:2: column "sum": 11 converted of 10 units`, ""},
		{"binary sum_sq", sumHeader + "m,control,binary,10,5,7\n", nil, `data.csv:2: column "sum_sq": 7, but for a binary metric`, ""},
		{"unknown kind", sumHeader + "m,control,median,10,5,7\n", nil, `data.csv:2: column "kind": "median": want binary, mean or ratio`, ""},
		{"kinds disagree", sumHeader + "m,control,mean,10,5,7\nm,treatment,binary,10,5,5\n", nil, `data.csv:3: column "kind": "binary", but line 2 says metric "m" is mean`, ""},
		{"duplicate summary row", sumHeader + "m,control,mean,10,5,7\nm,control,mean,10,5,7\n", nil, `data.csv:3: column "variant": a second row for metric "m", variant "control" (the first is on line 2)`, ""},
		{"units 0 with a sum", sumHeader + "m,control,mean,0,5,7\n", nil, `data.csv:2: column "sum": 5, but units is 0`, ""},
		{"ratio without den", sumHeader + "m,control,ratio,10,5,7\n", nil, `data.csv:2: column "kind": a ratio metric needs the columns den_sum`, ""},
		{"den on a mean", "metric,variant,kind,units,sum,sum_sq,den_sum,den_sum_sq,den_cross\nm,control,mean,10,5,7,1,1,1\n", nil, `data.csv:2: column "den_sum": given for a mean metric`, ""},
		{"den_sum_sq", "metric,variant,kind,units,sum,sum_sq,den_sum,den_sum_sq,den_cross\nm,control,ratio,10,5,7,10,1,5\n", nil, `data.csv:2: column "den_sum_sq": 1 is less than den_sum²/units`, ""},
		{"pre_cross", "metric,variant,kind,units,sum,sum_sq,pre_sum,pre_sum_sq,pre_cross\nm,control,mean,10,10,20,10,20,100\n", nil, `data.csv:2: column "pre_cross": 100 implies a correlation beyond ±1`, ""},
		{"partial pre columns", "metric,variant,kind,units,sum,sum_sq,pre_sum\nm,control,mean,10,10,20,10\n", nil, `data.csv:1: column "pre_sum_sq": pre_sum, pre_sum_sq, pre_cross must come together`, ""},
		{"segment only", "metric,variant,kind,units,sum,sum_sq,segment\nm,control,mean,10,10,20,a=b\n", nil, `data.csv:2: column "segment": metric "m" has only segment rows`, ""},
		{"unknown weight variant", ok, []string{"--weights", "control=1,treatment=1,b=1"}, `--weights: unknown variant "b"`, ""},
		{"missing weight", ok, []string{"--weights", "control=1"}, `--weights: no weight for variant "treatment"`, ""},
		{"unknown control", ok, []string{"--control", "nope"}, `--control "nope": no such variant`, ""},
		{"unknown metric in --kind", ok, []string{"--kind", "zzz=mean"}, `unknown metric "zzz" in a flag`, ""},
		{"ratio without denominator", ok, []string{"--kind", "m=ratio"}, `--kind m=ratio needs a denominator column`, ""},
		{"cap on summary", sumHeader + "m,control,mean,10,10,20\n", []string{"--cap", "m=3"}, `--cap needs per-unit input`, ""},
		{"claims syntax", ok, nil, `claims.json:3: invalid character`, "[\n{\"id\": \"a\",\n\"kind\" \"share\"}\n]"},
		{"claims type", ok, nil, `claims.json:2: column "survey_n": want int64, got a JSON string`, "[\n{\"id\": \"a\", \"survey_n\": \"many\"}\n]"},
		{"claims unknown field", ok, nil, `claims.json:3: json: unknown field "stated"`, "[\n{\"id\": \"x\", \"kind\": \"share\"},\n{\"id\": \"a\", \"stated\": 0.7}\n]"},
		{"claims not an array", ok, nil, `claims.json:1: want a JSON array`, "{}"},
		{"claims unknown metric", ok, nil, `claims.json:3: column "metric": claim "b": names no metric of the experiment: "zzz"`,
			"[\n{\"id\": \"a\", \"statement\": \"s\", \"kind\": \"share\", \"metric\": \"m\", \"stated_share\": 0.7, \"survey_n\": 10},\n  {\"id\": \"b\", \"statement\": \"s\", \"kind\": \"share\", \"metric\": \"zzz\", \"stated_share\": 0.7, \"survey_n\": 10}]"},
		{"claims missing statement", ok, nil, `claims.json:2: column "statement": claim "a": is required`,
			"[\n{\"id\": \"a\", \"kind\": \"share\", \"metric\": \"m\", \"stated_share\": 0.7, \"survey_n\": 10}]"},
		{"claims segment gap of one respondent", ok, nil, `claims.json:2: column "survey_n": claim "g": must be at least 2`,
			"[\n{\"id\": \"g\", \"statement\": \"s\", \"kind\": \"segment_gap\", \"metric\": \"m\", \"segment_a\": \"a=1\", \"segment_b\": \"a=2\", \"stated_a\": 0.7, \"stated_b\": 0.5, \"survey_n\": 1}]"},
		{"claims trailing data", ok, nil, `claims.json:1: unexpected data after the array`, "[] []"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "data.csv", tt.file)
			args := append([]string{}, tt.args...)
			if tt.claim != "" {
				args = append(args, "--claims", writeFile(t, "claims.json", tt.claim))
			}
			code, out, errOut := runCLI(t, "", append(args, path)...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "Usage: revealed analyze"},
		{"no file", nil, 2, "no input file"},
		{"two files", []string{"a.csv", "b.csv"}, 2, "one input file expected, got 2"},
		{"unknown flag", []string{"--colour", "x.csv"}, 2, "flag provided but not defined: -colour"},
		{"format", []string{"--format", "xml", "x.csv"}, 2, `--format "xml"`},
		{"alpha", []string{"--alpha", "0.7", "x.csv"}, 2, "--alpha 0.7: must be between 0 and 0.5"},
		{"correction", []string{"--correction", "bonferroni", "x.csv"}, 2, `--correction "bonferroni"`},
		{"sequential", []string{"--sequential", "-5", "x.csv"}, 2, `--sequential "-5"`},
		{"weights", []string{"--weights", "a=0,b=1", "x.csv"}, 2, `--weights: weight "0" of "a"`},
		{"weights syntax", []string{"--weights", "a", "x.csv"}, 2, `--weights: "a": want key=value`},
		{"kind", []string{"--kind", "m=median", "x.csv"}, 2, `kind "median"`},
		{"cap percentile", []string{"--cap", "m=p100", "x.csv"}, 2, `percentile "p100"`},
		{"cap binary", []string{"--cap", "m=3", "--kind", "m=binary", "x.csv"}, 2, `a binary metric cannot be capped`},
		{"missing file", []string{"/nonexistent/x.csv"}, 2, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output %q, want it to contain %q", out+errOut, tt.want)
			}
		})
	}
}

// TestHeaderDetection: either kind of file, in any column order and case.
func TestHeaderDetection(t *testing.T) {
	tests := []struct {
		name, file string
		perUnit    bool
	}{
		{"per-unit", "unit_id,variant,metric,value\nu1,a,m,1\nu2,b,m,0\n", true},
		{"per-unit reordered", "value,metric,variant,unit_id\n1,m,a,u1\n0,m,b,u2\n", true},
		{"per-unit case and spaces", " Unit_ID , VARIANT,Metric,value\nu1,a,m,1\nu2,b,m,0\n", true},
		{"per-unit all optional", "unit_id,variant,metric,value,segment,covariate,denominator\nu1,a,m,1,s=1,2,1\nu2,b,m,0,s=2,1,1\n", true},
		{"summary", "metric,variant,kind,units,sum,sum_sq\nm,a,binary,10,5,5\nm,b,binary,10,6,6\n", false},
		{"summary reordered", "units,kind,sum_sq,sum,variant,metric,segment\n10,binary,5,5,a,m,\n10,binary,6,6,b,m,\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := readData(context.Background(), strings.NewReader(tt.file), "f.csv", readOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d.perUnit != tt.perUnit || len(d.metrics) != 1 || len(d.variants) != 2 {
				t.Errorf("perUnit=%v metrics=%d variants=%v", d.perUnit, len(d.metrics), d.variants)
			}
		})
	}
}

// TestBOMAndCRLF: a byte-order mark and Windows line endings change
// nothing.
func TestBOMAndCRLF(t *testing.T) {
	plain, err := os.ReadFile("testdata/summary.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCLI(t, "", "--format", "json", "--experiment", "x", "testdata/summary.csv")
	for name, content := range map[string]string{
		"bom":      "\uFEFF" + string(plain),
		"crlf":     strings.ReplaceAll(string(plain), "\n", "\r\n"),
		"bom+crlf": "\uFEFF" + strings.ReplaceAll(string(plain), "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			code, got, errOut := runCLI(t, "", "--format", "json", "--experiment", "x", writeFile(t, "s.csv", content))
			if code != 0 || got != want {
				t.Errorf("exit %d, %s\ngot  %s\nwant %s", code, errOut, got, want)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	b, err := os.ReadFile("testdata/perunit.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCLI(t, "", "--format", "csv", "testdata/perunit.csv")
	code, got, errOut := runCLI(t, string(b), "--format", "csv", "-")
	if code != 0 || got != want {
		t.Errorf("exit %d, %s; stdin output differs:\n%s", code, errOut, got)
	}
	_, js, _ := runCLI(t, string(b), "--format", "json", "-")
	if !strings.HasPrefix(js, `{"experiment":"",`) {
		t.Errorf("stdin report names an experiment: %.40s", js)
	}
}

func TestControlSelection(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		want       string
	}{
		{"first seen", "unit_id,variant,metric,value\nu1,b,m,1\nu2,a,m,0\n", nil, "b"},
		{"named control", "unit_id,variant,metric,value\nu1,b,m,1\nu2,control,m,0\nu3,a,m,1\n", nil, "control"},
		{"flag wins", "unit_id,variant,metric,value\nu1,b,m,1\nu2,control,m,0\nu3,a,m,1\n", []string{"--control", "a"}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"--format", "json"}, tt.args...), writeFile(t, "d.csv", tt.file))
			code, out, errOut := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var r analysis.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			for _, c := range r.Metrics[0].Comparisons {
				if c.Control != tt.want {
					t.Errorf("control = %q, want %q", c.Control, tt.want)
				}
			}
			if got := len(r.Metrics[0].Comparisons); got != len(r.SRM.Variants)-1 {
				t.Errorf("%d comparisons for %d variants", got, len(r.SRM.Variants))
			}
		})
	}
}

func TestWeights(t *testing.T) {
	// 300 control and 100 treatment units: a mismatch at equal weights,
	// exactly as configured at 3:1.
	var b strings.Builder
	b.WriteString("unit_id,variant,metric,value\n")
	for i := range 400 {
		v := "control"
		if i%4 == 3 {
			v = "treatment"
		}
		fmt.Fprintf(&b, "u%d,%s,m,%d\n", i, v, i%2)
	}
	path := writeFile(t, "d.csv", b.String())
	for _, tt := range []struct {
		args   []string
		status string
		expect float64 // control's expected units
	}{
		{nil, analysis.SRMMismatch, 200},
		{[]string{"--weights", "treatment=1, control=3"}, analysis.SRMOK, 300},
	} {
		code, out, errOut := runCLI(t, "", append(append([]string{"--format", "json"}, tt.args...), path)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var r analysis.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.SRM.Status != tt.status || r.SRM.Variants[0].Expected != tt.expect || r.SRM.Variants[0].Observed != 300 {
			t.Errorf("%v: SRM %+v", tt.args, r.SRM)
		}
	}
}

func TestKindOverrideAndCap(t *testing.T) {
	const file = "unit_id,variant,metric,value\n" +
		"u1,control,m,0\nu2,control,m,1\nu3,treatment,m,1\nu4,treatment,m,1\n" +
		"u1,control,r,0\nu2,control,r,2.5\nu3,treatment,r,7\nu4,treatment,r,-1\n"
	tests := []struct {
		name  string
		args  []string
		metri int
		kind  analysis.Kind
		stats analysis.Stats // control's
		treat analysis.Stats
	}{
		{"detected binary", nil, 0, analysis.Binary, analysis.Stats{Units: 2, Sum: 1, SumSq: 1}, analysis.Stats{Units: 2, Sum: 2, SumSq: 2}},
		{"forced mean", []string{"--kind", "m=mean"}, 0, analysis.Mean, analysis.Stats{Units: 2, Sum: 1, SumSq: 1}, analysis.Stats{Units: 2, Sum: 2, SumSq: 2}},
		{"detected mean", nil, 1, analysis.Mean, analysis.Stats{Units: 2, Sum: 2.5, SumSq: 6.25}, analysis.Stats{Units: 2, Sum: 6, SumSq: 50}},
		{"forced binary: positive is 1", []string{"--kind", "r=binary"}, 1, analysis.Binary, analysis.Stats{Units: 2, Sum: 1, SumSq: 1}, analysis.Stats{Units: 2, Sum: 1, SumSq: 1}},
		{"capped", []string{"--cap", "r=5"}, 1, analysis.Mean, analysis.Stats{Units: 2, Sum: 2.5, SumSq: 6.25}, analysis.Stats{Units: 2, Sum: 4, SumSq: 26}},
		// Pooled values -1, 0, 2.5, 7: the median (type 7) is 1.25.
		{"capped at p50", []string{"--cap", "r=p50"}, 1, analysis.Mean, analysis.Stats{Units: 2, Sum: 1.25, SumSq: 1.5625}, analysis.Stats{Units: 2, Sum: 0.25, SumSq: 2.5625}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(append(tt.args, "x.csv"))
			if err != nil {
				t.Fatal(err)
			}
			d, err := readData(context.Background(), strings.NewReader(file), "f.csv", readOptions{kinds: o.kinds, caps: o.caps})
			if err != nil {
				t.Fatal(err)
			}
			m := d.metrics[tt.metri]
			if m.Kind != tt.kind || m.Arms[0].Stats != tt.stats || m.Arms[1].Stats != tt.treat {
				t.Errorf("got %s %+v %+v, want %s %+v %+v", m.Kind, m.Arms[0].Stats, m.Arms[1].Stats, tt.kind, tt.stats, tt.treat)
			}
		})
	}
}

// TestPerUnitRatio: a denominator column makes a ratio metric.
func TestPerUnitRatio(t *testing.T) {
	const file = "unit_id,variant,metric,value,denominator\n" +
		"u1,control,csat,9,2\nu2,control,csat,4,1\nu2,control,csat,3,1\n" +
		"u3,treatment,csat,10,2\nu4,treatment,csat,0,0\nu5,treatment,csat,5,1\n"
	d, err := readData(context.Background(), strings.NewReader(file), "f.csv", readOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := d.metrics[0]
	want := analysis.Stats{Units: 2, Sum: 16, SumSq: 130, DenSum: 4, DenSumSq: 8, DenCross: 32}
	if m.Kind != analysis.Ratio || m.Arms[0].Stats != want {
		t.Errorf("got %s %+v, want ratio %+v", m.Kind, m.Arms[0].Stats, want)
	}
}

// TestSummaryUnitsDisagree: the SRM check uses the first metric's units
// and says so, on stderr and in the report.
func TestSummaryUnitsDisagree(t *testing.T) {
	path := writeFile(t, "s.csv", "metric,variant,kind,units,sum,sum_sq\n"+
		"a,control,binary,100,50,50\na,treatment,binary,100,60,60\n"+
		"b,control,binary,90,50,50\nb,treatment,binary,100,60,60\n")
	code, out, errOut := runCLI(t, "", "--format", "json", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r analysis.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(errOut, "warning: "+r.Warnings[0]) {
		t.Errorf("warnings %q, stderr %q", r.Warnings, errOut)
	}
	if r.SRM.Variants[0].Observed != 100 {
		t.Errorf("SRM uses %d control units, want the first metric's 100", r.SRM.Variants[0].Observed)
	}
}

// TestNoNaN: degenerate data (zero variance, one unit, control mean 0)
// still gives valid JSON, with the reasons in the report.
func TestNoNaN(t *testing.T) {
	path := writeFile(t, "s.csv", "metric,variant,kind,units,sum,sum_sq\n"+
		"zero,control,mean,10,0,0\nzero,treatment,mean,10,0,0\n"+
		"one,control,mean,1,3,9\none,treatment,mean,5,5,6\n"+
		"empty,control,binary,0,0,0\nempty,treatment,binary,4,4,4\n")
	for _, format := range []string{"json", "csv", "text"} {
		code, out, errOut := runCLI(t, "", "--format", format, path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		if strings.Contains(strings.ToLower(out), "nan") || strings.Contains(out, "Inf") {
			t.Errorf("%s output has NaN or Inf:\n%s", format, out)
		}
		if format == "json" && !json.Valid([]byte(out)) {
			t.Errorf("invalid JSON: %s", out)
		}
	}
}

func TestCanceled(t *testing.T) {
	var b bytes.Buffer
	if err := writePerUnitCSV(&b, 20000, 1, 1, []string{"unit_id", "variant", "metric", "value"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	if code := Run(ctx, []string{"-"}, &b, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "canceled") {
		t.Errorf("exit %d, stderr %q; want 1 and context canceled", code, errOut.String())
	}
}

// TestPrior: --prior sets a metric's proper prior for chance_to_win, and
// only that metric's.
func TestPrior(t *testing.T) {
	chance := func(args ...string) map[string]float64 {
		t.Helper()
		code, out, errs := runCLI(t, "", append([]string{"--format", "json"}, append(args, "testdata/perunit.csv")...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r analysis.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, m := range r.Metrics {
			if c := m.Comparisons[0].ChanceToWin; c != nil {
				got[m.Metric] = *c
			}
		}
		return got
	}
	flat := chance()
	// A tight prior that the relative effect is −50% pulls chance_to_win down.
	skeptical := chance("--prior", "resolved=-0.5:0.0001")
	if !(skeptical["resolved"] < flat["resolved"]) || skeptical["chose_human"] != flat["chose_human"] {
		t.Fatalf("flat %v, with a prior on resolved %v", flat, skeptical)
	}
	for _, bad := range []string{"resolved=0", "resolved=0:-1", "resolved=a:b", "nps=0:0.1"} {
		if code, _, _ := runCLI(t, "", "--prior", bad, "testdata/perunit.csv"); code != 2 {
			t.Errorf("--prior %s: exit %d, want 2", bad, code)
		}
	}
}
