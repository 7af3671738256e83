package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

// The committed example: 240 units rating 5 drivers, a few with an empty
// cell, and the survey's stated shares.
const (
	driversRatings = "testdata/drivers/ratings.csv"
	driversStated  = "testdata/drivers/stated.csv"
	driversUnits   = 240
	driversCount   = 5
)

func runDriversCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = RunDrivers(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDriversGeneratedTestdata keeps the example what the generator makes.
func TestDriversGeneratedTestdata(t *testing.T) {
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{driversRatings, func(w io.Writer) error { return writeDriverRatingsCSV(w, driversUnits, driversCount, 11, 40) }},
		{driversStated, func(w io.Writer) error { return writeDriverStatedCSV(w, driversCount) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(f.path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s differs from the generator's output; run go test -update", f.path)
		}
	}
}

func TestDriversGolden(t *testing.T) {
	base := []string{"--outcome", "overall", "--stated", driversStated}
	tests := []struct {
		golden string
		args   []string
	}{
		{"drivers.txt", append(base, driversRatings)},
		{"drivers.json", append(base, "--format", "json", driversRatings)},
		{"drivers.csv", append(base, "--format=csv", driversRatings)},
		// Without stated shares: derived importance only.
		{"derived.txt", []string{driversRatings, "--outcome", "overall", "--alpha", "0.1", "--seed", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runDriversCLI(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "drivers", "golden", tt.golden)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
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

// naiveDriverStudy builds the study of a ratings file the simple way: the
// whole file split on commas, the drivers every column but unit_id and
// overall, an empty cell NaN, and the stated shares looked up by name. It
// shares no code with the CLI's readers. The files must be plain (no
// quotes, no BOM), as the generated ones are.
func naiveDriverStudy(t *testing.T, ratings, stated string, cfg analysis.DriverConfig) *analysis.DriverReport {
	t.Helper()
	lines := func(path string) [][]string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			out = append(out, strings.Split(l, ","))
		}
		return out
	}
	rows := lines(ratings)
	var idx []int
	unit, outcome := -1, -1
	for i, h := range rows[0] {
		switch h {
		case "unit_id":
			unit = i
		case "overall":
			outcome = i
		default:
			idx = append(idx, i)
			cfg.Drivers = append(cfg.Drivers, h)
		}
	}
	if stated != "" {
		share := map[string]analysis.StatedShare{}
		for _, r := range lines(stated)[1:] {
			s, _ := strconv.ParseFloat(r[1], 64)
			n, _ := strconv.ParseFloat(r[2], 64)
			share[r[0]] = analysis.StatedShare{Share: s, Respondents: n}
		}
		for _, d := range cfg.Drivers {
			cfg.Stated = append(cfg.Stated, share[d])
		}
	}
	cfg.Outcome = "overall"
	study, err := analysis.NewDriverStudy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	val := func(s string) float64 {
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, r := range rows[1:] {
		x := []float64{val(r[outcome])}
		for _, i := range idx {
			x = append(x, val(r[i]))
		}
		study.Add(r[unit], x)
	}
	return study.Report()
}

// TestDriversJSONEqualsStudy: the JSON output is, byte for byte, the report
// of analysis.NewDriverStudy on the same rows read independently, with the
// flags carried into the config.
func TestDriversJSONEqualsStudy(t *testing.T) {
	tests := []struct {
		name   string
		stated string
		flags  []string
		cfg    analysis.DriverConfig
	}{
		{"defaults", driversStated, nil, analysis.DriverConfig{}},
		{"flags", driversStated, []string{"--alpha", "0.1", "--bootstrap", "300", "--seed", "42"},
			analysis.DriverConfig{Alpha: 0.1, Replicates: 300, Seed: 42}},
		{"no bootstrap", driversStated, []string{"--bootstrap", "0"}, analysis.DriverConfig{Replicates: -1}},
		{"no stated", "", nil, analysis.DriverConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := naiveDriverStudy(t, driversRatings, tt.stated, tt.cfg)
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--format", "json", "--outcome", "overall", driversRatings}, tt.flags...)
			if tt.stated != "" {
				args = append(args, "--stated", tt.stated)
			}
			code, out, errOut := runDriversCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out != want.String() {
				t.Errorf("CLI JSON differs from the study's report\ncli:   %s\nstudy: %s", out, want.String())
			}
		})
	}
}

// TestDriversReportShape pins what the example is for: units left out are
// counted, the top level has the API's fields, and price, named most, is
// overrated.
func TestDriversReportShape(t *testing.T) {
	code, out, errOut := runDriversCLI(t, "", "--format", "json", "--outcome", "overall", "--stated", driversStated, driversRatings)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "left_out", "r2", "spearman", "kendall", "summary", "warnings", "drivers"} {
		if _, ok := top[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	var r analysis.DriverReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.N+r.LeftOut != driversUnits || r.LeftOut == 0 {
		t.Errorf("n = %d, left_out = %d; want them to add up to %d with some left out", r.N, r.LeftOut, driversUnits)
	}
	if d := r.Drivers[0]; d.Driver != "price" || d.Verdict != analysis.DriverOverrated {
		t.Errorf("first driver %s is %s, want price overrated", d.Driver, d.Verdict)
	}
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing", errOut)
	}
}

// TestDriversBOMAndCRLF: a spreadsheet's export (byte-order mark, CRLF,
// upper-case headers, quoted cells) gives the same report.
func TestDriversBOMAndCRLF(t *testing.T) {
	plain, err := os.ReadFile(driversRatings)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	lines[0] = strings.ToUpper(lines[0])
	lines[1] = `"` + strings.ReplaceAll(lines[1], ",", `","`) + `"`
	ratings := writeFile(t, "ratings.csv", "\uFEFF"+strings.Join(lines, "\r\n")+"\r\n")
	stated, err := os.ReadFile(driversStated)
	if err != nil {
		t.Fatal(err)
	}
	statedPath := writeFile(t, "stated.csv", "\uFEFF"+strings.ReplaceAll(strings.ToUpper(string(stated)), "\n", "\r\n"))
	_, want, _ := runDriversCLI(t, "", "--format", "json", "--outcome", "overall", "--stated", driversStated, driversRatings)
	code, got, errOut := runDriversCLI(t, "", "--format", "json", "--outcome", "OVERALL", "--stated", statedPath, ratings)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got != want {
		t.Errorf("BOM/CRLF/upper case changed the report:\n%s\nwant\n%s", got, want)
	}
}

func TestDriversStdin(t *testing.T) {
	in, err := os.ReadFile(driversRatings)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runDriversCLI(t, "", "--format", "csv", "--outcome", "overall", driversRatings)
	code, got, errOut := runDriversCLI(t, string(in), "--format", "csv", "--outcome", "overall", "-")
	if code != 0 || got != want {
		t.Errorf("exit %d (%s); stdin gives\n%s\nwant\n%s", code, errOut, got, want)
	}
}

// TestDriversSelect: --drivers picks columns, in its order, and ignores the
// others and their stated rows; the report equals that of a file with only
// those columns.
func TestDriversSelect(t *testing.T) {
	const full = "unit_id,overall,a,b,c,segment\n" +
		"u1,7,1,2,3,genz\nu2,5,2,2,1,boomer\nu3,9,3,5,4,genz\nu4,4,1,1,2,genz\nu5,8,4,3,3,boomer\nu6,6,2,4,1,genz\n"
	const only = "unit_id,overall,c,a\n" +
		"u1,7,3,1\nu2,5,1,2\nu3,9,4,3\nu4,4,2,1\nu5,8,3,4\nu6,6,1,2\n"
	stated := writeFile(t, "stated.csv", "driver,share,survey_n\na,0.5,100\nb,0.3,100\nc,0.2,100\n")
	statedOnly := writeFile(t, "stated.csv", "driver,share,survey_n\na,0.5,100\nc,0.2,100\n")
	code, got, errOut := runDriversCLI(t, "", "--format", "json", "--outcome", "overall", "--drivers", "c, A",
		"--stated", stated, writeFile(t, "full.csv", full))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, want, _ := runDriversCLI(t, "", "--format", "json", "--outcome", "overall", "--stated", statedOnly, writeFile(t, "only.csv", only))
	if got != want {
		t.Errorf("--drivers c,a:\n%s\nwant\n%s", got, want)
	}
}

// TestDriversDegenerate: degenerate data give the study's finite report and
// exit 0, with its warnings (or the reason nothing could be computed) on
// standard error too.
func TestDriversDegenerate(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		stderr string
		text   string // in the text output
	}{
		{"constant driver",
			"unit_id,overall,a,b,c\nu1,7,1,2,5\nu2,5,2,2,5\nu3,9,3,5,5\nu4,4,1,1,5\nu5,8,4,3,5\nu6,6,2,4,5\nu7,3,1,1,5\n",
			"revealed drivers: warning: c has zero variance: left out of the decomposition (null weights and ranks)\n" +
				"revealed drivers: warning: only 7 units for 2 drivers: estimates and intervals are unstable below 10 units per driver\n",
			"  c       -                                -                     -            -"},
		{"too few units", "unit_id,overall,a,b\nu1,7,1,2\nu2,5,2,\nu3,9,3,5\n",
			"revealed drivers: warning: too few units: 2 for 2 drivers (need more than drivers + 1)\n",
			"Key drivers of overall: 2 units (1 left out: an empty cell), 2 drivers"},
		{"constant outcome", "unit_id,overall,a,b\nu1,7,1,2\nu2,7,2,1\nu3,7,3,5\nu4,7,3,3\n",
			"revealed drivers: warning: overall has zero variance: there is nothing to explain\n",
			"Overall has zero variance: there is nothing to explain."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "ratings.csv", tt.file)
			for _, format := range []string{"text", "json", "csv"} {
				code, out, errOut := runDriversCLI(t, "", "--format", format, "--outcome", "overall", "--bootstrap", "50", path)
				if code != 0 {
					t.Fatalf("%s: exit %d: %s", format, code, errOut)
				}
				if errOut != tt.stderr {
					t.Errorf("%s: stderr\n%s\nwant\n%s", format, errOut, tt.stderr)
				}
				if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
					t.Errorf("%s: a non-finite number in\n%s", format, out)
				}
				if format == "text" && !strings.Contains(out, tt.text) {
					t.Errorf("text output lacks %q:\n%s", tt.text, out)
				}
			}
		})
	}
}

func TestDriversErrors(t *testing.T) {
	const header = "unit_id,overall,a,b\n"
	const ok = header + "u1,7,1,2\nu2,5,2,1\nu3,9,3,5\nu4,4,1,1\n"
	const okStated = "driver,share,survey_n\na,0.6,100\nb,0.4,100\n"
	tests := []struct {
		name    string
		ratings string
		stated  string // no --stated when empty
		args    []string
		want    string // the whole of stderr
	}{
		{"not a number", header + "u1,7,1,2\nu2,5,abc,1\n", "", nil,
			`revealed drivers: ratings.csv:3: column "a": "abc" is not a number (the drivers are every column but unit_id and the outcome; --drivers names them)`},
		{"outcome not a number", header + "u1,x,1,2\n", "", nil,
			`revealed drivers: ratings.csv:2: column "overall": "x" is not a number`},
		{"named driver not a number", header + "u1,7,1,b2\n", "", []string{"--drivers", "a,b"},
			`revealed drivers: ratings.csv:2: column "b": "b2" is not a number`},
		{"NaN", header + "u1,7,NaN,2\n", "", []string{"--drivers", "a,b"},
			`revealed drivers: ratings.csv:2: column "a": "NaN" is not a finite number`},
		{"empty unit", header + ",7,1,2\n", "", nil, `revealed drivers: ratings.csv:2: column "unit_id": empty unit id`},
		{"field count", header + "u1,7,1,2\nu2,7,1\n", "", nil, `revealed drivers: ratings.csv:3: 3 fields, but the header has 4`},
		{"empty file", "", "", nil, `revealed drivers: ratings.csv:1: empty file: a header line is needed`},
		{"no rows", header, "", nil, `revealed drivers: ratings.csv:2: no data rows after the header`},
		{"no outcome column", "unit_id,a,b\nu1,1,2\n", "", nil,
			`revealed drivers: ratings.csv:1: column "overall": missing from the header (unit_id,a,b); ratings need unit_id, overall and the drivers`},
		{"no unit column", "id,overall,a,b\nu1,1,2,3\n", "", nil,
			`revealed drivers: ratings.csv:1: column "unit_id": missing from the header (id,overall,a,b); ratings need unit_id, overall and the drivers`},
		{"duplicate column", "unit_id,overall,a,A\nu1,1,2,3\n", "", nil, `revealed drivers: ratings.csv:1: column "a": appears twice in the header`},
		{"one driver", "unit_id,overall,a\nu1,1,2\n", "", nil, `revealed drivers: ratings.csv:1: 1 driver(s) (a); a study has 2 to 30`},
		{"unknown --drivers", ok, "", []string{"--drivers", "a,zz"},
			"revealed drivers: --drivers: no column \"zz\" in ratings.csv (columns: unit_id, overall, a, b)\nRun \"revealed drivers -h\" for usage."},
		{"stated: no row", ok, "driver,share,survey_n\na,0.6,100\n", nil,
			`revealed drivers: stated.csv:3: column "driver": no row for driver "b" of ratings.csv (the drivers are every column but unit_id and the outcome; --drivers names them)`},
		{"stated: unknown driver", ok, okStated + "prise,0.1,100\n", nil,
			`revealed drivers: stated.csv:4: column "driver": "prise" is not a driver column of ratings.csv (drivers: a, b)`},
		{"stated: the outcome", ok, okStated + "overall,0.1,100\n", nil,
			`revealed drivers: stated.csv:4: column "driver": "overall" is not a driver column of ratings.csv (drivers: a, b)`},
		{"stated: percent", ok, "driver,share,survey_n\na,60,100\nb,40,100\n", nil,
			`revealed drivers: stated.csv:2: column "share": 60 is not in [0, 1]; give the share as a fraction (0.38 for 38%)`},
		{"stated: negative", ok, "driver,share,survey_n\na,0.6,100\nb,-0.1,100\n", nil,
			`revealed drivers: stated.csv:3: column "share": -0.1 is not in [0, 1]; give the share as a fraction (0.38 for 38%)`},
		{"stated: empty share", ok, "driver,share,survey_n\na,,100\n", nil,
			`revealed drivers: stated.csv:2: column "share": empty, a number is needed`},
		{"stated: not a number", ok, "driver,share,survey_n\na,half,100\n", nil,
			`revealed drivers: stated.csv:2: column "share": "half" is not a number`},
		{"stated: survey_n", ok, "driver,share,survey_n\na,0.6,99.5\n", nil,
			`revealed drivers: stated.csv:2: column "survey_n": 99.5: want a whole number of respondents ≥ 1`},
		{"stated: survey_n 0", ok, "driver,share,survey_n\na,0.6,0\n", nil,
			`revealed drivers: stated.csv:2: column "survey_n": 0: want a whole number of respondents ≥ 1`},
		{"stated: twice", ok, "driver,share,survey_n\na,0.6,100\nb,0.4,100\nA,0.5,100\n", nil,
			`revealed drivers: stated.csv:4: column "driver": a second row for driver "a" (the first is on line 2)`},
		{"stated: empty driver", ok, "driver,share,survey_n\n,0.6,100\n", nil,
			`revealed drivers: stated.csv:2: column "driver": empty driver`},
		{"stated: missing column", ok, "driver,share\na,0.6\n", nil,
			`revealed drivers: stated.csv:1: column "survey_n": missing from the header of stated rows (driver,share,survey_n)`},
		{"stated: unknown column", ok, "driver,share,survey_n,n\na,0.6,100,1\n", nil,
			`revealed drivers: stated.csv:1: column "n": unknown column for stated rows (allowed: driver,share,survey_n)`},
		{"stated: no rows", ok, "driver,share,survey_n\n", nil, `revealed drivers: stated.csv:2: no data rows after the header`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Errors name the files as given on the command line.
			t.Chdir(dir)
			if err := os.WriteFile("ratings.csv", []byte(tt.ratings), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--outcome", "overall", "ratings.csv"}, tt.args...)
			if tt.stated != "" {
				if err := os.WriteFile("stated.csv", []byte(tt.stated), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--stated", "stated.csv")
			}
			code, out, errOut := runDriversCLI(t, "", args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if got := strings.TrimSuffix(errOut, "\n"); got != tt.want {
				t.Errorf("stderr\n%s\nwant\n%s", got, tt.want)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}

// TestDriversTooMany: more than MaxDrivers driver columns.
func TestDriversTooMany(t *testing.T) {
	var h []string
	for j := range analysis.MaxDrivers + 1 {
		h = append(h, "d"+strconv.Itoa(j))
	}
	path := writeFile(t, "ratings.csv", "unit_id,overall,"+strings.Join(h, ",")+"\n")
	code, _, errOut := runDriversCLI(t, "", "--outcome", "overall", path)
	if want := ": 31 driver(s) (d0, d1,"; code != 2 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "a study has 2 to 30") {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}

func TestDriversUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ratings.csv"}, "--outcome is required"},
		{[]string{"--outcome", "y"}, "no ratings file (use - for standard input)"},
		{[]string{"--outcome", "y", "a.csv", "b.csv"}, "one ratings file expected, got 2: a.csv b.csv"},
		{[]string{"--outcome", "y", "--format", "xml", "r.csv"}, `--format "xml": want text, json or csv`},
		{[]string{"--outcome", "y", "--alpha", "0.5", "r.csv"}, "--alpha 0.5: must be between 0 and 0.5"},
		{[]string{"--outcome", "y", "--bootstrap", "-1", "r.csv"}, "--bootstrap -1: want 0 (no intervals) to 100000 replicates"},
		{[]string{"--outcome", "y", "--bootstrap", "100001", "r.csv"}, "--bootstrap 100001: want 0 (no intervals) to 100000 replicates"},
		{[]string{"--outcome", "y", "--seed", "-3", "r.csv"}, `invalid value "-3" for flag -seed`},
		{[]string{"--outcome", "y", "--drivers", "a,A", "r.csv"}, `--drivers: "a" given twice`},
		{[]string{"--outcome", "y", "--drivers", "a,Y", "r.csv"}, `--drivers: "y" is the unit id or the outcome, not a driver`},
		{[]string{"--outcome", "y", "--nope", "r.csv"}, "flag provided but not defined: -nope"},
		{[]string{"--outcome", "y", "no-such-file.csv"}, "open no-such-file.csv: no such file or directory"},
		{[]string{"--outcome", "y", "--stated", "no-such-file.csv", "r.csv"}, "--stated: open no-such-file.csv: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			code, _, errOut := runDriversCLI(t, "", tt.args...)
			want := "revealed drivers: " + tt.want
			if code != 2 || !strings.HasPrefix(errOut, want) || !strings.HasSuffix(errOut, "Run \"revealed drivers -h\" for usage.\n") {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
			}
		})
	}
	code, out, _ := runDriversCLI(t, "", "-h")
	if code != 0 || !strings.HasPrefix(out, "Usage: revealed drivers") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}

// TestDriversCanceled: an interrupted read is a failure (exit 1), not a bad
// file.
func TestDriversCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ratings.csv")
	writeFileWith(t, path, func(w io.Writer) error { return writeDriverRatingsCSV(w, 2*ctxEvery, 3, 1, 0) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := RunDrivers(ctx, []string{"--outcome", "overall", "--bootstrap", "0", path}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "context canceled") {
		t.Errorf("exit %d, stderr %q; want 1 and context canceled", code, errb.String())
	}
}

// BenchmarkDrivers100k: 100,000 units × 10 drivers with 1,000 bootstrap
// replicates, the default; the time is nearly all the replicates' updates,
// so 1M units take ten times as long.
func BenchmarkDrivers100k(b *testing.B) {
	dir := b.TempDir()
	ratings, stated := filepath.Join(dir, "ratings.csv"), filepath.Join(dir, "stated.csv")
	writeFileWith(b, ratings, func(w io.Writer) error { return writeDriverRatingsCSV(w, 100_000, 10, 1, 100) })
	writeFileWith(b, stated, func(w io.Writer) error { return writeDriverStatedCSV(w, 10) })
	st, err := os.Stat(ratings)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if code := RunDrivers(context.Background(), []string{"--format", "json", "--outcome", "overall", "--stated", stated, ratings},
			nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// TestDriversWriteBenchFiles writes 1M units × 10 drivers and their stated
// shares to $REVEALED_BENCH_DIR, for measuring the built command's time and
// peak memory from outside (README.md has the command and the figures).
func TestDriversWriteBenchFiles(t *testing.T) {
	dir := os.Getenv("REVEALED_BENCH_DIR")
	if dir == "" {
		t.Skip("set REVEALED_BENCH_DIR to write the benchmark files there")
	}
	writeFileWith(t, filepath.Join(dir, "drivers-1m.csv"), func(w io.Writer) error {
		return writeDriverRatingsCSV(w, 1_000_000, 10, 1, 100)
	})
	writeFileWith(t, filepath.Join(dir, "drivers-stated.csv"), func(w io.Writer) error { return writeDriverStatedCSV(w, 10) })
}
