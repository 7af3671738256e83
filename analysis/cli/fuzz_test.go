package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

// FuzzReadCSV feeds the reader arbitrary files: it must not panic, every
// error must name the file and a line, and whatever it accepts must analyse
// and render without panicking or producing NaN in JSON.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"unit_id,variant,metric,value\nu1,control,m,1\nu2,treatment,m,0\n",
		"\uFEFFunit_id,variant,metric,value,segment,covariate\r\nu1,a,m,1,age=x,2\r\nu1,a,m,2,age=x,\r\nu2,b,m,3,,1\r\n",
		"unit_id,variant,metric,value,denominator\nu1,a,r,3,1\nu2,b,r,\"4\",0\n",
		"metric,variant,kind,units,sum,sum_sq\nm,control,binary,10,5,5\nm,treatment,mean,3,1,1e308\n",
		"metric,variant,kind,units,sum,sum_sq,pre_sum,pre_sum_sq,pre_cross,den_sum,den_sum_sq,den_cross,segment\n" +
			"c,a,ratio,10,30,100,,,,8,9,25,\nc,b,ratio,10,32,110,,,,8,9,27,\nc,a,ratio,5,15,50,,,,4,5,13,s=1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := readData(context.Background(), bytes.NewReader(b), "f.csv", readOptions{})
		if err != nil {
			var le *lineError
			if !errors.As(err, &le) || le.Line < 1 || !strings.HasPrefix(err.Error(), "f.csv:") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		o, err := parseArgs([]string{"f.csv"})
		if err != nil {
			t.Fatal(err)
		}
		in, err := buildInput(d, o, "f.csv")
		if err != nil {
			return
		}
		r, err := analysis.Analyze(in)
		if err != nil {
			return
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("report does not marshal: %v", err)
		}
		if !json.Valid(js) {
			t.Fatal("invalid JSON")
		}
		if err := writeText(io.Discard, r, d); err != nil {
			t.Fatal(err)
		}
		if err := analysis.WriteCSV(io.Discard, r); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzReadResponses feeds the responses reader arbitrary files: it must not
// panic, every error must name the file and a line, and whatever it accepts
// must join to per-unit rows and analyse with a say_do claim.
func FuzzReadResponses(f *testing.F) {
	for _, s := range []string{
		"unit_id,question,answer\nu1,q,yes\nu2,q,no\nu1,q,no\n",
		"\uFEFFAnswer,Question,Unit_ID\r\nyes,q,u2\r\nno,p,u1\r\n",
		"unit_id,question,answer\nu1,q,\"a,b\"\nu3,q,yes\n",
	} {
		f.Add([]byte(s))
	}
	const units = "unit_id,variant,metric,value\nu1,control,m,1\nu2,treatment,m,0\nu3,treatment,m,1\n"
	claim := analysis.Claim{ID: "s", Statement: "s", Kind: analysis.ClaimSayDo, Metric: "m", Question: "q", Answer: "yes"}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := readResponses(context.Background(), bytes.NewReader(b), "r.csv")
		if err != nil {
			var le *lineError
			if !errors.As(err, &le) || le.Line < 1 || !strings.HasPrefix(err.Error(), "r.csv:") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		d, err := readData(context.Background(), strings.NewReader(units), "f.csv",
			readOptions{responses: rs, sayDo: []analysis.Claim{claim}, answerSegments: rs.questions.list})
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseArgs([]string{"f.csv"})
		if err != nil {
			t.Fatal(err)
		}
		in, err := buildInput(d, o, "f.csv")
		if err != nil {
			t.Fatal(err)
		}
		if len(claim.Validate(in.Design())) == 0 {
			in.Claims = []analysis.Claim{claim}
		}
		r, err := analysis.Analyze(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("report does not marshal: %v", err)
		}
		if err := writeText(io.Discard, r, d); err != nil {
			t.Fatal(err)
		}
	})
}
