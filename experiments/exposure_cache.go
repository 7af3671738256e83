package experiments

import "sync"

// exposureCache remembers recently recorded exposures so that repeated
// assignments of the same unit do not write again. It is bounded: when full
// it forgets everything, which at worst records a harmless repeat exposure
// (the store keeps each unit's first).
type exposureCache struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newExposureCache(max int) *exposureCache {
	return &exposureCache{max: max, seen: make(map[string]struct{})}
}

func (c *exposureCache) contains(experiment, unit string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[experiment+"\x00"+unit]
	return ok
}

func (c *exposureCache) add(experiment, unit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= c.max {
		clear(c.seen)
	}
	c.seen[experiment+"\x00"+unit] = struct{}{}
}
