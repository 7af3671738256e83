package experiments

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// SessionTTL is how long a web session lasts.
const SessionTTL = 12 * time.Hour

// Session is a browser's login: the token lives in an HttpOnly cookie, and
// CSRF is the value every form must echo.
type Session struct {
	TokenHash string
	KeyID     string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore persists web sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns CodeNotFound for unknown or expired sessions, or
	// when the key behind the session was revoked.
	SessionByHash(ctx context.Context, tokenHash string, now time.Time) (*Session, *APIKey, error)
	DeleteSession(ctx context.Context, tokenHash string) error
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Login exchanges an API key for a session token (for the cookie) and its
// CSRF token. It returns CodeUnauthorized for a bad key.
func (s *Service) Login(ctx context.Context, secret string) (token string, sess *Session, key *APIKey, err error) {
	key, err = s.Authenticate(ctx, secret)
	if err != nil {
		return "", nil, nil, err
	}
	token = randomToken()
	now := s.nowUTC()
	sess = &Session{TokenHash: HashSecret(token), KeyID: key.ID, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, nil, err
	}
	return token, sess, key, nil
}

// Session returns the live session of a cookie token and its key, or
// CodeUnauthorized.
func (s *Service) Session(ctx context.Context, token string) (*Session, *APIKey, error) {
	if token == "" {
		return nil, nil, Errorf(CodeUnauthorized, "not logged in")
	}
	sess, key, err := s.store.SessionByHash(ctx, HashSecret(token), s.nowUTC())
	if ErrorCode(err) == CodeNotFound {
		return nil, nil, Errorf(CodeUnauthorized, "the session has expired or its key was revoked; log in again")
	}
	return sess, key, err
}

// Logout ends the session of a cookie token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, HashSecret(token))
}
