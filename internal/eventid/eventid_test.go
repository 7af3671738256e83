package eventid

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewIsATimeOrderedUUIDv7(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_123)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := New(t0.Add(time.Duration(i) * time.Millisecond))
		if !uuidV7.MatchString(id) {
			t.Fatalf("%q is not a version 7, variant 10 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("ids not time-ordered: %q after %q", id, prev)
		}
		prev = id
	}
	// The first 48 bits are the Unix milliseconds.
	id := New(t0)
	if got, want := strings.ReplaceAll(id[:13], "-", ""), fmt.Sprintf("%012x", t0.UnixMilli()); got != want {
		t.Fatalf("timestamp bits %s, want %s", got, want)
	}
}
