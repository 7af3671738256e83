// Package eventid makes event ids: RFC 9562 version 7 UUIDs, whose
// time-ordered prefix keeps the server's unique index on event ids appending
// at its right edge instead of scattering inserts across the B-tree, which
// is what keeps idempotency cheap. The server, the SDK and the load harness
// share it; it uses only the standard library.
package eventid

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// New returns a UUIDv7: 48 bits of Unix milliseconds, then random bits.
func New(now time.Time) string {
	var b [16]byte
	rand.Read(b[6:]) // never fails since Go 1.24
	ms := uint64(now.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = 0x70 | b[6]&0x0f // version 7
	b[8] = 0x80 | b[8]&0x3f // variant 10
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
