package server

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/revealed-ab/revealed/experiments"
)

// keyCacheTTL bounds how long a revoked key keeps working on a replica that
// had it cached; in exchange, no request waits on a key lookup in between.
const keyCacheTTL = 5 * time.Second

// touchEvery limits last_used_at writes to one per key per interval.
const touchEvery = time.Minute

type cachedKey struct {
	key     *experiments.APIKey
	expires time.Time
}

type authenticator struct {
	svc         *experiments.Service
	limits      *keyLimits
	rateLimited prometheus.Counter

	mu      sync.Mutex
	cache   map[string]cachedKey // by secret hash
	unknown map[string]time.Time // secret hashes of no key (or a revoked one), until when
	touched map[string]time.Time // by key id
}

// maxCachedKeys bounds each of the caches; a full cache is emptied.
const maxCachedKeys = 10000

func newAuthenticator(svc *experiments.Service) *authenticator {
	return &authenticator{svc: svc, cache: map[string]cachedKey{}, unknown: map[string]time.Time{}, touched: map[string]time.Time{}}
}

// require admits requests whose key is of one of the kinds: 401 without a
// valid key, 403 with a key of another kind.
func (a *authenticator) require(kinds ...experiments.KeyKind) gin.HandlerFunc {
	return handler(func(c *gin.Context) error {
		secret, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			return experiments.Errorf(experiments.CodeUnauthorized, "an API key is required: Authorization: Bearer KEY")
		}
		k, err := a.lookup(c.Request.Context(), secret)
		if err != nil {
			return err
		}
		allowed := false
		for _, kind := range kinds {
			allowed = allowed || k.Kind == kind
		}
		if !allowed {
			return experiments.Errorf(experiments.CodeForbidden, "a %s key may not do this; it needs a %s key", k.Kind, kinds[0])
		}
		if wait := a.limits.wait(k.ID); wait > 0 {
			a.rateLimited.Inc()
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			return experiments.Errorf(experiments.CodeRateLimited, "key %s is over its rate limit; retry after %s", k.ID, wait.Round(time.Millisecond))
		}
		c.Set(apiKeyKey, k)
		c.Request = c.Request.WithContext(experiments.WithActor(c.Request.Context(), k.ID))
		c.Next()
		return nil
	})
}

func bearer(header string) (string, bool) {
	const prefix = "Bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	secret := strings.TrimSpace(header[len(prefix):])
	return secret, secret != ""
}

func (a *authenticator) lookup(ctx context.Context, secret string) (*experiments.APIKey, error) {
	hash := experiments.HashSecret(secret)
	now := time.Now()
	a.mu.Lock()
	ck, ok := a.cache[hash]
	unknownUntil, unknown := a.unknown[hash]
	a.mu.Unlock()
	if ok && now.Before(ck.expires) {
		a.touch(ck.key.ID, now)
		return ck.key, nil
	}
	// A client sending a revoked or mistyped key again and again costs one
	// lookup per keyCacheTTL, not one per request. Secrets are random, so a
	// secret that matched no key does not come to match a new one.
	if unknown && now.Before(unknownUntil) {
		return nil, experiments.InvalidKey()
	}
	k, err := a.svc.Authenticate(ctx, secret)
	if err != nil {
		if experiments.ErrorCode(err) == experiments.CodeUnauthorized {
			a.mu.Lock()
			delete(a.cache, hash)
			if len(a.unknown) >= maxCachedKeys {
				clear(a.unknown)
			}
			a.unknown[hash] = now.Add(keyCacheTTL)
			a.mu.Unlock()
		}
		return nil, err
	}
	a.mu.Lock()
	delete(a.unknown, hash)
	if len(a.cache) >= maxCachedKeys {
		clear(a.cache)
	}
	a.cache[hash] = cachedKey{key: k, expires: now.Add(keyCacheTTL)}
	a.mu.Unlock()
	a.touch(k.ID, now)
	return k, nil
}

// forget drops a revoked key from this replica's cache at once.
func (a *authenticator) forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, ck := range a.cache {
		if ck.key.ID == id {
			delete(a.cache, h)
		}
	}
}

// touch records last_used_at in the background, at most once per interval, so
// that authentication never waits on a write.
func (a *authenticator) touch(id string, now time.Time) {
	a.mu.Lock()
	last := a.touched[id]
	due := now.Sub(last) >= touchEvery
	if due {
		a.touched[id] = now
	}
	a.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.svc.TouchKey(ctx, id) // best effort: a missed touch only delays last_used_at
		}()
	}
}

func currentKey(c *gin.Context) *experiments.APIKey {
	k, _ := c.Get(apiKeyKey)
	key, _ := k.(*experiments.APIKey)
	return key
}

// keyLimits holds one token bucket per API key.
type keyLimits struct {
	perSecond rate.Limit
	burst     int
	mu        sync.Mutex
	byKey     map[string]*rate.Limiter
}

func newKeyLimits(perSecond float64, burst int) *keyLimits {
	return &keyLimits{perSecond: rate.Limit(perSecond), burst: max(burst, 1), byKey: map[string]*rate.Limiter{}}
}

// wait takes a token for key and returns 0, or how long until one is
// available (taking none).
func (l *keyLimits) wait(key string) time.Duration {
	if l == nil || l.perSecond <= 0 {
		return 0
	}
	l.mu.Lock()
	lim := l.byKey[key]
	if lim == nil {
		lim = rate.NewLimiter(l.perSecond, l.burst)
		l.byKey[key] = lim
	}
	l.mu.Unlock()
	now := time.Now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}
