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

// genDrivers are the drivers of generated ratings files, with their true
// effect on the outcome (per standard deviation of the latent rating).
// price matters little and resolution most, so that against genDriverStated price
// comes out overrated and resolution underrated.
var genDrivers = []struct {
	name   string
	effect float64
}{
	{"price", 0.05}, {"wait_time", 0.45}, {"friendliness", 0.3}, {"resolution", 0.8}, {"app", 0.15},
	{"billing", 0.2}, {"hours", 0.1}, {"language", 0.05}, {"follow_up", 0.25}, {"website", 0.1},
}

// genDriverStated are the stated shares of genDrivers, as a survey of genDriverSurveyN
// respondents might give them: price named most.
var genDriverStated = []float64{0.34, 0.22, 0.1, 0.12, 0.06, 0.05, 0.04, 0.02, 0.03, 0.02}

const genDriverSurveyN = 850

// genRatingsColumns is the header of a generated ratings file with the
// first drivers of genDrivers: unit_id and the outcome among the drivers,
// not first, to show that any order is read.
func genRatingsColumns(drivers int) []string {
	cols := []string{genDrivers[0].name, "unit_id"}
	for j := 1; j < drivers; j++ {
		cols = append(cols, genDrivers[j].name)
		if j == 1 {
			cols = append(cols, "overall")
		}
	}
	return cols
}

// writeDriverRatingsCSV writes a deterministic ratings file: units rows of
// 1–10 ratings of the first drivers of genDrivers and of the outcome
// overall. The ratings share a common factor (a halo: customers who like
// one thing rate everything higher), so the drivers are correlated, as in
// real surveys. When missingEvery > 0, about one unit in missingEvery has
// one empty cell.
func writeDriverRatingsCSV(w io.Writer, units, drivers int, seed uint64, missingEvery int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 5))
	cols := genRatingsColumns(drivers)
	fmt.Fprintln(bw, strings.Join(cols, ","))
	rating := func(z float64) float64 { return math.Max(1, math.Min(10, math.Round(6+1.6*z))) }
	cell := map[string]string{}
	for i := range units {
		g := rng.NormFloat64()
		y := 0.0
		for j := range drivers {
			z := 0.5*g + math.Sqrt(0.75)*rng.NormFloat64()
			y += genDrivers[j].effect * z
			cell[genDrivers[j].name] = strconv.FormatFloat(rating(z), 'g', -1, 64)
		}
		cell["overall"] = strconv.FormatFloat(rating(y+0.8*rng.NormFloat64()), 'g', -1, 64)
		cell["unit_id"] = "c" + strconv.Itoa(i+1)
		if missingEvery > 0 && rng.IntN(missingEvery) == 0 {
			if k := rng.IntN(drivers + 1); k == drivers {
				cell["overall"] = ""
			} else {
				cell[genDrivers[k].name] = ""
			}
		}
		for k, c := range cols {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(cell[c])
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// writeDriverStatedCSV writes the stated shares of the first drivers of
// genDrivers, in reverse order, to show that rows match by name.
func writeDriverStatedCSV(w io.Writer, drivers int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "driver,share,survey_n")
	for j := drivers - 1; j >= 0; j-- {
		fmt.Fprintf(bw, "%s,%g,%d\n", genDrivers[j].name, genDriverStated[j], genDriverSurveyN)
	}
	return bw.Flush()
}
