package cli

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// responses are the survey answers of a --responses file (unit_id,
// question, answer). They must be held per unit, because the per-unit rows
// they join to come in any order; each row is held as 12 bytes: the 64-bit
// hash of its unit id (the per-unit reader's) and the id of its (question,
// answer) pair, whose strings are kept once.
type responses struct {
	file      string
	questions names
	answers   []names // per question, in the order first seen
	pairs     []answerRef
	pairIDs   map[answerRef]uint32

	// units and pairOf are parallel. After finish they are sorted by unit,
	// and only each unit's first answer to each question is left, as the
	// server counts only a unit's first response.
	units  []uint64
	pairOf []uint32
	// exposed has bit i set when units[i] starts a unit's answers and that
	// unit is in the per-unit file.
	exposed []uint64

	rows     int64
	ignored  int64 // later answers of a unit to a question it had answered
	answered int64 // distinct units
}

type answerRef struct{ question, answer int32 }

func readResponses(ctx context.Context, r io.Reader, name string) (*responses, error) {
	c, cols, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	known := 0
	for _, h := range responseColumns {
		if _, ok := cols[h]; ok {
			known++
		}
	}
	if known == 0 {
		return nil, &lineError{File: name, Line: c.line, Msg: fmt.Sprintf(
			"header %q is not %s (in any order); the first line must be the header",
			strings.Join(c.header, ","), strings.Join(responseColumns, ","))}
	}
	if err := checkHeader(c, cols, responseColumns, nil, "response"); err != nil {
		return nil, err
	}
	iUnit, iQuestion, iAnswer := cols[colUnit], cols[colQuestion], cols[colAnswer]
	rs := &responses{file: name, pairIDs: map[answerRef]uint32{}}
	counted := data{lastLine: c.line}
	err = eachRow(ctx, c, &counted, func(rec []string) error {
		switch {
		case rec[iUnit] == "":
			return c.errAt(iUnit, "empty unit id")
		case rec[iQuestion] == "":
			return c.errAt(iQuestion, "empty question")
		case strings.Contains(rec[iQuestion], "="):
			return c.errAt(iQuestion, "%q: a question cannot contain \"=\", which ends it in a segment answer:QUESTION=ANSWER", clip(rec[iQuestion]))
		case rec[iAnswer] == "":
			return c.errAt(iAnswer, "empty answer; leave out the row of a unit that did not answer")
		}
		q, isNew := rs.questions.id(rec[iQuestion])
		if isNew {
			rs.answers = append(rs.answers, names{})
		}
		a, _ := rs.answers[q].id(rec[iAnswer])
		ref := answerRef{int32(q), int32(a)}
		pair, ok := rs.pairIDs[ref]
		if !ok {
			pair = uint32(len(rs.pairs))
			rs.pairIDs[ref] = pair
			rs.pairs = append(rs.pairs, ref)
		}
		unit := hashString(rec[iUnit])
		if n := len(rs.units); n > 0 && rs.units[n-1] == unit && rs.pairs[rs.pairOf[n-1]].question == ref.question {
			// Not needed for correctness (finish drops it too), but a file
			// sorted by unit then keeps no more than it uses.
			rs.ignored++
			return nil
		}
		rs.units = append(rs.units, unit)
		rs.pairOf = append(rs.pairOf, pair)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rs.rows = counted.rows
	rs.finish()
	return rs, nil
}

// byUnit sorts the parallel slices by unit; sort.Stable keeps each unit's
// answers in file order, so that the first of them is its first answer.
type byUnit responses

func (b *byUnit) Len() int           { return len(b.units) }
func (b *byUnit) Less(i, j int) bool { return b.units[i] < b.units[j] }
func (b *byUnit) Swap(i, j int) {
	b.units[i], b.units[j] = b.units[j], b.units[i]
	b.pairOf[i], b.pairOf[j] = b.pairOf[j], b.pairOf[i]
}

// finish sorts the answers by unit and keeps each unit's first answer to
// each question.
func (rs *responses) finish() {
	sort.Stable((*byUnit)(rs))
	kept := 0
	for start := 0; start < len(rs.units); {
		end := start
		for end < len(rs.units) && rs.units[end] == rs.units[start] {
			end++
		}
		first := kept
		for i := start; i < end; i++ {
			q := rs.pairs[rs.pairOf[i]].question
			if slices.ContainsFunc(rs.pairOf[first:kept], func(p uint32) bool { return rs.pairs[p].question == q }) {
				rs.ignored++
				continue
			}
			rs.units[kept], rs.pairOf[kept] = rs.units[i], rs.pairOf[i]
			kept++
		}
		rs.answered++
		start = end
	}
	rs.units, rs.pairOf = rs.units[:kept], rs.pairOf[:kept]
	rs.exposed = make([]uint64, (kept+63)/64)
}

// of returns the range of unit's answers in units and pairOf, empty when it
// has none.
func (rs *responses) of(unit uint64) (lo, hi int) {
	lo, found := slices.BinarySearch(rs.units, unit)
	if !found {
		return lo, lo
	}
	hi = lo + 1
	for hi < len(rs.units) && rs.units[hi] == unit {
		hi++
	}
	return lo, hi
}

// markExposed records that the unit whose answers start at lo is in the
// per-unit file.
func (rs *responses) markExposed(lo int) { rs.exposed[lo/64] |= 1 << (lo % 64) }

func (rs *responses) exposedUnits() int64 {
	var n int
	for _, w := range rs.exposed {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// questionDesigns describes each question as the claims see it: a choice
// question whose options are the answers that appear in the file, so that
// a say_do claim is checked by the API's rules.
func (rs *responses) questionDesigns() []analysis.QuestionDesign {
	out := make([]analysis.QuestionDesign, len(rs.questions.list))
	for q, key := range rs.questions.list {
		out[q] = analysis.QuestionDesign{Key: key, Kind: "choice", Options: slices.Sorted(slices.Values(rs.answers[q].list))}
	}
	return out
}

// note summarises the file for the text report.
func (rs *responses) note() string {
	s := fmt.Sprintf("%s: %d rows, answers of %d units to %d question(s) (%s); %d of these units are in the per-unit file",
		rs.file, rs.rows, rs.answered, len(rs.questions.list), strings.Join(rs.questions.list, ", "), rs.exposedUnits())
	if rs.ignored > 0 {
		s += fmt.Sprintf("; %d later answers ignored (a unit's first answer to a question counts)", rs.ignored)
	}
	return s
}

// sayDoCounter counts one say_do claim's table as the per-unit rows are
// read.
type sayDoCounter struct {
	claim             analysis.Claim
	segAttr, segValue string
	question, answer  int32 // -1: not in the responses file
	cells             analysis.SayDoCells
}

func newSayDoCounter(rs *responses, c analysis.Claim) *sayDoCounter {
	s := &sayDoCounter{claim: c, question: -1, answer: -1}
	s.segAttr, s.segValue, _ = strings.Cut(c.Segment, "=")
	if q, ok := rs.questions.index[c.Question]; ok {
		s.question = int32(q)
		if a, ok := rs.answers[q].index[c.Answer]; ok {
			s.answer = int32(a)
		}
	}
	return s
}
