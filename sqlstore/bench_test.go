package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// BenchmarkIngest writes batches of 1,000 outcome events with time-ordered
// ids straight into the store, without HTTP or JSON.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, testdb.SQLite(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		b.StopTimer()
		events := make([]experiments.StoredEvent, batch)
		now := time.Now()
		for i := range events {
			events[i] = outcome(experiments.NewEventID(now), fmt.Sprintf("customer-%d", (n*batch+i)*7919%50000), "", "csat", 3, now.UnixMicro())
		}
		b.StartTimer()
		if _, err := s.Ingest(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
}
