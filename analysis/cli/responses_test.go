package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

// The committed say/do example: 40 customers in two variants, the answers
// of 37 of them (one not in the experiment) to agent_pref and channel, and
// two say_do claims exported from the API (with "version" and
// "created_at", in the list answer {"claims": [...]}).
const (
	sayDoUnits     = "testdata/saydo-perunit.csv"
	sayDoResponses = "testdata/responses.csv"
	sayDoClaims    = "testdata/saydo-claims.json"
)

func sayDoArgs(extra ...string) []string {
	return append([]string{"--responses", sayDoResponses, "--segment-answers", "agent_pref",
		"--claims", sayDoClaims}, append(extra, sayDoUnits)...)
}

func TestSayDoGolden(t *testing.T) {
	for _, format := range []string{"txt", "csv", "json"} {
		golden := "saydo." + format
		t.Run(golden, func(t *testing.T) {
			f := strings.Replace(format, "txt", "text", 1)
			code, out, errOut := runCLI(t, "", sayDoArgs("--format", f)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", "golden", golden)
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

// plainCSV reads a committed file without quotes into rows keyed by the
// lower-cased header.
func plainCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(strings.ToLower(lines[0]), ",")
	var out []map[string]string
	for _, line := range lines[1:] {
		row := map[string]string{}
		for i, f := range strings.Split(line, ",") {
			row[header[i]] = f
		}
		out = append(out, row)
	}
	return out
}

// firstAnswers is each unit's first answer to question, by the plain
// reading of the rule: the first row in the file wins.
func firstAnswers(t *testing.T, question string) map[string]string {
	out := map[string]string{}
	for _, r := range plainCSV(t, sayDoResponses) {
		if _, seen := out[r["unit_id"]]; r["question"] == question && !seen {
			out[r["unit_id"]] = r["answer"]
		}
	}
	return out
}

// TestSayDoTablesByHand counts each claim's table from the committed rows,
// without the reader, and checks the counts written down by hand.
func TestSayDoTablesByHand(t *testing.T) {
	first := firstAnswers(t, "agent_pref")
	count := func(variant string) analysis.SayDoCells {
		var c analysis.SayDoCells
		for _, r := range plainCSV(t, sayDoUnits) {
			answer, answered := first[r["unit_id"]]
			if r["metric"] != "chose_human" || !answered || (variant != "" && r["variant"] != variant) {
				continue
			}
			said, did := answer == "human", r["value"] == "1"
			switch {
			case said && did:
				c.SaidDid++
			case said:
				c.SaidDidnt++
			case did:
				c.DidntSayDid++
			default:
				c.DidntSayDidnt++
			}
		}
		return c
	}
	// Hand counts: c05 said human first (its later "bot" is ignored), c18
	// said either first; c37–c40 did not answer, c99 is not in the file.
	want := map[string]analysis.SayDoCells{
		"say-human-do-human":  {SaidDid: 20, SaidDidnt: 3, DidntSayDid: 6, DidntSayDidnt: 7},
		"say-human-treatment": {SaidDid: 9, SaidDidnt: 2, DidntSayDid: 4, DidntSayDidnt: 3},
	}
	if got := count(""); got != want["say-human-do-human"] {
		t.Errorf("counted from the rows %+v, written down %+v", got, want["say-human-do-human"])
	}
	if got := count("treatment"); got != want["say-human-treatment"] {
		t.Errorf("counted from the rows (treatment) %+v, written down %+v", got, want["say-human-treatment"])
	}

	code, out, errOut := runCLI(t, "", sayDoArgs("--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r analysis.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Claims) != len(want) {
		t.Fatalf("%d claims, want %d", len(r.Claims), len(want))
	}
	for _, c := range r.Claims {
		if c.SayDoResult == nil || c.Table != want[c.ID] || c.Units != c.Table.SaidDid+c.Table.SaidDidnt+c.Table.DidntSayDid+c.Table.DidntSayDidnt {
			t.Errorf("claim %s: table %+v, units %d; want %+v", c.ID, c.SayDoResult, c.Units, want[c.ID])
		}
	}
}

// TestSayDoJSONEqualsAnalyze: the report is the analysis package's report
// of an input built the simple way: the segments by answer summed from the
// plain rows, the tables counted as above.
func TestSayDoJSONEqualsAnalyze(t *testing.T) {
	in := naiveInput(t, sayDoUnits)
	first := firstAnswers(t, "agent_pref")
	kinds := map[string]analysis.Kind{}
	for _, m := range in.Metrics {
		kinds[m.Metric] = m.Kind
	}
	rows := plainCSV(t, sayDoUnits)
	answers := slices.Sorted(func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, a := range first {
			if !seen[a] {
				seen[a] = true
				yield(a)
			}
		}
	})
	for _, answer := range answers {
		seg := analysis.Segment{Attribute: "answer:agent_pref", Value: answer}
		for _, m := range in.Metrics {
			mi := analysis.MetricInput{Metric: m.Metric, Kind: kinds[m.Metric], HigherIsBetter: true}
			for _, v := range in.Variants {
				var s analysis.Stats
				for _, r := range rows {
					if r["metric"] == m.Metric && r["variant"] == v.Key && first[r["unit_id"]] == answer {
						x, _ := strconv.ParseFloat(r["value"], 64)
						s.Units++
						s.Sum += x
						s.SumSq += x * x
					}
				}
				if s.Units > 0 {
					mi.Arms = append(mi.Arms, analysis.Arm{Variant: v.Key, Stats: s})
				}
			}
			seg.Metrics = append(seg.Metrics, mi)
		}
		in.Segments = append(in.Segments, seg)
	}
	in.Claims = readClaims(t, sayDoClaims)
	in.Questions = []analysis.QuestionDesign{
		{Key: "agent_pref", Kind: "choice", Options: []string{"bot", "either", "human"}},
		{Key: "channel", Kind: "choice", Options: []string{"chat", "phone"}},
	}
	in.SayDo = map[string]analysis.SayDoCells{
		"say-human-do-human":  {SaidDid: 20, SaidDidnt: 3, DidntSayDid: 6, DidntSayDidnt: 7},
		"say-human-treatment": {SaidDid: 9, SaidDidnt: 2, DidntSayDid: 4, DidntSayDidnt: 3},
	}
	r, err := analysis.Analyze(in)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", sayDoArgs("--format", "json", "--experiment", "x")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != want.String() {
		t.Errorf("JSON differs from analysis.Analyze:\ngot  %s\nwant %s", out, want.String())
	}
}

// TestAPIClaimsRead: a claims file exported from the API, with its
// bookkeeping fields, reads as the claims it holds.
func TestAPIClaimsRead(t *testing.T) {
	claims := readClaims(t, sayDoClaims)
	if len(claims) != 2 || claims[0].Kind != analysis.ClaimSayDo || claims[0].Question != "agent_pref" ||
		claims[0].Answer != "human" || claims[1].Variant != "treatment" || *claims[1].Margin != 0.1 {
		t.Errorf("claims = %+v", claims)
	}
	bare := `[{"id": "s", "statement": "s", "kind": "say_do", "metric": "chose_human", "question": "agent_pref",
		"answer": "bot", "version": 7, "created_at": "2026-01-01T00:00:00Z"}]`
	code, _, errOut := runCLI(t, "", "--responses", sayDoResponses, "--claims", writeFile(t, "c.json", bare), sayDoUnits)
	if code != 0 {
		t.Errorf("a bare array of exported claims: exit %d: %s", code, errOut)
	}
}

// TestResponsesFirstRowWins: a unit's later answers change nothing, and
// neither does the order of the file, a byte-order mark or CRLF.
func TestResponsesFirstRowWins(t *testing.T) {
	_, want, _ := runCLI(t, "", sayDoArgs("--format", "json", "--experiment", "x")...)
	b, err := os.ReadFile(sayDoResponses)
	if err != nil {
		t.Fatal(err)
	}
	// A later answer of every unit to agent_pref, contrary to its first;
	// "nobody" becomes an option, but no unit gave it first, so it makes no
	// segment and changes no table.
	var later strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if q, rest, _ := strings.Cut(line, ","); q == "agent_pref" {
			unit, _, _ := strings.Cut(rest, ",")
			fmt.Fprintf(&later, "agent_pref,%s,nobody\n", unit)
		}
	}
	for name, content := range map[string]string{
		"later answers": string(b) + later.String(),
		"bom+crlf":      "\uFEFF" + strings.ReplaceAll(string(b), "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"--format", "json", "--experiment", "x", "--claims", sayDoClaims,
				"--segment-answers", "agent_pref", "--responses", writeFile(t, "r.csv", content), sayDoUnits}
			code, got, errOut := runCLI(t, "", args...)
			if code != 0 || got != want {
				t.Errorf("exit %d, %s; report differs:\ngot  %s\nwant %s", code, errOut, got, want)
			}
		})
	}
}

// TestAnswerSegmentsFromClaims: a claim on a segment by answer splits the
// report by that question without --segment-answers, as on the server.
func TestAnswerSegmentsFromClaims(t *testing.T) {
	claim := `[{"id": "h", "statement": "s", "kind": "share", "metric": "chose_human", "stated_share": 0.9,
		"survey_n": 50, "segment": "answer:agent_pref=human"}]`
	code, out, errOut := runCLI(t, "", "--format", "json", "--responses", sayDoResponses,
		"--claims", writeFile(t, "c.json", claim), sayDoUnits)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r analysis.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, s := range r.Segments {
		if s.Attribute == "answer:agent_pref" {
			values = append(values, s.Value)
		}
	}
	if !slices.Equal(values, []string{"bot", "either", "human"}) || r.Claims[0].Units != 23 {
		t.Errorf("answer segments %v, claim units %d; want bot, either, human and 23", values, r.Claims[0].Units)
	}
}

const sayDoClaimLine = `{"id": "s", "statement": "s", "kind": "say_do", "metric": "chose_human", "question": "agent_pref", "answer": "human"}`

// TestResponsesErrors: every mistake exits 2 with the exact message.
func TestResponsesErrors(t *testing.T) {
	const summary = "metric,variant,kind,units,sum,sum_sq\nm,control,binary,10,5,5\nm,treatment,binary,10,6,6\n"
	sayDoClaim := func(answer string) string {
		return "[\n  {\"id\": \"s\", \"statement\": \"s\", \"kind\": \"say_do\", \"metric\": \"chose_human\",\n" +
			"   \"question\": \"agent_pref\", \"answer\": \"" + answer + "\"}\n]"
	}
	tests := []struct {
		name      string
		responses string // content; "" for the committed file
		data      string // content; "" for the committed per-unit file
		claims    string
		args      []string
		want      string // the first line of stderr, with {r}, {d} and {c} for the files
	}{
		{"unknown column", "unit_id,question,answer,time\nc01,agent_pref,human,9\n", "", "", nil,
			`revealed analyze: {r}:1: column "time": unknown column for response rows (allowed: unit_id,question,answer)`},
		{"missing header", "c01,agent_pref,human\nc02,agent_pref,bot\n", "", "", nil,
			`revealed analyze: {r}:1: header "c01,agent_pref,human" is not unit_id,question,answer (in any order); the first line must be the header`},
		{"missing column", "unit_id,question\nc01,agent_pref\n", "", "", nil,
			`revealed analyze: {r}:1: column "answer": missing from the header of response rows (unit_id,question,answer)`},
		{"empty file", "\n", "", "", nil,
			`revealed analyze: {r}:1: empty file: a header line is needed`},
		{"no rows", "unit_id,question,answer\n", "", "", nil,
			`revealed analyze: {r}:2: no data rows after the header`},
		{"empty answer", "unit_id,question,answer\nc01,agent_pref,human\nc02,agent_pref,\n", "", "", nil,
			`revealed analyze: {r}:3: column "answer": empty answer; leave out the row of a unit that did not answer`},
		{"empty unit", "unit_id,question,answer\n,agent_pref,human\n", "", "", nil,
			`revealed analyze: {r}:2: column "unit_id": empty unit id`},
		{"question with =", "unit_id,question,answer\nc01,a=b,human\n", "", "", nil,
			`revealed analyze: {r}:2: column "question": "a=b": a question cannot contain "=", which ends it in a segment answer:QUESTION=ANSWER`},
		{"field count", "unit_id,question,answer\nc01,agent_pref\n", "", "", nil,
			`revealed analyze: {r}:2: 2 fields, but the header has 3`},
		{"answer not seen", "", "", sayDoClaim("a robot"), nil,
			`revealed analyze: {c}:2: column "answer": claim "s": is not an option of "agent_pref" (bot, either, human); the questions and their answers are those in {r}`},
		{"duplicate claim id", "", "", "[\n" + sayDoClaimLine + ",\n" + sayDoClaimLine + "\n]", nil,
			`revealed analyze: {c}:3: column "id": claim "s": a second claim with this id (the first is on line 2)`},
		{"responses with summary input", "", summary, "", nil,
			`revealed analyze: --responses needs per-unit input; {d} has summary rows`},
		{"unknown --segment-answers", "", "", "", []string{"--segment-answers", "agent_pref,colour"},
			`revealed analyze: --segment-answers: no question "colour" in {r} (questions: agent_pref, channel)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			responses, data := sayDoResponses, sayDoUnits
			if tt.responses != "" {
				responses = writeFile(t, "responses.csv", tt.responses)
			}
			if tt.data != "" {
				data = writeFile(t, "data.csv", tt.data)
			}
			args := append([]string{"--responses", responses}, tt.args...)
			claims := ""
			if tt.claims != "" {
				claims = writeFile(t, "claims.json", tt.claims)
				args = append(args, "--claims", claims)
			}
			code, out, errOut := runCLI(t, "", append(args, data)...)
			want := strings.NewReplacer("{r}", responses, "{d}", data, "{c}", claims).Replace(tt.want)
			if first, _, _ := strings.Cut(errOut, "\n"); code != 2 || out != "" || first != want {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", code, out, first, want)
			}
		})
	}
}

// TestResponsesUsage: the flags' own mistakes, without reading a file.
func TestResponsesUsage(t *testing.T) {
	claim := writeFile(t, "claims.json", "[\n  {\"id\": \"s\", \"statement\": \"s\", \"kind\": \"say_do\", \"metric\": \"chose_human\",\n"+
		"   \"question\": \"agent_pref\", \"answer\": \"human\"}\n]")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--segment-answers without --responses", []string{"--segment-answers", "agent_pref", sayDoUnits},
			"revealed analyze: --segment-answers needs --responses, the file of answers"},
		{"say_do claim without --responses", []string{"--claims", claim, sayDoUnits},
			`revealed analyze: ` + claim + `:2: column "question": claim "s": names no question: "agent_pref"; the questions and their answers come from --responses`},
		{"missing responses file", []string{"--responses", "/nonexistent/r.csv", sayDoUnits},
			"revealed analyze: --responses: open /nonexistent/r.csv: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tt.args...)
			if first, _, _ := strings.Cut(errOut, "\n"); code != 2 || first != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and:\n%s", code, first, tt.want)
			}
		})
	}
}

// TestResponsesNoneExposed: answers whose units are not in the file are a
// warning, since mismatched ids would otherwise give empty tables quietly.
func TestResponsesNoneExposed(t *testing.T) {
	responses := writeFile(t, "r.csv", "unit_id,question,answer\nx1,agent_pref,human\nx2,agent_pref,bot\n")
	code, _, errOut := runCLI(t, "", "--format", "json", "--responses", responses, sayDoUnits)
	if want := "warning: none of the 2 units in " + responses + " is in " + sayDoUnits + ": do the unit ids match?"; code != 0 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want %q", code, errOut, want)
	}
}

// TestResponsesIndex: the packed index keeps each unit's first answer per
// question, whatever the order of the file.
func TestResponsesIndex(t *testing.T) {
	const file = "unit_id,question,answer\n" +
		"b,q1,x\n" +
		"a,q2,p\n" +
		"b,q1,y\n" + // later: ignored
		"a,q1,y\n" +
		"a,q1,x\n" + // later: ignored
		"a,q1,x\n" + // later and adjacent: ignored
		"c,q2,r\n"
	rs, err := readResponses(context.Background(), strings.NewReader(file), "r.csv")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, unit := range []string{"a", "b", "c", "d"} {
		lo, hi := rs.of(hashString(unit))
		for i := lo; i < hi; i++ {
			ref := rs.pairs[rs.pairOf[i]]
			got[unit+"."+rs.questions.list[ref.question]] = rs.answers[ref.question].list[ref.answer]
		}
	}
	want := map[string]string{"a.q1": "y", "a.q2": "p", "b.q1": "x", "c.q2": "r"}
	if fmt.Sprint(got) != fmt.Sprint(want) || rs.ignored != 3 || rs.answered != 3 || rs.rows != 7 {
		t.Errorf("answers %v, ignored %d, answered %d, rows %d; want %v, 3, 3, 7", got, rs.ignored, rs.answered, rs.rows, want)
	}
	wantQ := []analysis.QuestionDesign{
		{Key: "q1", Kind: "choice", Options: []string{"x", "y"}},
		{Key: "q2", Kind: "choice", Options: []string{"p", "r"}},
	}
	if got := rs.questionDesigns(); fmt.Sprint(got) != fmt.Sprint(wantQ) {
		t.Errorf("questions %v, want %v", got, wantQ)
	}
}
