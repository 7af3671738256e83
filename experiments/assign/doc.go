// Package assign decides which variant of an experiment a unit (a customer
// id, a device id, ...) gets. The server and the Go SDK both import it, so
// there is one implementation. It uses only the standard library, does no
// I/O, and Assign does not allocate.
//
// # Algorithm v1
//
// Version names the algorithm below. It is never changed in place: a
// different hash or bucketing rule becomes "v2", and clients that already
// assigned units keep giving the same answers.
//
// Point(seed, purpose, unit) maps three strings to a float64 in [0, 1):
//
//  1. h = 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime
//     0x100000001b3; for each byte: h ^= byte; h *= prime, modulo 2^64) over
//     the bytes of seed, one 0x00 byte, the bytes of purpose, one 0x00 byte,
//     and the bytes of unit.
//  2. h = fmix64(h), the MurmurHash3 finaliser:
//     h ^= h>>33; h *= 0xff51afd7ed558ccd; h ^= h>>33;
//     h *= 0xc4ceb9fe1a85ec53; h ^= h>>33 (all modulo 2^64).
//  3. point = (h >> 11) * 2^-53, that is the top 53 bits as a fraction,
//     which is exact in an IEEE 754 double.
//
// Strings are hashed as their UTF-8 bytes, exactly as given: no Unicode
// normalisation, no case folding, no trimming. Clients in languages whose
// strings are UTF-16 (JavaScript, Java, C#) must encode the unit id to UTF-8
// before hashing; hashing UTF-16 code units gives different points for every
// non-ASCII id (the GrowthBook JS and Go SDKs disagree on exactly this).
//
// FNV-1a alone mixes its last bytes poorly into the high bits, and ids such
// as "customer-41" and "customer-42" differ only there; fmix64 spreads every
// input bit over the whole word before the top bits are taken. The package
// tests check uniformity and the independence of different salts with
// chi-square tests over 100,000 sequential ids.
//
// Assign(d, unit, attrs) for a definition d:
//
//  1. If d is unusable (nil, no variants, not exactly one control, a weight
//     that is not finite and > 0, weights whose sum is not finite, or traffic
//     not in (0, 1]), the result is the first variant's key ("" if there are
//     none) with reason "invalid_definition". Assign checks only what it needs
//     to stay well defined; Validate is the full check.
//  2. If d.Status is not "running": the control, reason "not_running".
//  3. If the targeting conditions do not all match attrs: the control,
//     reason "not_targeted".
//  4. Holdouts, in order: if Point(h.Salt, "holdout", unit) < h.Share for
//     a holdout h of d.Holdouts, the control, reason "held_out" (and
//     Result.Holdout = h.Key).
//  5. Layer: if d.Layer is set and Point(d.Layer.Salt, "layer", unit) is
//     not in [d.Layer.Lo, d.Layer.Hi), the control, reason "outside_layer".
//     Experiments of one layer whose ranges do not overlap therefore never
//     share a unit.
//  6. The unit enters iff Point(d.Salt, "traffic", unit) < d.Traffic;
//     otherwise the control, reason "outside_traffic".
//  7. v = Point(d.Salt, "variant", unit). With total = w0 + w1 + ... + wn-1
//     and the bound of variant i = (w0 + ... + wi) / total (sums accumulated
//     left to right in float64), the unit gets the first variant i whose
//     bound is greater than v; the last variant takes whatever floating-point
//     rounding leaves over. Reason "assigned", and only then InExperiment.
//
// Steps 4 and 5 apply only to definitions with holdouts or a layer, so a
// definition without them assigns exactly as before they existed (every
// earlier vector still holds). The layer and holdout points hash their own
// salts (a layer's, shared by its experiments; a holdout's, shared by the
// experiments it lists) with their own purposes, independent of the
// experiment's traffic and variant points.
//
// The traffic and variant points use different purposes, so they are
// independent of each other: raising traffic only adds units, never moves a
// unit that was already in, and never changes a unit's variant. Changing
// weights or the salt does move units; that is a new allocation.
//
// A factorial experiment (agent × wait, say) lists its cells as variants,
// each carrying its level of every factor in Variant.Factors. Assignment
// treats cells as any other variants, so v1 covers them unchanged;
// Definition.VariantFactors turns the assigned key into the unit's levels.
//
// # Targeting
//
// A definition's conditions all have to hold (an empty list matches
// everyone). Each condition looks up one attribute:
//
//   - A missing attribute, or one whose value is nil, fails every condition,
//     including neq and not_in: nothing is known about the unit.
//   - Numbers compare by value across float64, float32, int, int8 to int64,
//     uint to uint64 and json.Number, exactly (int64(1<<53+1) is greater than
//     float64(1<<53)). NaN equals nothing and is not ordered.
//   - Strings compare byte for byte (case-sensitive); bools with bools.
//   - A value of another type than the condition's is not equal to it, so eq
//     and in fail and neq and not_in hold. There is no string to number
//     coercion: "5" is not 5.
//   - lt, lte, gt and gte hold only for a numeric attribute.
//   - A condition that fails Validate never matches.
//
// Matching does not allocate, except that a json.Number too large for a
// float64 (such as "1e999") makes strconv allocate its range error.
//
// # Test vectors
//
// testdata/vectors.json holds hash and assignment cases that every client
// must reproduce; testdata/README.md describes its schema. The cases are
// regenerated from the tables in vectors_test.go with
//
//	go test ./experiments/assign -run TestVectors -update
//
// and testdata/vectors_check.py recomputes every case from this description
// alone, as a check that does not share code with this package.
package assign
