package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

type questionRow struct {
	Key       string         `db:"key"`
	Text      string         `db:"text"`
	Kind      string         `db:"kind"`
	Options   string         `db:"options"`
	Scale     sql.NullString `db:"scale"`
	Source    string         `db:"source"`
	CreatedAt int64          `db:"created_at"`
	UpdatedAt int64          `db:"updated_at"`
	Version   int64          `db:"version"`
	Answered  bool           `db:"answered"`
}

const questionColumns = `key, text, kind, options, scale, source, created_at, updated_at, version`

// questionSelect reads questions with whether each has a response.
const questionSelect = `SELECT ` + questionColumns + `,
	EXISTS (SELECT 1 FROM responses r WHERE r.question = q.key) AS answered FROM questions q`

func questionToRow(q *experiments.Question) (questionRow, error) {
	options, err := json.Marshal(q.Options)
	if err != nil {
		return questionRow{}, err
	}
	row := questionRow{Key: q.Key, Text: q.Text, Kind: string(q.Kind), Options: string(options), Source: q.Source,
		CreatedAt: q.CreatedAt.UnixMicro(), UpdatedAt: q.UpdatedAt.UnixMicro(), Version: q.Version}
	if q.Scale != nil {
		scale, err := json.Marshal(q.Scale)
		if err != nil {
			return questionRow{}, err
		}
		row.Scale = sql.NullString{String: string(scale), Valid: true}
	}
	return row, nil
}

func (r *questionRow) question() (*experiments.Question, error) {
	q := &experiments.Question{Key: r.Key, Text: r.Text, Kind: experiments.QuestionKind(r.Kind), Source: r.Source, Answered: r.Answered,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), Version: r.Version}
	if err := json.Unmarshal([]byte(r.Options), &q.Options); err != nil {
		return nil, experiments.Internal(fmt.Errorf("decoding question %q: %w", r.Key, err))
	}
	if r.Scale.Valid {
		q.Scale = &experiments.Scale{}
		if err := json.Unmarshal([]byte(r.Scale.String), q.Scale); err != nil {
			return nil, experiments.Internal(fmt.Errorf("decoding question %q: %w", r.Key, err))
		}
	}
	return q, nil
}

func (s *Store) CreateQuestion(ctx context.Context, q *experiments.Question, audit *experiments.AuditEntry) error {
	row, err := questionToRow(q)
	if err != nil {
		return experiments.Internal(err)
	}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO questions (`+questionColumns+`) VALUES
			(:key, :text, :kind, :options, :scale, :source, :created_at, :updated_at, :version)`, row)
		return err
	})
	return adaptError(err, fmt.Sprintf("a question with key %q already exists", q.Key))
}

func (s *Store) GetQuestion(ctx context.Context, key string) (*experiments.Question, error) {
	var row questionRow
	err := s.db.GetContext(ctx, &row, s.rebind(questionSelect+` WHERE q.key = ?`), key)
	if err == sql.ErrNoRows {
		return nil, experiments.Errorf(experiments.CodeNotFound, "no question %q", key)
	}
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return row.question()
}

func (s *Store) ListQuestions(ctx context.Context) ([]*experiments.Question, error) {
	var rows []questionRow
	if err := s.db.SelectContext(ctx, &rows, questionSelect+` ORDER BY q.key`); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]*experiments.Question, 0, len(rows))
	for i := range rows {
		q, err := rows[i].question()
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

func (s *Store) UpdateQuestion(ctx context.Context, q *experiments.Question, audit *experiments.AuditEntry) error {
	row, err := questionToRow(q)
	if err != nil {
		return experiments.Internal(err)
	}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		// The lock on answered questions is checked in the transaction: a
		// first response that lands after the service looked still counts.
		var cur questionRow
		if err := tx.GetContext(ctx, &cur, s.rebind(questionSelect+` WHERE q.key = ?`), q.Key); err == sql.ErrNoRows {
			return experiments.Errorf(experiments.CodeNotFound, "no question %q", q.Key)
		} else if err != nil {
			return err
		}
		if cur.Version != q.Version-1 {
			return experiments.Errorf(experiments.CodeConflict, "question %q was changed by another request; reload it and try again", q.Key)
		}
		if cur.Answered && (cur.Kind != row.Kind || cur.Options != row.Options || cur.Scale != row.Scale) {
			return experiments.Errorf(experiments.CodeConflict, "question %q has responses: its kind, options and scale are locked, since changing them would change what the stored answers mean", q.Key)
		}
		_, err := tx.NamedExecContext(ctx, `UPDATE questions SET text = :text, kind = :kind, options = :options, scale = :scale,
			source = :source, updated_at = :updated_at, version = :version WHERE key = :key`, row)
		return err
	})
	return adaptError(err, "conflicting update")
}

// SayDoCounts counts exposed units that answered, by first answer and
// whether they did the binary metric. It reuses the report's per-unit
// query, with the unit's first answer (whenever given) as the segment.
func (s *Store) SayDoCounts(ctx context.Context, e *experiments.Experiment, q experiments.SayDoQuery) ([]experiments.AnswerCount, error) {
	perUnit, args, err := s.perUnitQuery(ctx, e, experiments.StatsQuery{Metric: q.Metric,
		SegmentAttribute: experiments.AnswerSegmentPrefix + q.Question, AnswerAnyTime: true,
		FilterAttribute: q.SegmentAttribute, FilterValue: q.SegmentValue})
	if err != nil {
		return nil, err
	}
	query := `SELECT segment AS answer, v > 0 AS did, COUNT(*) AS units FROM (` + perUnit + `) per_unit
		WHERE segment <> '' AND v IS NOT NULL AND (variant = ? OR ? = '')
		GROUP BY segment, v > 0 ORDER BY segment`
	args = append(args, q.Variant, q.Variant)
	var out []experiments.AnswerCount
	if err := s.db.SelectContext(ctx, &out, s.rebind(query), args...); err != nil {
		return nil, experiments.Internal(fmt.Errorf("say/do counts of %s/%s: %w", e.Key, q.Question, err))
	}
	return out, nil
}

func (s *Store) LateAnswers(ctx context.Context, e *experiments.Experiment, question string) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM exposures x
		JOIN responses r ON r.question = ? AND r.unit_id = x.unit_id
		WHERE x.experiment = ? AND r.ts >= x.ts`), question, e.Key)
	if err != nil {
		return 0, experiments.Internal(err)
	}
	return n, nil
}
