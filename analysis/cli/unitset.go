package cli

// unitTable maps a unit's 64-bit id hash to a 32-bit value, in 12 bytes a
// slot: the per-unit reader's set of the units seen, with the number of
// each unit's interned state (variant, segment, metrics seen).
//
// It is an extendible hash table: a directory, indexed by the top bits of
// the (mixed) hash, of fixed pages of open-addressed slots, indexed by the
// low bits. A full page splits in two by the next bit of the hash, in
// place; nothing is ever copied to a table twice the size. So memory grows
// page by page with the units, 14 to 28 bytes a unit as the pages are
// between full and half full (21 at 2.5M units), and the garbage collector
// has no old tables to collect, which a map or a doubling table leaves
// behind and which would about double the peak memory.
type unitTable struct {
	dir   []uint32 // page numbers, by the top depth bits of the slot key
	depth uint     // global depth: len(dir) is 1<<depth
	pages []*unitPage
	local []uint8  // local depth of each page
	count []uint16 // used slots of each page
	n     int

	// The slot key 0 marks an empty slot; the unit whose key is 0, if any,
	// is kept here.
	hasZero bool
	zero    uint32

	spare unitPage // scratch for a split
	sink  uint64   // what prefetch loaded, kept so that its loads are made
}

const (
	pageBits  = 10
	pageSlots = 1 << pageBits // 12 KiB a page, a size class of the Go allocator
	// pageFull is the most slots a page holds before it splits. Linear
	// probing looks at (1+1/(1-a)²)/2 slots on average for a unit not yet
	// in a page filled to a: 2.5 at half full, 32 at this limit, all in a
	// few cache lines.
	pageFull = pageSlots * 7 / 8
)

type unitPage struct {
	keys [pageSlots]uint64
	vals [pageSlots]uint32
}

// slotKey spreads the bits of an id hash (FNV-1a's low bits are weak)
// with MurmurHash3's finaliser, a bijection: two units have the same slot
// key exactly when they have the same hash.
func slotKey(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// len is the number of units in the table.
func (t *unitTable) len() int { return t.n }

// findOrAdd returns the value slot of the unit with hash h, and whether the
// unit was there already; a new unit's value is 0. The pointer is valid
// until the next call.
func (t *unitTable) findOrAdd(h uint64) (*uint32, bool) {
	k := slotKey(h)
	if k == 0 {
		seen := t.hasZero
		if !seen {
			t.hasZero, t.zero = true, 0
			t.n++
		}
		return &t.zero, seen
	}
	if t.pages == nil {
		t.dir = []uint32{0}
		t.pages = []*unitPage{new(unitPage)}
		t.local = []uint8{0}
		t.count = []uint16{0}
	}
	for {
		p := t.dir[k>>1>>(63-t.depth)]
		pg := t.pages[p]
		i := k & (pageSlots - 1)
		for {
			switch pg.keys[i] {
			case k:
				return &pg.vals[i], true
			case 0:
				if int(t.count[p]) < pageFull {
					pg.keys[i], pg.vals[i] = k, 0
					t.count[p]++
					t.n++
					return &pg.vals[i], false
				}
				goto split
			}
			i = (i + 1) & (pageSlots - 1)
		}
	split:
		t.split(p, k)
	}
}

// prefetch loads the slots where the units of hashes would be, so that the
// processor waits for them all at once rather than for each in turn when
// findOrAdd comes to it.
func (t *unitTable) prefetch(hashes []uint64) {
	if t.pages == nil {
		return
	}
	var sum, last uint64
	for _, h := range hashes {
		if h == last {
			continue // the same unit as the row before
		}
		last = h
		k := slotKey(h)
		pg := t.pages[t.dir[k>>1>>(63-t.depth)]]
		i := k & (pageSlots - 1)
		sum += pg.keys[i] + uint64(pg.vals[i])
	}
	t.sink += sum
}

// split splits page p, where key k belongs, by the next bit of its keys
// into p and a new page.
func (t *unitTable) split(p uint32, k uint64) {
	ld := uint(t.local[p])
	if ld == t.depth {
		// Double the directory: each page is named by twice the entries.
		dir := make([]uint32, 2*len(t.dir))
		for i, q := range t.dir {
			dir[2*i], dir[2*i+1] = q, q
		}
		t.dir = dir
		t.depth++
	}
	q := uint32(len(t.pages))
	t.pages = append(t.pages, new(unitPage))
	t.local[p]++
	t.local = append(t.local, t.local[p])
	t.count = append(t.count, 0)
	// The entries naming p are a run of 1<<(depth-ld); the upper half now
	// names q.
	run := 1 << (t.depth - ld)
	first := int(k>>1>>(63-ld)) << (t.depth - ld) // k's top ld bits, p's
	for i := first + run/2; i < first+run; i++ {
		t.dir[i] = q
	}
	// Put p's keys back, each in p or q by bit ld (from the top).
	old, pg := &t.spare, t.pages[p]
	*old = *pg
	*pg = unitPage{}
	t.count[p] = 0
	for i, key := range old.keys {
		if key == 0 {
			continue
		}
		dst := p
		if key<<ld>>63 == 1 {
			dst = q
		}
		d := t.pages[dst]
		j := key & (pageSlots - 1)
		for d.keys[j] != 0 {
			j = (j + 1) & (pageSlots - 1)
		}
		d.keys[j], d.vals[j] = key, old.vals[i]
		t.count[dst]++
	}
}

// bytes is the memory the table holds.
func (t *unitTable) bytes() int {
	return len(t.pages)*(pageSlots*12+3) + 4*len(t.dir) + 8*cap(t.pages)
}
