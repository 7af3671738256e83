package experiments

import (
	"time"

	"github.com/revealed-ab/revealed/internal/eventid"
)

// NewEventID returns a time-ordered event id (UUIDv7).
func NewEventID(now time.Time) string { return eventid.New(now) }
