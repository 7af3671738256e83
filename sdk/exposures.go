package sdk

import (
	"math/rand/v2"
	"sync/atomic"
)

// exposureSetSlots bounds the exposure cache: 2^17 slots of 8 bytes, 1 MiB,
// remembering about 131,000 (experiment, unit) pairs before evicting.
const exposureSetSlots = 1 << 17

const exposureWays = 4

// exposureSet remembers which (experiment, unit) pairs have had their
// exposure queued. It is a fixed array of 64-bit hashes in 4-way buckets,
// read and written with atomics: a hit is a few loads with no lock and no
// allocation. When a bucket is full a random slot is overwritten, so an
// evicted pair is exposed again later; the server keeps the first exposure,
// so that costs an event, not correctness. 0 marks an empty slot.
type exposureSet struct {
	slots []atomic.Uint64
	mask  uint64 // bucket count - 1
}

func newExposureSet(slots int) *exposureSet {
	return &exposureSet{
		slots: make([]atomic.Uint64, slots),
		mask:  uint64(slots/exposureWays - 1),
	}
}

// add reports whether h was absent, inserting it. Of several goroutines
// adding the same h at once, one wins the compare-and-swap and the others
// see it on their next pass, so an exposure is queued once.
func (s *exposureSet) add(h uint64) bool {
	b := s.slots[(h&s.mask)*exposureWays:][:exposureWays]
	for {
		empty := -1
		for i := range b {
			switch v := b[i].Load(); {
			case v == h:
				return false
			case v == 0 && empty < 0:
				empty = i
			}
		}
		if empty >= 0 {
			if b[empty].CompareAndSwap(0, h) {
				return true
			}
			continue
		}
		victim := &b[rand.IntN(exposureWays)]
		if old := victim.Load(); old != h && victim.CompareAndSwap(old, h) {
			return true
		}
	}
}

// remove forgets h, so that a later add reports it absent again.
func (s *exposureSet) remove(h uint64) {
	b := s.slots[(h&s.mask)*exposureWays:][:exposureWays]
	for i := range b {
		if b[i].CompareAndSwap(h, 0) {
			return
		}
	}
}

const fnvPrime = 1099511628211

// exposureSeed hashes the experiment key and a 0xff separator (a byte UTF-8
// never contains) with FNV-1a; exposureKey continues from it.
func exposureSeed(experiment string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(experiment); i++ {
		h = (h ^ uint64(experiment[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime
}

// exposureKey hashes (experiment, unit) from the experiment's seed, with a
// final mix so the low bits that pick the bucket are well spread.
func exposureKey(seed uint64, unitID string) uint64 {
	const prime = fnvPrime
	h := seed
	for i := 0; i < len(unitID); i++ {
		h = (h ^ uint64(unitID[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	if h == 0 {
		h = 1
	}
	return h
}
