package experiments

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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

// Authenticate returns the live key whose secret this is, or CodeUnauthorized.
func (s *Service) Authenticate(ctx context.Context, secret string) (*APIKey, error) {
	if secret == "" {
		return nil, Errorf(CodeUnauthorized, "an API key is required: Authorization: Bearer KEY")
	}
	hash := HashSecret(secret)
	k, err := s.store.KeyByHash(ctx, hash)
	if ErrorCode(err) == CodeNotFound || (err == nil && subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1) {
		return nil, InvalidKey()
	}
	return k, err
}

// InvalidKey is the error for a secret that matches no key, or a revoked one.
func InvalidKey() error { return Errorf(CodeUnauthorized, "invalid or revoked API key") }

// TouchKey records that a key was used.
func (s *Service) TouchKey(ctx context.Context, id string) error {
	return s.store.TouchKey(ctx, id, s.nowUTC())
}

// CreateKey makes a new key; its secret is returned only here.
func (s *Service) CreateKey(ctx context.Context, kind KeyKind, name string) (NewAPIKey, error) {
	var errs []FieldError
	if kind != KeyAdmin && kind != KeySDK {
		errs = append(errs, FieldError{Field: "kind", Detail: `must be "admin" or "sdk"`})
	}
	if name == "" {
		errs = append(errs, FieldError{Field: "name", Detail: "is required"})
	} else if len(name) > maxNameLen {
		errs = append(errs, FieldError{Field: "name", Detail: fmt.Sprintf("must be at most %d bytes", maxNameLen)})
	}
	if len(errs) > 0 {
		return NewAPIKey{}, Invalid("invalid key", errs)
	}
	k := generateKey(kind, name, s.nowUTC())
	if err := s.store.CreateKey(ctx, &k.APIKey, s.auditEntry(ctx, "key.create", "key:"+k.ID, nil, k.APIKey)); err != nil {
		return NewAPIKey{}, err
	}
	return k, nil
}

// ListKeys lists keys without their secrets.
func (s *Service) ListKeys(ctx context.Context) ([]*APIKey, error) { return s.store.ListKeys(ctx) }

// RevokeKey makes a key unusable from now on.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	now := s.nowUTC()
	return s.store.RevokeKey(ctx, id, now, s.auditEntry(ctx, "key.revoke", "key:"+id, nil, map[string]any{"revoked_at": now}))
}

// EnsureAdminKey makes secret a valid admin key if it is not one already.
func (s *Service) EnsureAdminKey(ctx context.Context, secret string) error {
	k, err := s.store.KeyByHash(ctx, HashSecret(secret))
	switch {
	case err == nil && k.Kind == KeyAdmin:
		return nil
	case err == nil:
		return Errorf(CodeConflict, "REVEALED_ADMIN_KEY is already stored as a %s key", k.Kind)
	case ErrorCode(err) != CodeNotFound:
		return err
	}
	key := generateKey(KeyAdmin, "REVEALED_ADMIN_KEY", s.nowUTC())
	key.Hash = HashSecret(secret)
	return s.store.CreateKey(ctx, &key.APIKey, s.auditEntry(ctx, "key.create", "key:"+key.ID, nil, key.APIKey))
}

// BootstrapAdminKey creates an admin key on a database that has none and
// returns its secret; it returns "" when keys already exist.
func (s *Service) BootstrapAdminKey(ctx context.Context) (string, error) {
	n, err := s.store.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	k, err := s.CreateKey(ctx, KeyAdmin, "bootstrap admin")
	return k.Secret, err
}
