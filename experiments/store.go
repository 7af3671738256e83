package experiments

import (
	"context"
	"time"
)

// ArmStats are the sufficient statistics of one variant (within a segment,
// when one is asked for) for one metric, aggregated by the database over the
// variant's exposed units.
type ArmStats struct {
	// Other is the other experiment, for CrossStats and SharedUnits.
	Other   string `db:"other"`
	Segment string `db:"segment"`
	Variant string `db:"variant"`
	Units   int64  `db:"units"`
	// Immature units' windows had not closed; units without a value had no
	// outcome in the window for an aggregation that needs one. Both are
	// left out of Units and the sums.
	Immature     int64   `db:"immature"`
	WithoutValue int64   `db:"without_value"`
	Sum          float64 `db:"sum"`
	SumSq        float64 `db:"sum_sq"`
	// Pre-exposure values X, for CUPED: ΣX, ΣX², ΣYX.
	PreSum   float64 `db:"pre_sum"`
	PreSumSq float64 `db:"pre_sum_sq"`
	PreCross float64 `db:"pre_cross"`
	// Ratio denominators D (Sum is the numerator's): ΣD, ΣD², ΣYD.
	DenSum   float64 `db:"den_sum"`
	DenSumSq float64 `db:"den_sum_sq"`
	DenCross float64 `db:"den_cross"`
}

// StatsQuery says what MetricStats aggregates.
type StatsQuery struct {
	Metric Metric
	// Numerator and Denominator are the parts of a ratio metric.
	Numerator, Denominator string
	// SegmentAttribute, when set, groups by the value of this exposure
	// attribute too, or by the answer to a question when it is
	// "answer:QUESTION"; units without one are left out.
	SegmentAttribute string
	// Lookback, when positive, sums each unit's outcomes in
	// [first exposure − Lookback, first exposure) as its pre-exposure value.
	Lookback time.Duration
	// Cap, when set, caps each unit's value and pre-exposure value.
	Cap *float64
	// AnswerAnyTime, with a segment by answer ("answer:QUESTION"), takes a
	// unit's first answer whenever it came; otherwise only an answer given
	// before its first exposure counts, since a later one may be an effect
	// of the treatment.
	AnswerAnyTime bool
	// FilterAttribute and FilterValue, when set, keep only the units with
	// that value of the exposure attribute.
	FilterAttribute, FilterValue string
	// AsOf (µs since the epoch) decides maturity: a unit whose window ends
	// after it is left out of a windowed metric; 0 leaves none out.
	AsOf int64
	// Stored reads the per-unit values kept up to date by SyncUnitValues
	// instead of computing them from the events; they are as of the last
	// sync. Values stored for another definition of the metric (or another
	// lookback) are never read: the events are then used.
	Stored bool
}

// SayDoQuery says which units a say_do table counts.
type SayDoQuery struct {
	Metric   Metric
	Question string
	Variant  string
	// SegmentAttribute and SegmentValue restrict to units with that
	// exposure attribute value.
	SegmentAttribute, SegmentValue string
}

// AnswerCount is how many units gave Answer first and did (or did not do)
// the metric.
type AnswerCount struct {
	Answer string `db:"answer"`
	Did    bool   `db:"did"`
	Units  int64  `db:"units"`
}

// Snapshot is a stored report.
type Snapshot struct {
	ComputedAt time.Time
	Report     []byte
}

// Store persists experiments, events and keys. Methods return *Error values
// with CodeNotFound or CodeConflict where they say so, CodeInternal otherwise.
type Store interface {
	SessionStore
	AuditStore

	// The methods that change something take the change's audit entry,
	// which they store in the same transaction (nil stores none).

	// CreateExperiment returns CodeConflict if the key exists.
	CreateExperiment(ctx context.Context, e *Experiment, audit *AuditEntry) error
	// GetExperiment returns CodeNotFound if there is no such experiment.
	GetExperiment(ctx context.Context, key string) (*Experiment, error)
	ListExperiments(ctx context.Context) ([]*Experiment, error)
	// UpdateExperiment replaces the stored experiment if its version is still
	// e.Version-1, and returns CodeConflict if another writer got there first.
	UpdateExperiment(ctx context.Context, e *Experiment, audit *AuditEntry) error
	// CatalogVersion changes whenever any experiment is created or changed.
	CatalogVersion(ctx context.Context) (int64, error)

	// Ingest stores events whose ids are new and counts the others as
	// duplicates. It returns only once the events are durable.
	Ingest(ctx context.Context, events []StoredEvent) (IngestResult, error)
	// RecordExposures durably keeps each unit's earliest exposure per
	// experiment, without adding to the events log.
	RecordExposures(ctx context.Context, exposures []StoredEvent) error
	// MetricStats aggregates a metric over each variant's exposed units,
	// counting outcomes from each unit's first exposure on.
	MetricStats(ctx context.Context, e *Experiment, q StatsQuery) ([]ArmStats, error)
	// SyncUnitValues brings the stored per-unit values of e's metrics (one
	// query each) up to date with the events and exposures, recomputing only
	// the units that changed since the last sync, and returns the highest
	// event sequence number they include.
	SyncUnitValues(ctx context.Context, e *Experiment, qs []StatsQuery) (int64, error)
	// CopyOutcomes does ahead of time the first step of SyncUnitValues,
	// which is shared by every experiment: it orders the outcomes written
	// since the last call by unit.
	CopyOutcomes(ctx context.Context) error
	// CrossStats aggregates q's metric over e's units that are also exposed
	// to each of others, by other experiment (Other), its arm (Segment) and
	// e's arm (Variant), for the interaction checks.
	CrossStats(ctx context.Context, e *Experiment, q StatsQuery, others []string) ([]ArmStats, error)
	// SharedUnits counts e's exposed units that are also exposed to each of
	// others, by other experiment, its arm (Segment) and e's arm.
	SharedUnits(ctx context.Context, e *Experiment, others []string) ([]ArmStats, error)
	// UnitValueQuantile is the p-quantile (R's type 7) of the per-unit
	// values of q.Metric that the report counts (mature, with a value),
	// pooled over all variants.
	UnitValueQuantile(ctx context.Context, e *Experiment, q StatsQuery, p float64) (float64, error)
	// AttributeValues lists the distinct values of each attribute of e's
	// exposures written or moved at or after event sequence number since
	// (changed_seq), at most limit values per attribute.
	AttributeValues(ctx context.Context, e *Experiment, since int64, limit int) (map[string][]string, error)

	// SaveClaim stores a claim version (a tombstone when deleted) of
	// experiment e, which it was validated against, and counts the change in
	// e's version. It returns CodeConflict if that claim version exists, or
	// if e has changed since it was read: the claim would not have been
	// checked against the stored definition.
	SaveClaim(ctx context.Context, e *Experiment, c *Claim, deleted bool, audit *AuditEntry) error
	// Claims returns the latest version of each live claim.
	Claims(ctx context.Context, experiment string) ([]*Claim, error)
	// ClaimHistory returns every version of a claim, oldest first, with
	// deleted set on tombstones; CodeNotFound if there is none.
	ClaimHistory(ctx context.Context, experiment, id string) (versions []*Claim, deleted []bool, err error)

	SaveSnapshot(ctx context.Context, experiment string, at time.Time, report []byte) error
	// TryLease takes lease name for holder until now+ttl if it is free,
	// expired or already holder's, and reports whether holder has it.
	TryLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up holder's lease, if it has it.
	ReleaseLease(ctx context.Context, name, holder string) error
	// Snapshots returns up to limit stored reports, newest first.
	Snapshots(ctx context.Context, experiment string, limit int) ([]Snapshot, error)

	// CreateQuestion returns CodeConflict if the key exists.
	CreateQuestion(ctx context.Context, q *Question, audit *AuditEntry) error
	// GetQuestion returns CodeNotFound for an unknown key; Answered says
	// whether it has a response.
	GetQuestion(ctx context.Context, key string) (*Question, error)
	ListQuestions(ctx context.Context) ([]*Question, error)
	// UpdateQuestion replaces the question if its version is still
	// q.Version-1 (CodeConflict otherwise), and refuses (CodeConflict) a
	// change of kind, options or scale once it has a response.
	UpdateQuestion(ctx context.Context, q *Question, audit *AuditEntry) error
	// SayDoCounts counts the units exposed to e (of the variant, and with
	// the exposure attribute filter, when given) that answered the
	// question, by their first answer and whether they did the binary
	// metric.
	SayDoCounts(ctx context.Context, e *Experiment, q SayDoQuery) ([]AnswerCount, error)
	// LateAnswers counts the units exposed to e whose first answer to the
	// question came at or after their first exposure.
	LateAnswers(ctx context.Context, e *Experiment, question string) (int64, error)

	// SaveStudy creates a study (CodeConflict if the key exists) or
	// replaces it if its version is still st.Version-1 (CodeConflict
	// otherwise).
	SaveStudy(ctx context.Context, st *Study, create bool, audit *AuditEntry) error
	// GetStudy returns CodeNotFound for an unknown key.
	GetStudy(ctx context.Context, key string) (*Study, error)
	ListStudies(ctx context.Context) ([]*Study, error)
	// StudyRows streams each unit of the study's population with its
	// values of q.Variables (nil where it has none) to fn, one at a time.
	StudyRows(ctx context.Context, q StudyQuery, fn func(StudyRow)) error
	// AnswerCounts counts the first answers to a question of the units in
	// q's population, by answer.
	AnswerCounts(ctx context.Context, question string, q StudyQuery) (map[string]int64, error)

	// SaveSource creates a source (CodeConflict if the key exists) or
	// replaces it if its version is still src.Version-1 (CodeConflict
	// otherwise).
	SaveSource(ctx context.Context, src *Source, create bool, audit *AuditEntry) error
	// GetSource returns CodeNotFound for an unknown key.
	GetSource(ctx context.Context, key string) (*Source, error)
	ListSources(ctx context.Context) ([]*Source, error)
	// SaveStatement stores a statement version (a tombstone when deleted)
	// and, in the same transaction, the next version of each linked claim,
	// counting the change in each claim's experiment version as SaveClaim
	// does. CodeConflict if that statement or claim version exists, or an
	// experiment changed since it was read.
	SaveStatement(ctx context.Context, st *Statement, deleted bool, linked []LinkedClaim, audit *AuditEntry) error
	// StatementHistory returns every version of a statement, oldest first,
	// with deleted set on tombstones; CodeNotFound if there is none.
	StatementHistory(ctx context.Context, key string) (versions []*Statement, deleted []bool, err error)
	// Statements returns the latest version of each live statement of a
	// source, by key.
	Statements(ctx context.Context, source string) ([]*Statement, error)
	// ClaimsByStatement returns the latest version of each live claim, of
	// any experiment, that tests one of the statements.
	ClaimsByStatement(ctx context.Context, keys []string) ([]ClaimRef, error)

	// SaveLayer and SaveHoldout create (CodeConflict if the key exists).
	SaveLayer(ctx context.Context, l *Layer, audit *AuditEntry) error
	GetLayer(ctx context.Context, key string) (*Layer, error)
	ListLayers(ctx context.Context) ([]*Layer, error)
	SaveHoldout(ctx context.Context, h *Holdout, audit *AuditEntry) error
	GetHoldout(ctx context.Context, key string) (*Holdout, error)
	ListHoldouts(ctx context.Context) ([]*Holdout, error)

	CreateKey(ctx context.Context, k *APIKey, audit *AuditEntry) error
	// KeyByHash returns CodeNotFound for unknown or revoked keys.
	KeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeKey returns CodeNotFound if there is no such active key.
	RevokeKey(ctx context.Context, id string, at time.Time, audit *AuditEntry) error
	TouchKey(ctx context.Context, id string, at time.Time) error
	CountKeys(ctx context.Context) (int, error)
	Ping(ctx context.Context) error
}
