package experiments

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry records one change: who made it, what, when, and the state
// before and after (JSON; null for a creation's before or a deletion's after).
type AuditEntry struct {
	Seq    int64           `json:"seq"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// AuditStore reads the audit log; entries are written by the store's
// changing methods, in the same transaction as the change.
type AuditStore interface {
	// Audit returns entries newest first, optionally for one target, with
	// Seq below before (0 means from the newest).
	Audit(ctx context.Context, target string, before int64, limit int) ([]AuditEntry, error)
}

type actorKey struct{}

// WithActor names who makes the changes done with ctx, e.g. an API key id.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor of ctx, "system" when none was set.
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// auditEntry describes a change about to be stored, made by the actor of ctx.
func (s *Service) auditEntry(ctx context.Context, action, target string, before, after any) *AuditEntry {
	return &AuditEntry{At: s.nowUTC(), Actor: ActorOf(ctx), Action: action, Target: target, Before: toJSON(before), After: toJSON(after)}
}

func toJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// Audit lists the audit log, newest first.
func (s *Service) Audit(ctx context.Context, target string, before int64, limit int) ([]AuditEntry, error) {
	return s.store.Audit(ctx, target, before, limit)
}
