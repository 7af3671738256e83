package server

import (
	"context"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// TestUnknownKeysAreCachedBriefly checks that a secret that matched no key
// is answered 401 from the cache for a while, without a database read: with
// a cancelled context every read fails, and not with a 401.
func TestUnknownKeysAreCachedBriefly(t *testing.T) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, testdb.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := experiments.NewService(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(svc)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.lookup(cancelled, "rvl_never_issued"); experiments.ErrorCode(err) == experiments.CodeUnauthorized {
		t.Fatalf("a lookup with a cancelled context answered %v; the test needs it to fail otherwise", err)
	}
	if _, err := a.lookup(ctx, "rvl_never_issued"); experiments.ErrorCode(err) != experiments.CodeUnauthorized {
		t.Fatalf("unknown key: %v, want unauthorized", err)
	}
	if _, err := a.lookup(cancelled, "rvl_never_issued"); experiments.ErrorCode(err) != experiments.CodeUnauthorized {
		t.Errorf("the same unknown key again: %v, want unauthorized from the cache", err)
	}
	// A key that is issued is not held up by the cache of unknown ones.
	k, err := svc.CreateKey(ctx, experiments.KeySDK, "sdk")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.lookup(ctx, k.Secret); err != nil || got.ID != k.ID {
		t.Errorf("issued key: %v %v", got, err)
	}
}
