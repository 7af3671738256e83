package openfeature_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/revealed-ab/revealed/sdk"
	revealedof "github.com/revealed-ab/revealed/sdk/openfeature"
)

func ExampleNewProvider() {
	// A stand-in for the Revealed server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/sdk/definitions":
			w.Write([]byte(`{"algorithm":"v1","etag":"1","experiments":[{"key":"human-vs-bot","salt":"human-vs-bot",
			  "status":"running","traffic":1,"variants":[{"key":"bot","weight":1,"control":true},{"key":"human","weight":1}]}]}`))
		case "/api/v1/events":
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: srv.URL, APIKey: "sdk key"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	// isolated.NewAPI keeps the example off OpenFeature's global API; with
	// the global one, call of.SetProviderAndWait and of.NewDefaultClient.
	api := isolated.NewAPI()
	if err := api.SetProviderAndWait(ctx, revealedof.NewProvider(client)); err != nil {
		log.Fatal(err)
	}
	defer api.Shutdown(ctx)
	flags := api.NewClient()

	// The targeting key is the unit id; other fields are attributes.
	unit := of.NewEvaluationContext("customer-42", map[string]any{"generation": "gen_z"})
	d, err := flags.StringValueDetails(ctx, "human-vs-bot", "bot", unit)
	fmt.Println(d.Value, d.Reason, err)

	_, err = flags.StringValueDetails(ctx, "no-such-experiment", "bot", unit)
	fmt.Println(err)

	flags.Track(ctx, "csat", unit, of.NewTrackingEventDetails(4))
	// Output:
	// human SPLIT <nil>
	// error code: FLAG_NOT_FOUND: no experiment no-such-experiment
}
