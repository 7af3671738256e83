package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

type studyRow struct {
	Key       string `db:"key"`
	Body      string `db:"body"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
	Version   int64  `db:"version"`
}

func (r *studyRow) study() (*experiments.Study, error) {
	st := &experiments.Study{CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), Version: r.Version}
	if err := json.Unmarshal([]byte(r.Body), &st.StudyInput); err != nil {
		return nil, experiments.Internal(fmt.Errorf("decoding study %q: %w", r.Key, err))
	}
	return st, nil
}

func (s *Store) SaveStudy(ctx context.Context, st *experiments.Study, create bool, audit *experiments.AuditEntry) error {
	body, err := json.Marshal(st.StudyInput)
	if err != nil {
		return experiments.Internal(err)
	}
	row := studyRow{Key: st.Key, Body: string(body), CreatedAt: st.CreatedAt.UnixMicro(), UpdatedAt: st.UpdatedAt.UnixMicro(), Version: st.Version}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		if create {
			_, err := tx.NamedExecContext(ctx, `INSERT INTO studies (key, body, created_at, updated_at, version)
				VALUES (:key, :body, :created_at, :updated_at, :version)`, row)
			return err
		}
		res, err := tx.NamedExecContext(ctx, `UPDATE studies SET body = :body, updated_at = :updated_at, version = :version
			WHERE key = :key AND version = :version - 1`, row)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.Errorf(experiments.CodeConflict, "study %q was changed by another request; reload it and try again", st.Key)
		}
		return nil
	})
	return adaptError(err, fmt.Sprintf("a study with key %q already exists", st.Key))
}

func (s *Store) GetStudy(ctx context.Context, key string) (*experiments.Study, error) {
	var row studyRow
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT key, body, created_at, updated_at, version FROM studies WHERE key = ?`), key)
	if err == sql.ErrNoRows {
		return nil, experiments.Errorf(experiments.CodeNotFound, "no study %q", key)
	}
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return row.study()
}

func (s *Store) ListStudies(ctx context.Context) ([]*experiments.Study, error) {
	var rows []studyRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT key, body, created_at, updated_at, version FROM studies ORDER BY key`); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]*experiments.Study, 0, len(rows))
	for i := range rows {
		st, err := rows[i].study()
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
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
		perUnit, args, err := s.perUnitQuery(q.Experiment, experiments.StatsQuery{Metric: m, AsOf: q.AsOf})
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
