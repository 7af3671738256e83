package analysis_test

import (
	"encoding/json"
	"fmt"

	"github.com/revealed-ab/revealed/analysis"
)

func ExampleAnalyze() {
	r, err := analysis.Analyze(analysis.Input{
		Experiment: "human-vs-bot",
		Variants: []analysis.Variant{
			{Key: "bot", Weight: 1, Control: true},
			{Key: "human", Weight: 1},
		},
		Metrics: []analysis.MetricInput{{
			Metric: "resolved", Kind: analysis.Binary, HigherIsBetter: true,
			Arms: []analysis.Arm{
				{Variant: "bot", Stats: analysis.Stats{Units: 1000, Sum: 610, SumSq: 610}},
				{Variant: "human", Stats: analysis.Stats{Units: 1000, Sum: 700, SumSq: 700}},
			},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := r.Metrics[0].Comparisons[0]
	fmt.Printf("srm ok=%v, %s vs %s: %+.3f (rel %+.3f), p=%.2g, significant=%v\n",
		r.SRM.OK, c.Variant, c.Control, c.AbsEffect, *c.RelEffect, *c.PValue, c.Significant)
	_, err = json.Marshal(r)
	fmt.Println(err)
	// Output:
	// srm ok=true, human vs bot: +0.090 (rel +0.148), p=2.2e-05, significant=true
	// <nil>
}
