package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

const scoreboardExample = "testdata/scoreboard/results.csv"

func runScoreboardCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = RunScoreboard(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// scoreboardJSON runs the scoreboard on a file's content and decodes its JSON.
func scoreboardJSON(t *testing.T, content string, args ...string) scoreboardReport {
	t.Helper()
	code, out, errOut := runScoreboardCLI(t, content, append([]string{"--format", "json", "-"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r scoreboardReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func readExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(scoreboardExample)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScoreboardGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"golden.txt", []string{scoreboardExample}},
		{"golden.json", []string{"--format", "json", scoreboardExample}},
		{"golden.csv", []string{scoreboardExample, "--format=csv"}},
		{"golden-alpha10.txt", []string{"--alpha", "0.1", "--margin", "0.02", scoreboardExample}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runScoreboardCLI(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "scoreboard", tt.golden)
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

// TestScoreboardPooledIndependently reads the example the simple way (every
// line split at commas: its statements have none) and pools each statement
// with analysis.PoolRandomEffects and analysis.JudgePooled directly: the
// CLI's figures must be exactly these, its weights 1/(seᵢ² + τ²) normalised.
func TestScoreboardPooledIndependently(t *testing.T) {
	content := readExample(t)
	lines := strings.Split(strings.TrimSpace(content), "\n")
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ",") {
		col[h] = i
	}
	type row struct {
		experiment        string
		estimate, se, n   float64
		stated, kind, raw string
	}
	rows := map[string][]row{}
	var order []string
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		st := f[col["statement"]]
		if _, ok := rows[st]; !ok {
			order = append(order, st)
		}
		num := func(c string) float64 {
			x, err := strconv.ParseFloat(f[col[c]], 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		rows[st] = append(rows[st], row{f[col["experiment"]], num("estimate"), num("se"), num("n"), f[col["stated"]], f[col["kind"]], line})
	}

	got := scoreboardJSON(t, content)
	if len(got.Statements) != len(order) {
		t.Fatalf("%d statements, want %d", len(got.Statements), len(order))
	}
	for i, name := range order {
		s := got.Statements[i]
		t.Run(name, func(t *testing.T) {
			if s.Statement != name {
				t.Fatalf("statement %d is %q, want %q (order first seen)", i, s.Statement, name)
			}
			var studies []analysis.MetaStudy
			n := 0.0
			for _, r := range rows[name] {
				studies = append(studies, analysis.MetaStudy{Label: r.experiment, Estimate: r.estimate, SE: r.se})
				n += r.n
			}
			m := analysis.PoolRandomEffects(studies, analysis.DefaultAlpha)
			want := sbPooled{Estimate: m.Estimate, SE: m.SE, CI: m.CI, DF: m.DF, Tau2: m.Tau2, I2: m.I2, PI: m.PI,
				N: int64(n), NullReason: m.NullReason}
			if !reflect.DeepEqual(s.Pooled, want) {
				t.Errorf("pooled %s\nwant   %s", jsonOf(t, s.Pooled), jsonOf(t, want))
			}
			if s.K != len(studies) || len(s.Tests) != len(studies) {
				t.Errorf("k %d, %d tests; want %d", s.K, len(s.Tests), len(studies))
			}
			tau2 := 0.0
			if m.Tau2 != nil {
				tau2 = *m.Tau2
			}
			sum := 0.0
			for _, st := range studies {
				sum += 1 / (st.SE*st.SE + tau2)
			}
			for j, tr := range s.Tests {
				st := studies[j]
				if tr.Experiment != st.Label || tr.Estimate != st.Estimate || tr.SE != st.SE || tr.N != int64(rows[name][j].n) {
					t.Errorf("test %d is %+v, want %+v", j, tr, st)
				}
				w := 1 / (st.SE*st.SE + tau2) / sum
				if tr.Weight == nil || math.Abs(*tr.Weight-w) > 1e-12 {
					t.Errorf("weight of %s: %v, want %v", st.Label, tr.Weight, w)
				}
				z := 1.959963984540054
				if math.Abs(tr.CI[0]-(st.Estimate-z*st.SE)) > 1e-12 || math.Abs(tr.CI[1]-(st.Estimate+z*st.SE)) > 1e-12 {
					t.Errorf("CI of %s: %v", st.Label, *tr.CI)
				}
			}
			if len(studies) == 1 && (*s.Pooled.Estimate != studies[0].Estimate || *s.Pooled.SE != studies[0].SE ||
				*s.Pooled.CI != *s.Tests[0].CI) {
				t.Errorf("one test: pooled %s, want the test itself %s", jsonOf(t, s.Pooled), jsonOf(t, s.Tests[0]))
			}

			stated := rows[name][0].stated
			if stated == "" {
				if s.Stated != nil || s.Verdict != nil || s.Magnitude != nil || s.Gap != nil {
					t.Errorf("no stated figure, yet stated %v, verdict %v, magnitude %v", s.Stated, s.Verdict, s.Magnitude)
				}
				return
			}
			x, _ := strconv.ParseFloat(stated, 64)
			null := 0.0
			if rows[name][0].kind == "share" {
				null = 0.5
			}
			v := analysis.JudgePooled(m, x, null, analysis.DefaultMargin)
			if s.Stated == nil || *s.Stated != x || s.Null != null || *s.Verdict != v.Verdict || *s.Magnitude != v.Magnitude ||
				!reflect.DeepEqual(s.Gap, v.Gap) || !reflect.DeepEqual(s.GapCI, v.GapCI) ||
				!reflect.DeepEqual(s.GapPValue, v.GapPValue) || !reflect.DeepEqual(s.EquivalenceCI, v.EquivalenceCI) {
				t.Errorf("statement %s\nwant verdict %s", jsonOf(t, s), jsonOf(t, v))
			}
		})
	}
	// The example is chosen to show each kind of answer once or more.
	const want = "Of 5 statements, 1 holds as stated, 2 hold but are overstated, 1 is inconclusive, 1 states no figure to test."
	if got.Summary != want {
		t.Errorf("summary %q, want %q", got.Summary, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rewrite rewrites the example's rows with f, which gets the header's
// columns and a row's fields and returns the new fields.
func rewrite(t *testing.T, header []string, f func(col map[string]int, fields []string) []string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readExample(t)), "\n")
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ",") {
		col[h] = i
	}
	out := []string{strings.Join(header, ",")}
	for _, line := range lines[1:] {
		out = append(out, strings.Join(f(col, strings.Split(line, ",")), ","))
	}
	return strings.Join(out, "\n") + "\n"
}

// TestScoreboardCIForm gives each test as a 95% interval estimate ± 1.959964·se
// instead of se: the figures must agree with the se form to the rounding of
// 1.959964.
func TestScoreboardCIForm(t *testing.T) {
	header := []string{"statement", "experiment", "estimate", "ci_lo", "ci_hi", "n", "stated", "kind"}
	ci := rewrite(t, header, func(col map[string]int, f []string) []string {
		est, _ := strconv.ParseFloat(f[col["estimate"]], 64)
		se, _ := strconv.ParseFloat(f[col["se"]], 64)
		g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		return []string{f[col["statement"]], f[col["experiment"]], f[col["estimate"]], g(est - 1.959964*se), g(est + 1.959964*se),
			f[col["n"]], f[col["stated"]], f[col["kind"]]}
	})
	bySE, byCI := scoreboardJSON(t, readExample(t)), scoreboardJSON(t, ci)
	var a, b map[string]any
	json.Unmarshal([]byte(jsonOf(t, bySE)), &a)
	json.Unmarshal([]byte(jsonOf(t, byCI)), &b)
	if diff := closeJSON(a, b, ""); diff != "" {
		t.Error(diff)
	}
}

// closeJSON compares decoded JSON, numbers within 1e-7 relative, or 1e-8
// absolute: 1.959964 is the quantile to 4e-9 relative, and a figure near 0
// that is a difference of figures of order 1 (a gap's bound) keeps that
// error in absolute terms.
func closeJSON(a, b any, path string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return path + ": different shapes"
		}
		for k := range x {
			if d := closeJSON(x[k], y[k], path+"."+k); d != "" {
				return d
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path + ": different lengths"
		}
		for i := range x {
			if d := closeJSON(x[i], y[i], path+"["+strconv.Itoa(i)+"]"); d != "" {
				return d
			}
		}
	case float64:
		y, ok := b.(float64)
		if !ok || math.Abs(x-y) > math.Max(1e-7*math.Abs(x), 1e-8) {
			return path + ": " + jsonString(a) + " vs " + jsonString(b)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			return path + ": " + jsonString(a) + " vs " + jsonString(b)
		}
	}
	return ""
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestScoreboardRowOrder: a statement's rows may be anywhere. The example
// interleaves them; grouped, each statement's answer is the same.
func TestScoreboardRowOrder(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(readExample(t)), "\n")
	body := slices.Clone(lines[1:])
	slices.SortStableFunc(body, func(a, b string) int {
		sa, _, _ := strings.Cut(a, ",")
		sb, _, _ := strings.Cut(b, ",")
		return strings.Compare(sb, sa) // reverse, so that the order of statements changes too
	})
	grouped := scoreboardJSON(t, lines[0]+"\n"+strings.Join(body, "\n")+"\n")
	interleaved := scoreboardJSON(t, readExample(t))
	byName := map[string]sbStatementResult{}
	for _, s := range grouped.Statements {
		byName[s.Statement] = s
	}
	if grouped.Statements[0].Statement == interleaved.Statements[0].Statement {
		t.Fatal("the statements are in the same order: the test does not reorder")
	}
	for _, s := range interleaved.Statements {
		if !reflect.DeepEqual(s, byName[s.Statement]) {
			t.Errorf("%q differs when its rows are together:\n%s\n%s", s.Statement, jsonOf(t, s), jsonOf(t, byName[s.Statement]))
		}
	}
	if grouped.Summary != interleaved.Summary {
		t.Errorf("summary %q, want %q", grouped.Summary, interleaved.Summary)
	}
}

// TestScoreboardHeader: any column order, any case, a byte-order mark and
// CRLF line endings read the same; so does standard input against a file.
func TestScoreboardHeader(t *testing.T) {
	header := []string{"KIND", " Stated", "N", "SE", "Estimate", "Experiment", "Statement"}
	content := rewrite(t, header, func(col map[string]int, f []string) []string {
		out := make([]string, len(header))
		for i, h := range header {
			out[i] = f[col[strings.ToLower(strings.TrimSpace(h))]]
		}
		return out
	})
	content = "\uFEFF" + strings.ReplaceAll(content, "\n", "\r\n")
	want := scoreboardJSON(t, readExample(t))
	if got := scoreboardJSON(t, content); !reflect.DeepEqual(got, want) {
		t.Errorf("got %s\nwant %s", jsonOf(t, got), jsonOf(t, want))
	}
	_, fromFile, _ := runScoreboardCLI(t, "", "--format", "json", scoreboardExample)
	if fromFile != jsonOf(t, want)+"\n" {
		t.Errorf("a file and standard input differ:\n%s", fromFile)
	}
}

// TestScoreboardNoKindOrStated: both columns are optional; a statement is
// then an effect with no stated figure, and the JSON holds nulls, not NaN.
func TestScoreboardNoKindOrStated(t *testing.T) {
	code, out, errOut := runScoreboardCLI(t, "statement,experiment,estimate,se,n\ns,a,1,0.5,10\ns,b,1,0.5,10\n", "--format", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"kind":"effect"`, `"stated":null`, `"verdict":null`, `"magnitude":null`, `"tau2":0`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in %s", want, out)
		}
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Errorf("non-finite number in %s", out)
	}
}

// TestScoreboardOutcomes covers the answers the example does not show,
// and a figure so large that the pooled interval overflows.
func TestScoreboardOutcomes(t *testing.T) {
	in := "statement,experiment,estimate,se,n,stated,kind\n" +
		"contra,a,0.3,0.01,100,0.7,share\ncontra,b,0.32,0.01,100,0.7,share\n" +
		"half,a,0.6,0.01,100,0.5,share\n" +
		"under,a,0.5,0.01,100,0.1,effect\n" +
		"unclear,a,0.2,0.05,100,0.25,effect\n" +
		"huge,a,1.5e308,1e308,100,1,effect\n"
	r := scoreboardJSON(t, in)
	const want = "Of 5 statements, 1 holds but is understated, 1 holds with its size not yet clear, 1 is contradicted, 1 states no direction, 1 could not be pooled."
	if r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
	huge := r.Statements[4]
	if huge.Pooled.CI != nil || *huge.Verdict != analysis.Inconclusive || huge.Magnitude != nil || huge.Tests[0].CI != nil {
		t.Errorf("huge: %s", jsonOf(t, huge))
	}
	code, out, errOut := runScoreboardCLI(t, in, "-")
	if code != 0 || !strings.Contains(out, "verdict: INCONCLUSIVE (nothing pooled to test it against).") ||
		!strings.Contains(out, "pooled: no interval (values out of floating-point range)") {
		t.Errorf("exit %d, %s\n%s", code, errOut, out)
	}
	if code, out, _ := runScoreboardCLI(t, in, "--format", "csv", "-"); code != 0 || strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Errorf("csv: exit %d\n%s", code, out)
	}
}

func TestScoreboardErrors(t *testing.T) {
	const h = "statement,experiment,estimate,se,n,stated,kind\n"
	const ci = "statement,experiment,estimate,ci_lo,ci_hi,n\n"
	const all = "statement,experiment,estimate,se,n or statement,experiment,estimate,ci_lo,ci_hi,n"
	tests := []struct{ name, in, want string }{
		{"empty", "", `stdin:1: empty file: a header line is needed`},
		{"no rows", h, `stdin:2: no data rows after the header`},
		{"no estimate", "statement,experiment,se,n\na,b,1,2\n", `stdin:1: column "estimate": missing from the header (` + all + `)`},
		{"no se", "statement,experiment,estimate,n\na,b,1,2\n", `stdin:1: column "se": missing from the header (` + all + `)`},
		{"se and ci", "statement,experiment,estimate,se,ci_lo,ci_hi,n\na,b,1,2,3,4,5\n", `stdin:1: column "se": the header has both se and ci_lo/ci_hi; give one form of the uncertainty`},
		{"ci_lo alone", "statement,experiment,estimate,ci_lo,n\na,b,1,2,3\n", `stdin:1: column "ci_hi": missing from the header, which has ci_lo`},
		{"ci_hi alone", "statement,experiment,estimate,ci_hi,n\na,b,1,2,3\n", `stdin:1: column "ci_lo": missing from the header, which has ci_hi`},
		{"unknown column", "statement,experiment,estimate,se,n,weight\na,b,1,2,3,4\n", `stdin:1: column "weight": unknown column (allowed: statement,experiment,estimate,n,se,ci_lo,ci_hi,stated,kind)`},
		{"column twice", "statement,experiment,estimate,se,n,Estimate\na,b,1,2,3,4\n", `stdin:1: column "estimate": appears twice in the header`},
		{"fields", h + "s,e,1,0.1,10\n", `stdin:2: 5 fields, but the header has 7`},
		{"not a number", h + "s,e,abc,0.1,10,,\n", `stdin:2: column "estimate": "abc" is not a number`},
		{"NaN", h + "s,e,NaN,0.1,10,,\n", `stdin:2: column "estimate": "NaN" is not a finite number`},
		{"stated not a number", h + "s,e,1,0.1,10,most,\n", `stdin:2: column "stated": "most" is not a number`},
		{"se 0", h + "s,e,1,0,10,,\n", `stdin:2: column "se": 0: a standard error must be positive`},
		{"se negative", h + "s,e,1,-0.5,10,,\n", `stdin:2: column "se": -0.5: a standard error must be positive`},
		{"se empty", h + "s,e,1,,10,,\n", `stdin:2: column "se": empty, a number is needed`},
		{"ci_lo above ci_hi", ci + "s,e,0.5,0.6,0.4,10\n", `stdin:2: column "ci_lo": 0.6 is above ci_hi 0.4`},
		{"zero-width ci", ci + "s,e,0.5,0.5,0.5,10\n", `stdin:2: column "ci_hi": 0.5 equals ci_lo: a zero-width interval gives no standard error`},
		{"estimate outside ci", ci + "s,e,0.7,0.4,0.6,10\n", `stdin:2: column "estimate": 0.7 is outside its interval [0.4, 0.6]`},
		{"n 0", h + "s,e,1,0.1,0,,\n", `stdin:2: column "n": 0: want the units behind the estimate, a whole number ≥ 1`},
		{"n fraction", h + "s,e,1,0.1,1.5,,\n", `stdin:2: column "n": 1.5: want the units behind the estimate, a whole number ≥ 1`},
		{"duplicate test", h + "s,e,1,0.1,10,,\nt,e,1,0.1,10,,\ns,e,2,0.1,10,,\n", `stdin:4: column "experiment": statement "s" already has a row for experiment "e", on line 2`},
		{"stated differs", h + "s,e,1,0.1,10,0.5,\nt,e,1,0.1,10,,\ns,f,2,0.1,10,0.6,\n", `stdin:4: column "stated": statement "s": 0.6 here but 0.5 on line 2; a statement has one stated figure, on every row`},
		{"stated missing", h + "s,e,1,0.1,10,0.5,\ns,f,2,0.1,10,,\n", `stdin:3: column "stated": statement "s": none here but 0.5 on line 2; a statement has one stated figure, on every row`},
		{"kind differs", h + "s,e,1,0.1,10,,share\ns,f,0.2,0.1,10,,\n", `stdin:3: column "kind": statement "s": effect here but share on line 2; a statement has one kind`},
		{"unknown kind", h + "s,e,1,0.1,10,,ratio\n", `stdin:2: column "kind": "ratio": want share, effect or gap (empty: effect)`},
		{"share in percent", h + "s,e,74,0.1,10,,share\n", `stdin:2: column "estimate": 74: a share is between 0 and 1 (e.g. 0.74 for 74%)`},
		{"stated share in percent", h + "s,e,0.7,0.1,10,74,share\n", `stdin:2: column "stated": 74: a share is between 0 and 1 (e.g. 0.74 for 74%)`},
		{"gap beyond 1", h + "s,e,1.5,0.1,10,,gap\n", `stdin:2: column "estimate": 1.5: a gap between shares is between -1 and 1 (e.g. 0.25 for 25 points)`},
		{"no statement", h + ",e,1,0.1,10,,\n", `stdin:2: column "statement": empty; each row names the statement it tests`},
		{"no experiment", h + "s, ,1,0.1,10,,\n", `stdin:2: column "experiment": empty; each row names the experiment that tested the statement`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runScoreboardCLI(t, tt.in, "-")
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			if want := "revealed scoreboard: " + tt.want + "\n"; errOut != want {
				t.Errorf("stderr\n%q\nwant\n%q", errOut, want)
			}
		})
	}
}

func TestScoreboardUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stderr, or in stdout for exit 0
	}{
		{[]string{"-h"}, 0, "Usage: revealed scoreboard"},
		{nil, 2, "revealed scoreboard: no input file (use - for standard input)\n"},
		{[]string{"a.csv", "b.csv"}, 2, "one input file expected, got 2: a.csv b.csv"},
		{[]string{"--format", "html", "-"}, 2, `--format "html": want text, json or csv`},
		{[]string{"--alpha", "0.5", "-"}, 2, "--alpha 0.5: must be between 0 and 0.5, e.g. 0.05"},
		{[]string{"--margin", "0", "-"}, 2, "--margin 0: must be a positive number, e.g. 0.05"},
		{[]string{"--margin", "-0.1", "-"}, 2, "--margin -0.1: must be a positive number, e.g. 0.05"},
		{[]string{"--bogus", "-"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"no-such-file.csv"}, 2, "open no-such-file.csv: no such file or directory"},
	}
	for _, tt := range tests {
		code, out, errOut := runScoreboardCLI(t, "statement,experiment,estimate,se,n\ns,e,1,1,1\n", tt.args...)
		got := errOut
		if tt.code == 0 {
			got = out
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
}

func TestScoreboardCanceled(t *testing.T) {
	var b strings.Builder
	b.WriteString("statement,experiment,estimate,se,n\n")
	for i := range 2 * ctxEvery {
		b.WriteString("s,e" + strconv.Itoa(i) + ",1,1,1\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := RunScoreboard(ctx, []string{"-"}, strings.NewReader(b.String()), &out, &errb); code != 1 {
		t.Errorf("exit %d (%s), want 1 for an interrupted run", code, errb.String())
	}
}
