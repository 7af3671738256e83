package openfeature

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/revealed-ab/revealed/sdk"
)

const definitions = `{"algorithm":"v1","etag":"1","experiments":[
  {"key":"human-vs-bot","salt":"human-vs-bot","status":"running","traffic":1,
   "variants":[{"key":"bot","weight":1,"control":true},{"key":"human","weight":1}],
   "targeting":[{"attribute":"generation","op":"eq","value":"gen_z"}]},
  {"key":"stopped","salt":"stopped","status":"stopped","traffic":1,
   "variants":[{"key":"a","weight":1,"control":true},{"key":"b","weight":1}]}]}`

// server serves the definitions above and records events.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	events []map[string]any
}

func newServer(t *testing.T) *server {
	s := &server{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/sdk/definitions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"1"`)
		w.Write([]byte(definitions))
	})
	mux.HandleFunc("POST /api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Events []map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		s.events = append(s.events, body.Events...)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"accepted":0,"duplicates":0}`))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, baseURL string) *sdk.Client {
	c, err := sdk.New(context.Background(), sdk.Config{BaseURL: baseURL, APIKey: "key", FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestStringEvaluation(t *testing.T) {
	p := NewProvider(newClient(t, newServer(t).URL))
	ctx := context.Background()
	tests := []struct {
		name    string
		flag    string
		flat    of.FlattenedContext
		value   string
		reason  of.Reason
		variant string
		code    of.ErrorCode
	}{
		{"assigned", "human-vs-bot", of.FlattenedContext{of.TargetingKey: "customer-42", "generation": "gen_z"}, "human", of.SplitReason, "human", ""},
		{"not targeted", "human-vs-bot", of.FlattenedContext{of.TargetingKey: "customer-42", "generation": "boomer"}, "bot", of.DefaultReason, "bot", ""},
		{"not running", "stopped", of.FlattenedContext{of.TargetingKey: "customer-42"}, "a", of.DisabledReason, "a", ""},
		{"unknown flag", "nope", of.FlattenedContext{of.TargetingKey: "customer-42"}, "fallback", of.ErrorReason, "", of.FlagNotFoundCode},
		{"no targeting key", "human-vs-bot", of.FlattenedContext{"generation": "gen_z"}, "fallback", of.ErrorReason, "", of.TargetingKeyMissingCode},
		{"empty targeting key", "human-vs-bot", of.FlattenedContext{of.TargetingKey: ""}, "fallback", of.ErrorReason, "", of.TargetingKeyMissingCode},
		{"non-string targeting key", "human-vs-bot", of.FlattenedContext{of.TargetingKey: 42}, "fallback", of.ErrorReason, "", of.InvalidContextCode},
		{"odd attribute types", "human-vs-bot", of.FlattenedContext{of.TargetingKey: "u", "generation": []int{1}, "f": func() {}}, "bot", of.DefaultReason, "bot", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.StringEvaluation(ctx, tt.flag, "fallback", tt.flat)
			d := got.ResolutionDetail()
			if got.Value != tt.value || d.Reason != tt.reason || d.Variant != tt.variant || d.ErrorCode != tt.code {
				t.Fatalf("got value %q reason %s variant %q code %q (%s), want %q %s %q %q",
					got.Value, d.Reason, d.Variant, d.ErrorCode, d.ErrorMessage, tt.value, tt.reason, tt.variant, tt.code)
			}
		})
	}
}

func TestOtherTypesMismatch(t *testing.T) {
	p := NewProvider(newClient(t, newServer(t).URL))
	flat := of.FlattenedContext{of.TargetingKey: "customer-42"}
	ctx := context.Background()
	for name, d := range map[string]of.ProviderResolutionDetail{
		"bool":   p.BooleanEvaluation(ctx, "human-vs-bot", true, flat).ProviderResolutionDetail,
		"float":  p.FloatEvaluation(ctx, "human-vs-bot", 1, flat).ProviderResolutionDetail,
		"int":    p.IntEvaluation(ctx, "human-vs-bot", 1, flat).ProviderResolutionDetail,
		"object": p.ObjectEvaluation(ctx, "human-vs-bot", nil, flat).ProviderResolutionDetail,
	} {
		if rd := d.ResolutionDetail(); rd.ErrorCode != of.TypeMismatchCode || rd.Reason != of.ErrorReason {
			t.Errorf("%s evaluation: %+v, want TYPE_MISMATCH", name, rd)
		}
	}
}

func TestNotReadyAndNilClient(t *testing.T) {
	// Nothing listens on port 1: New returns a client without definitions.
	c, err := sdk.New(context.Background(), sdk.Config{BaseURL: "http://127.0.0.1:1", APIKey: "key", DisableExposureLogging: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The tracked outcome can never be delivered: give up at once.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		c.Close(ctx)
	}()
	flat := of.FlattenedContext{of.TargetingKey: "customer-42"}
	for name, p := range map[string]*Provider{"not ready": NewProvider(c), "nil client": NewProvider(nil), "nil provider": nil} {
		want := of.ProviderNotReadyCode
		if name != "not ready" {
			want = of.ProviderFatalCode
		}
		got := p.StringEvaluation(context.Background(), "human-vs-bot", "fallback", flat)
		if rd := got.ResolutionDetail(); got.Value != "fallback" || rd.ErrorCode != want {
			t.Errorf("%s: value %q, %+v; want the default and %s", name, got.Value, rd, want)
		}
		p.Track(context.Background(), "csat", of.NewEvaluationContext("u", nil), of.NewTrackingEventDetails(1))
	}
}

// TestThroughOpenFeature goes through the OpenFeature client: flattening,
// hooks and error reporting, exposure and Track delivery.
func TestThroughOpenFeature(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv.URL)
	api := isolated.NewAPI()
	ctx := context.Background()
	if err := api.SetProviderAndWait(ctx, NewProvider(c)); err != nil {
		t.Fatal(err)
	}
	defer api.Shutdown(ctx)
	client := api.NewClient()
	ec := of.NewEvaluationContext("customer-42", map[string]any{"generation": "gen_z"})

	d, err := client.StringValueDetails(ctx, "human-vs-bot", "bot", ec)
	if err != nil || d.Value != "human" || d.Reason != of.SplitReason || d.Variant != "human" {
		t.Fatalf("StringValueDetails = %+v, %v", d, err)
	}
	if in, _ := d.FlagMetadata.GetBool("in_experiment"); !in {
		t.Errorf("flag metadata %v lacks in_experiment", d.FlagMetadata)
	}
	if _, err := client.StringValueDetails(ctx, "nope", "bot", ec); err == nil {
		t.Error("an unknown flag gave no error")
	}
	client.Track(ctx, "csat", ec, of.NewTrackingEventDetails(4))
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.events) != 2 {
		t.Fatalf("server got %v, want an exposure and an outcome", srv.events)
	}
	exp, out := srv.events[0], srv.events[1]
	if exp["type"] != "exposure" || exp["variant"] != "human" || exp["unit_id"] != "customer-42" {
		t.Errorf("exposure %v", exp)
	}
	if out["type"] != "outcome" || out["metric"] != "csat" || out["value"] != 4.0 || out["unit_id"] != "customer-42" {
		t.Errorf("outcome %v", out)
	}
}
