package experiments

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// KeyKind is what an API key may do.
type KeyKind string

const (
	// KeyAdmin manages experiments, claims and keys, and reads reports.
	KeyAdmin KeyKind = "admin"
	// KeySDK may only read definitions, assign and send events.
	KeySDK KeyKind = "sdk"
)

// APIKey is a stored key. The secret itself is never stored, only its hash.
type APIKey struct {
	ID         string     `json:"id" db:"id"`
	Kind       KeyKind    `json:"kind" db:"kind"`
	Name       string     `json:"name" db:"name"`
	Hash       string     `json:"-" db:"hash"`
	CreatedAt  time.Time  `json:"created_at" db:"-"`
	LastUsedAt *time.Time `json:"last_used_at" db:"-"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty" db:"-"`
}

// NewAPIKey is the answer to creating a key: the only time Secret is shown.
type NewAPIKey struct {
	APIKey
	Secret string `json:"key"`
}

// secretPrefix lets secret scanners recognise leaked keys.
const secretPrefix = "rvl_"

// HashSecret is how a secret is stored and looked up.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// generateKey makes a key with 256 bits of randomness and a public id.
func generateKey(kind KeyKind, name string, now time.Time) NewAPIKey {
	var secret [32]byte
	var id [9]byte
	rand.Read(secret[:]) // never fails on supported platforms (Go 1.24+)
	rand.Read(id[:])
	s := secretPrefix + string(kind) + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	return NewAPIKey{
		APIKey: APIKey{
			ID:        "key_" + strings.ToLower(base64.RawURLEncoding.EncodeToString(id[:])),
			Kind:      kind,
			Name:      name,
			Hash:      HashSecret(s),
			CreatedAt: now,
		},
		Secret: s,
	}
}
