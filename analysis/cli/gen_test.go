package cli

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// genMetrics are the metrics of generated per-unit files, in row order.
var genMetrics = []string{"chose_human", "resolved", "minutes", "tickets"}

// writePerUnitCSV writes a deterministic per-unit file: units units, each
// with one row per metric (the first metrics of genMetrics), in the given
// column order (any of unit_id, variant, metric, value, segment,
// covariate). Units alternate at random between control and treatment,
// and treatment does a little better. resolved has no covariate.
func writePerUnitCSV(w io.Writer, units, metrics int, seed uint64, columns []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 1))
	fmt.Fprintln(bw, strings.Join(columns, ","))
	fields := map[string]string{}
	for i := range units {
		variant, lift := "control", 0.0
		if rng.IntN(2) == 1 {
			variant, lift = "treatment", 1.0
		}
		segment := "age=genz"
		if rng.IntN(3) == 0 {
			segment = "age=boomer"
		}
		fields["unit_id"] = "u" + strconv.Itoa(i)
		fields["variant"] = variant
		fields["segment"] = segment
		for m := range metrics {
			var v, x float64
			switch genMetrics[m] {
			case "chose_human":
				p := 0.6 + 0.05*lift
				if segment == "age=genz" {
					p += 0.1
				}
				v = b2f(rng.Float64() < p)
				x = b2f(rng.Float64() < 0.5)
			case "resolved":
				v = b2f(rng.Float64() < 0.7+0.03*lift)
			case "minutes":
				x = math.Round(100*(10+3*rng.NormFloat64())) / 100
				v = math.Round(100*(0.8*x+2-0.4*lift+2*rng.NormFloat64())) / 100
			case "tickets":
				v = float64(rng.IntN(4))
				x = float64(rng.IntN(4))
			}
			fields["metric"] = genMetrics[m]
			fields["value"] = strconv.FormatFloat(v, 'g', -1, 64)
			fields["covariate"] = strconv.FormatFloat(x, 'g', -1, 64)
			if genMetrics[m] == "resolved" {
				fields["covariate"] = "" // no pre-exposure value: no CUPED
			}
			for j, c := range columns {
				if j > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(fields[c])
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeResponsesCSV writes a deterministic responses file for the units of
// writePerUnitCSV (ids u0, u1, …): most units answer agent_pref, some also
// channel, a few answer agent_pref twice (the second is ignored), in an
// order that is not the units'.
func writeResponsesCSV(w io.Writer, units int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 2))
	fmt.Fprintln(bw, "unit_id,question,answer")
	prefs := []string{"human", "bot", "either"}
	channels := []string{"phone", "chat", "email"}
	// Blocks of units come in a shuffled order, so that answers are not
	// sorted by unit, as from a survey tool's export.
	const block = 1000
	blocks := rng.Perm((units + block - 1) / block)
	for _, b := range blocks {
		for i := b * block; i < min(units, (b+1)*block); i++ {
			if rng.IntN(10) < 8 {
				fmt.Fprintf(bw, "u%d,agent_pref,%s\n", i, prefs[rng.IntN(len(prefs))])
				if rng.IntN(20) == 0 {
					fmt.Fprintf(bw, "u%d,agent_pref,%s\n", i, prefs[rng.IntN(len(prefs))])
				}
			}
			if rng.IntN(10) < 3 {
				fmt.Fprintf(bw, "u%d,channel,%s\n", i, channels[rng.IntN(len(channels))])
			}
		}
	}
	return bw.Flush()
}
