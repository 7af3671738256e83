package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

func sourceOf(r keyedRow) (*experiments.Source, error) {
	src := &experiments.Source{}
	var err error
	src.CreatedAt, src.UpdatedAt, src.Version, err = decodeKeyed(r, "source", &src.SourceInput)
	return src, err
}

func (s *Store) SaveSource(ctx context.Context, src *experiments.Source, create bool, audit *experiments.AuditEntry) error {
	row, err := newKeyedRow(src.Key, src.SourceInput, src.CreatedAt, src.UpdatedAt, src.Version)
	if err != nil {
		return err
	}
	return s.saveKeyed(ctx, "sources", "source", row, create, audit)
}

func (s *Store) GetSource(ctx context.Context, key string) (*experiments.Source, error) {
	row, err := s.getKeyed(ctx, "sources", "source", key)
	if err != nil {
		return nil, err
	}
	return sourceOf(row)
}

func (s *Store) ListSources(ctx context.Context) ([]*experiments.Source, error) {
	return listOf(ctx, s, "sources", sourceOf)
}

func (s *Store) SaveStatement(ctx context.Context, st *experiments.Statement, deleted bool, linked []experiments.LinkedClaim, audit *experiments.AuditEntry) error {
	body, err := json.Marshal(st)
	if err != nil {
		return experiments.Internal(err)
	}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		if err := s.insertStatement(ctx, tx, st, body, deleted); err != nil {
			return err
		}
		// Several claims of one experiment each move its version once.
		versions := map[string]int64{}
		for _, l := range linked {
			v, ok := versions[l.Experiment.Key]
			if !ok {
				v = l.Experiment.Version
			}
			cb, err := json.Marshal(l.Claim)
			if err != nil {
				return err
			}
			if err := s.insertClaim(ctx, tx, l.Experiment.Key, v, l.Claim, cb, false); err != nil {
				return err
			}
			versions[l.Experiment.Key] = v + 1
		}
		return nil
	})
	return adaptError(err, fmt.Sprintf("statement %q was changed by another request (version %d exists); reload it and try again", st.Key, st.Version))
}

func (s *Store) insertStatement(ctx context.Context, tx *sqlx.Tx, st *experiments.Statement, body []byte, deleted bool) error {
	_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO statements (key, version, source, body, deleted, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		st.Key, st.Version, st.Source, string(body), boolInt(deleted), st.CreatedAt.UnixMicro())
	return err
}

func (s *Store) StatementHistory(ctx context.Context, key string) ([]*experiments.Statement, []bool, error) {
	var rows []versionRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT body, deleted FROM statements WHERE key = ? ORDER BY version`), key); err != nil {
		return nil, nil, experiments.Internal(err)
	}
	if len(rows) == 0 {
		return nil, nil, experiments.Errorf(experiments.CodeNotFound, "no statement %q", key)
	}
	return allVersions[experiments.Statement](rows, "statement")
}

func (s *Store) Statements(ctx context.Context, source string) ([]*experiments.Statement, error) {
	var rows []versionRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT t.body, t.deleted FROM statements t
		WHERE t.source = ? AND t.version = (SELECT MAX(l.version) FROM statements l WHERE l.key = t.key)
		ORDER BY t.key`), source)
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return liveVersions[experiments.Statement](rows, "statement")
}

func (s *Store) ClaimsByStatement(ctx context.Context, keys []string) ([]experiments.ClaimRef, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	// The latest version of a claim decides: an edit that stops testing a
	// statement, or a deletion, unlinks it.
	q, args, err := sqlx.In(`SELECT c.experiment, c.body, c.deleted FROM claims c
		WHERE c.statement_key IN (?)
		AND c.version = (SELECT MAX(l.version) FROM claims l WHERE l.experiment = c.experiment AND l.id = c.id)
		ORDER BY c.experiment, c.id`, keys)
	if err != nil {
		return nil, experiments.Internal(err)
	}
	var rows []struct {
		Experiment string `db:"experiment"`
		versionRow
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return nil, experiments.Internal(err)
	}
	out := []experiments.ClaimRef{}
	for _, r := range rows {
		if r.Deleted != 0 {
			continue
		}
		c, err := decodeVersion[experiments.Claim](r.versionRow, "claim")
		if err != nil {
			return nil, err
		}
		out = append(out, experiments.ClaimRef{Experiment: r.Experiment, Claim: c})
	}
	return out, nil
}

// linkClaimsToStatements is the data step of migration 9: every live claim
// written before statements existed becomes a test of a statement made
// from it, of a source named after its source text. The claim keeps every
// version; the link is its next version, so nothing is overwritten. A
// statement that the same source states with the same figures in another
// experiment is shared, which is what lets the scoreboard pool it. It is
// idempotent, and on Postgres one replica runs it at a time.
func (s *Store) linkClaimsToStatements(ctx context.Context) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(8243009)`); err != nil {
			return err
		}
	}
	var rows []struct {
		Experiment string `db:"experiment"`
		versionRow
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT c.experiment, c.body, c.deleted FROM claims c
		WHERE c.statement_key = '' AND c.deleted = 0
		AND c.version = (SELECT MAX(l.version) FROM claims l WHERE l.experiment = c.experiment AND l.id = c.id)
		ORDER BY c.experiment, c.id`); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	sourceByTitle := map[string]string{}
	takenSource := map[string]bool{}
	var existing []keyedRow
	if err := tx.SelectContext(ctx, &existing, `SELECT key, body, created_at, updated_at, version FROM sources`); err != nil {
		return err
	}
	for i := range existing {
		src, err := sourceOf(existing[i])
		if err != nil {
			return err
		}
		takenSource[src.Key] = true
		sourceByTitle[src.Title] = src.Key
	}
	statements := map[string]*experiments.Statement{}
	var stRows []versionRow
	if err := tx.SelectContext(ctx, &stRows, `SELECT body, deleted FROM statements`); err != nil {
		return err
	}
	for _, r := range stRows {
		st, err := decodeVersion[experiments.Statement](r, "statement")
		if err != nil {
			return err
		}
		statements[st.Key] = st
	}
	now := time.Now().UTC()
	for _, r := range rows {
		c, err := decodeVersion[experiments.Claim](r.versionRow, "claim")
		if err != nil {
			return err
		}
		title := c.Source
		if title == "" {
			title = "Claims without a source"
		}
		srcKey, ok := sourceByTitle[title]
		if !ok {
			srcKey = uniqueKey(slugOf(title, "source"), func(k string) bool { return takenSource[k] })
			body, _ := json.Marshal(experiments.SourceInput{Key: srcKey, Title: title})
			if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO sources (key, body, created_at, updated_at, version) VALUES (?, ?, ?, ?, 1)`),
				srcKey, string(body), now.UnixMicro(), now.UnixMicro()); err != nil {
				return err
			}
			takenSource[srcKey], sourceByTitle[title] = true, srcKey
		}
		want := experiments.Statement{Statement: analysis.StatementOf("", &c.Claim), Source: srcKey, Version: 1, CreatedAt: now}
		key := uniqueKey(c.ID, func(k string) bool {
			st, taken := statements[k]
			if !taken {
				return false
			}
			want.Key = k
			return !sameStatement(st, &want)
		})
		want.Key = key
		if _, shared := statements[key]; !shared {
			body, err := json.Marshal(&want)
			if err != nil {
				return err
			}
			if err := s.insertStatement(ctx, tx, &want, body, false); err != nil {
				return err
			}
			statements[key] = &want
		}
		c.StatementKey = key
		c.Version++
		c.CreatedAt = now
		body, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO claims (experiment, id, version, body, deleted, created_at, statement_key) VALUES (?, ?, ?, ?, 0, ?, ?)`),
			r.Experiment, c.ID, c.Version, string(body), now.UnixMicro(), key); err != nil {
			return err
		}
	}
	s.log.Info("linked claims to statements", "claims", len(rows))
	return tx.Commit()
}

// sameStatement reports whether two statements say the same thing from
// the same source.
func sameStatement(a, b *experiments.Statement) bool {
	ja, _ := json.Marshal(a.Statement)
	jb, _ := json.Marshal(b.Statement)
	return a.Source == b.Source && string(ja) == string(jb)
}

// slugOf makes a key from free text: lower-case letters and digits, runs
// of anything else as one '-', at most 64 bytes; fallback when nothing is left.
func slugOf(text, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(text) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return fallback
	}
	return strings.TrimRight(b.String(), "-")
}

// uniqueKey is base, or base-2, base-3, … when taken.
func uniqueKey(base string, taken func(string) bool) string {
	key := base
	for i := 2; taken(key); i++ {
		suffix := fmt.Sprintf("-%d", i)
		key = strings.TrimRight(base[:min(len(base), 64-len(suffix))], "-") + suffix
	}
	return key
}
