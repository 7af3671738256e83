package cli

import (
	"math/rand/v2"
	"testing"
)

// TestUnitTable checks the table against a map over many splits, with the
// unit whose slot key is 0 (hash 0) and hashes that differ only in their
// low or their high bits.
func TestUnitTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var tab unitTable
	want := map[uint64]uint32{}
	check := func(h uint64) {
		slot, seen := tab.findOrAdd(h)
		v, had := want[h]
		if seen != had {
			t.Fatalf("hash %#x: seen %v, want %v", h, seen, had)
		}
		if seen && *slot != v {
			t.Fatalf("hash %#x: value %d, want %d", h, *slot, v)
		}
		if !seen && *slot != 0 {
			t.Fatalf("hash %#x: new with value %d", h, *slot)
		}
		v = rng.Uint32()
		*slot, want[h] = v, v
	}
	for i := range 300_000 {
		switch i % 4 {
		case 0:
			check(rng.Uint64())
		case 1:
			check(uint64(i)) // including 0
		case 2:
			check(uint64(i) << 40)
		default:
			// Again, a unit seen before.
			check(uint64(rng.IntN(i)))
		}
		if tab.len() != len(want) {
			t.Fatalf("len %d, want %d", tab.len(), len(want))
		}
	}
	for h, v := range want {
		slot, seen := tab.findOrAdd(h)
		if !seen || *slot != v {
			t.Fatalf("hash %#x: %d, %v; want %d", h, *slot, seen, v)
		}
	}
	if per := float64(tab.bytes()) / float64(tab.len()); per > 28 {
		t.Errorf("%.1f bytes a unit, want ≤ 28", per)
	}
}
