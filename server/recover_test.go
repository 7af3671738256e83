package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestPanicBecomesLogged500Problem(t *testing.T) {
	var logs bytes.Buffer
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(requestContext(slog.New(slog.NewTextHandler(&logs, nil))), recoverProblem())
	e.GET("/boom", func(*gin.Context) { panic("secret driver detail") })

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusInternalServerError || p.Status != 500 {
		t.Fatalf("got %d %s, want a 500 problem", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "secret driver detail") {
		t.Fatalf("the response leaks the panic: %s", w.Body)
	}
	if w.Header().Get("Content-Type") != problemContentType || p.RequestID == "" || w.Header().Get("X-Request-ID") != p.RequestID {
		t.Fatalf("headers %v, problem %+v", w.Header(), p)
	}
	if !strings.Contains(logs.String(), "secret driver detail") {
		t.Fatalf("the panic was not logged: %s", logs.String())
	}
}
