package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/revealed-ab/revealed/experiments"
)

func studyOf(r keyedRow) (*experiments.Study, error) {
	st := &experiments.Study{}
	var err error
	st.CreatedAt, st.UpdatedAt, st.Version, err = decodeKeyed(r, "study", &st.StudyInput)
	return st, err
}

func (s *Store) SaveStudy(ctx context.Context, st *experiments.Study, create bool, audit *experiments.AuditEntry) error {
	row, err := newKeyedRow(st.Key, st.StudyInput, st.CreatedAt, st.UpdatedAt, st.Version)
	if err != nil {
		return err
	}
	return s.saveKeyed(ctx, "studies", "study", row, create, audit)
}

func (s *Store) GetStudy(ctx context.Context, key string) (*experiments.Study, error) {
	row, err := s.getKeyed(ctx, "studies", "study", key)
	if err != nil {
		return nil, err
	}
	return studyOf(row)
}

func (s *Store) ListStudies(ctx context.Context) ([]*experiments.Study, error) {
	return listOf(ctx, s, "studies", studyOf)
}

// studyPopulation is the SQL of a study's units (column unit_id): the
// units exposed to its experiment, or everyone who answered one of its
// questions.
func (s *Store) studyPopulation(q experiments.StudyQuery, questions []string) (string, []any) {
	if q.Experiment != nil {
		return `SELECT x.unit_id AS unit_id FROM exposures x WHERE x.experiment = ? AND (x.variant = ? OR ? = '')`,
			[]any{q.Experiment.Key, q.Variant, q.Variant}
	}
	if len(questions) == 0 {
		return `SELECT r.unit_id AS unit_id FROM responses r WHERE 1 = 0`, nil
	}
	args := make([]any, len(questions))
	for i, qk := range questions {
		args[i] = qk
	}
	return `SELECT DISTINCT r.unit_id AS unit_id FROM responses r WHERE r.question IN (?` + strings.Repeat(",?", len(questions)-1) + `)`, args
}

// StudyRows reads each unit's first answers by the responses' primary key
// and each metric's value from the report's per-unit query, and streams
// the rows: Go holds one unit at a time.
func (s *Store) StudyRows(ctx context.Context, q experiments.StudyQuery, fn func(experiments.StudyRow)) error {
	var questions []string
	for _, v := range q.Variables {
		if v.Question != "" {
			questions = append(questions, v.Question)
		}
	}
	pop, popArgs := s.studyPopulation(q, questions)
	var cols, joins []string
	var colArgs, joinArgs []any
	for i, v := range q.Variables {
		if v.Question != "" {
			cols = append(cols, `(SELECT r.value FROM responses r WHERE r.question = ? AND r.unit_id = p.unit_id)`)
			colArgs = append(colArgs, v.Question)
			continue
		}
		m, ok := q.Experiment.Metric(v.Metric)
		if !ok {
			return experiments.Errorf(experiments.CodeInvalid, "experiment %q has no metric %q", q.Experiment.Key, v.Metric)
		}
		perUnit, args, err := s.perUnitQuery(ctx, q.Experiment, experiments.StatsQuery{Metric: m, AsOf: q.AsOf})
		if err != nil {
			return err
		}
		alias := fmt.Sprintf("m%d", i)
		cols = append(cols, alias+`.v`)
		joins = append(joins, ` LEFT JOIN (`+perUnit+`) `+alias+` ON `+alias+`.unit_id = p.unit_id`)
		joinArgs = append(joinArgs, args...)
	}
	query := `SELECT p.unit_id, ` + strings.Join(cols, ", ") + ` FROM (` + pop + `) p` + strings.Join(joins, "")
	args := append(append(append([]any{}, colArgs...), popArgs...), joinArgs...)
	rows, err := s.db.QueryxContext(ctx, s.rebind(query), args...)
	if err != nil {
		return experiments.Internal(fmt.Errorf("study rows: %w", err))
	}
	defer rows.Close()
	values := make([]sql.NullFloat64, len(q.Variables))
	dest := make([]any, len(values)+1)
	row := experiments.StudyRow{Values: make([]*float64, len(values))}
	dest[0] = &row.Unit
	for i := range values {
		dest[i+1] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return experiments.Internal(err)
		}
		for i, v := range values {
			row.Values[i] = nil
			if v.Valid {
				row.Values[i] = &values[i].Float64
			}
		}
		fn(row)
	}
	if err := rows.Err(); err != nil {
		return experiments.Internal(err)
	}
	return nil
}

func (s *Store) AnswerCounts(ctx context.Context, question string, q experiments.StudyQuery) (map[string]int64, error) {
	pop, popArgs := s.studyPopulation(q, []string{question})
	var rows []struct {
		Answer string `db:"answer"`
		N      int64  `db:"n"`
	}
	query := `SELECT r.answer AS answer, COUNT(*) AS n FROM responses r JOIN (` + pop + `) p ON p.unit_id = r.unit_id
		WHERE r.question = ? GROUP BY r.answer`
	if err := s.db.SelectContext(ctx, &rows, s.rebind(query), append(popArgs, question)...); err != nil {
		return nil, experiments.Internal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Answer] = r.N
	}
	return out, nil
}
