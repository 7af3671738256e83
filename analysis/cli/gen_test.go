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
