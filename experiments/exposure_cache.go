package experiments

import (
	"hash/maphash"
	"sync"
)

// exposureCache remembers recently recorded exposures so that repeated
// assignments of the same unit do not write again. It is bounded: when full
// it forgets everything, which at worst records a harmless repeat exposure
// (the store keeps each unit's first).
//
// It holds 128-bit hashes rather than the ids: a map of a million strings
// is a million pointers for the garbage collector to trace on every cycle,
// which cost a sixth of the CPU of an assignment. Two distinct units would
// have to collide in all 128 bits to lose an exposure.
type exposureCache struct {
	mu     sync.Mutex
	max    int
	seeds  [2]maphash.Seed
	hashed map[exposureHash]struct{}
}

type exposureHash [2]uint64

func newExposureCache(max int) *exposureCache {
	return &exposureCache{max: max, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, hashed: make(map[exposureHash]struct{})}
}

func (c *exposureCache) hash(experiment, unit string) exposureHash {
	var out exposureHash
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(experiment)
		h.WriteByte(0)
		h.WriteString(unit)
		out[i] = h.Sum64()
	}
	return out
}

func (c *exposureCache) contains(experiment, unit string) bool {
	k := c.hash(experiment, unit)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.hashed[k]
	return ok
}

func (c *exposureCache) add(experiment, unit string) {
	k := c.hash(experiment, unit)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hashed) >= c.max {
		clear(c.hashed)
	}
	c.hashed[k] = struct{}{}
}
