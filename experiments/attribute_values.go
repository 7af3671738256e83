package experiments

import (
	"context"
	"sync"
)

// attributeValues keeps, per experiment, the distinct values of each
// exposure attribute, so that choosing the automatic segments at each
// refresh reads only the exposures written or moved since the last one
// rather than every exposure (0.9 s at 950k units on Postgres, 0.2 s on
// SQLite, with nothing changed). Each attribute keeps at most
// MaxSegmentValues+1 values: one more than that is all the choice needs.
//
// The values are this replica's, rebuilt from every exposure after a
// restart. An exposure moved earlier with other attributes leaves its old
// values counted: a rare event that can only add values, and so at worst
// leaves out an attribute that had come down to MaxSegmentValues.
type attributeValues struct {
	mu           sync.Mutex
	byExperiment map[string]*seenAttributes
}

type seenAttributes struct {
	// through: every exposure stamped below it has been read.
	through int64
	values  map[string]map[string]struct{}
}

func newAttributeValues() *attributeValues {
	return &attributeValues{byExperiment: map[string]*seenAttributes{}}
}

// counts returns the number of distinct values of each of e's exposure
// attributes, capped at MaxSegmentValues+1. through is the highest event
// sequence number of a sync that has just run (exposures stamped at or
// above it may still be written), or 0 to read every exposure afresh
// without keeping anything.
func (a *attributeValues) counts(ctx context.Context, store Store, e *Experiment, through int64) (map[string]int, error) {
	const limit = MaxSegmentValues + 1
	var since int64
	if through > 0 {
		a.mu.Lock()
		if seen := a.byExperiment[e.Key]; seen != nil {
			since = seen.through
		}
		a.mu.Unlock()
	}
	fresh, err := store.AttributeValues(ctx, e, since, limit)
	if err != nil {
		return nil, err
	}
	seen := &seenAttributes{values: map[string]map[string]struct{}{}}
	if through > 0 {
		a.mu.Lock()
		defer a.mu.Unlock()
		if kept := a.byExperiment[e.Key]; kept != nil {
			seen = kept
		} else {
			a.byExperiment[e.Key] = seen
		}
		// Another refresh may have moved it on meanwhile: what both read
		// together covers every exposure below the later of the two.
		seen.through = max(seen.through, through)
	}
	out := make(map[string]int, len(fresh))
	for attr, vs := range fresh {
		set := seen.values[attr]
		if set == nil {
			set = make(map[string]struct{}, len(vs))
			seen.values[attr] = set
		}
		for _, v := range vs {
			if len(set) >= limit {
				break
			}
			set[v] = struct{}{}
		}
	}
	for attr, set := range seen.values {
		out[attr] = len(set)
	}
	return out, nil
}
