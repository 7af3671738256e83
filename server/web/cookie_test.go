package web

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// The session cookie is Secure whenever the browser used HTTPS, also when a
// proxy terminated TLS and says so.
func TestCookieIsSecureOverHTTPS(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tls    bool
		header string
		secure bool
	}{
		{"plain HTTP", false, "", false},
		{"direct TLS", true, "", true},
		{"behind a TLS-terminating proxy", false, "https", true},
		{"proxy says http", false, "http", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest("POST", "/login", nil)
			if tt.tls {
				c.Request.TLS = &tls.ConnectionState{}
			}
			if tt.header != "" {
				c.Request.Header.Set("X-Forwarded-Proto", tt.header)
			}
			(&app{}).setCookie(c, "revealed_session", "v", "/", 60)
			got := strings.Contains(w.Header().Get("Set-Cookie"), "Secure")
			if got != tt.secure {
				t.Fatalf("Set-Cookie %q: Secure %v, want %v", w.Header().Get("Set-Cookie"), got, tt.secure)
			}
		})
	}
}
