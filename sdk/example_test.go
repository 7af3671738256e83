package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/revealed-ab/revealed/sdk"
)

// exampleServer stands in for a Revealed server: it serves one experiment
// and accepts events.
func exampleServer() (*httptest.Server, func() int) {
	const definitions = `{"algorithm":"v1","etag":"1","experiments":[
	  {"key":"human-vs-bot","salt":"human-vs-bot","status":"running","traffic":1,
	   "variants":[{"key":"bot","weight":1,"control":true},{"key":"human","weight":1}],
	   "targeting":[{"attribute":"generation","op":"in","value":["gen_z","millennial"]}]}]}`
	var mu sync.Mutex
	events := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/sdk/definitions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"1"`)
		w.Write([]byte(definitions))
	})
	mux.HandleFunc("POST /api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Events []json.RawMessage }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		events += len(body.Events)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"accepted":%d,"duplicates":0}`, len(body.Events))
	})
	return httptest.NewServer(mux), func() int { mu.Lock(); defer mu.Unlock(); return events }
}

func ExampleNew() {
	srv, _ := exampleServer()
	defer srv.Close()

	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{
		BaseURL: srv.URL, // e.g. "http://127.0.0.1:8080"
		APIKey:  "sdk key from POST /api/v1/keys",
	})
	if err != nil {
		log.Fatal(err) // only an invalid Config gets here
	}
	defer client.Close(ctx)

	a := client.Assign(ctx, "human-vs-bot", "customer-42", sdk.Attributes{"generation": "gen_z"})
	fmt.Println(a.Variant, a.InExperiment, a.Reason)
	// Output: human true assigned
}

func ExampleClient_Assign() {
	srv, _ := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: srv.URL, APIKey: "key"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	for _, c := range []struct {
		experiment, unit string
		attrs            sdk.Attributes
	}{
		{"human-vs-bot", "customer-42", sdk.Attributes{"generation": "gen_z"}},
		{"human-vs-bot", "customer-43", sdk.Attributes{"generation": "gen_z"}},
		{"human-vs-bot", "customer-42", sdk.Attributes{"generation": "boomer"}},
		{"no-such-experiment", "customer-42", nil},
	} {
		a := client.Assign(ctx, c.experiment, c.unit, c.attrs)
		// Show a.Variant whatever the reason; InExperiment says whether the
		// unit counts in the analysis.
		fmt.Printf("%s %s: variant=%q in=%v reason=%s\n", c.experiment, c.unit, a.Variant, a.InExperiment, a.Reason)
	}
	// Output:
	// human-vs-bot customer-42: variant="human" in=true reason=assigned
	// human-vs-bot customer-43: variant="bot" in=true reason=assigned
	// human-vs-bot customer-42: variant="bot" in=false reason=not_targeted
	// no-such-experiment customer-42: variant="" in=false reason=unknown_experiment
}

func ExampleClient_Track() {
	srv, received := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: srv.URL, APIKey: "key"})
	if err != nil {
		log.Fatal(err)
	}

	if a := client.Assign(ctx, "human-vs-bot", "customer-42", sdk.Attributes{"generation": "gen_z"}); a.Variant == "human" {
		// ... route the ticket to a person ...
	}
	// Outcomes belong to the customer, not to an experiment: the server
	// counts them in every experiment that exposed this unit.
	client.Track(ctx, "customer-42", "csat", 4)
	client.Track(ctx, "customer-42", "resolved", 1)

	// Close sends what is queued, here the exposure and the two outcomes.
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Close(closeCtx); err != nil {
		log.Print(err)
	}
	st := client.Stats()
	fmt.Printf("server received %d events; sent=%d dropped=%d queued=%d\n", received(), st.Sent, st.Dropped, st.Queued)
	// Output: server received 3 events; sent=3 dropped=0 queued=0
}

func ExampleClient_Respond() {
	srv, received := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: srv.URL, APIKey: "key"})
	if err != nil {
		log.Fatal(err)
	}

	// The customer's answers to survey questions created with POST
	// /api/v1/questions: an option of a choice question, a number for a
	// rating. A say_do claim then sets what they said beside what they did.
	client.Respond(ctx, "customer-42", "agent_pref", "human")
	client.Respond(ctx, "customer-42", "satisfaction", 4)
	client.Respond(ctx, "customer-42", "satisfaction", true) // neither a string nor a number: dropped here

	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Close(closeCtx); err != nil {
		log.Print(err)
	}
	st := client.Stats()
	fmt.Printf("server received %d events; sent=%d dropped=%d\n", received(), st.Sent, st.Dropped)
	// Output: server received 2 events; sent=2 dropped=1
}
