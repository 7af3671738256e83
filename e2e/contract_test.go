package e2e

import (
	"net/http"
	"testing"

	"github.com/revealed-ab/revealed/internal/testbin"
)

// TestVariantNameAccepted: issue 2 defines a variant as
// {"key","name","weight","control"}, so a definition written to the issue
// must be accepted, and the name must come back.
func TestVariantNameAccepted(t *testing.T) {
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + adminKey}, "--db", t.TempDir()+"/contract.db")
	hc := newHTTPClient(1)
	in := map[string]any{
		"key": "named-variants", "name": "Named variants", "hypothesis": "h", "unit": "customer_id",
		"variants": []map[string]any{
			{"key": "bot", "name": "Chatbot answer", "weight": 1, "control": true},
			{"key": "human", "name": "Human answer", "weight": 1},
		},
		"metrics": []map[string]any{{"key": "resolved", "kind": "binary", "higher_is_better": true}},
	}
	var got struct {
		Variants []struct {
			Key  string `json:"key"`
			Name string `json:"name"`
		} `json:"variants"`
	}
	mustCall(t, hc, "POST", p.URL+"/api/v1/experiments", in, http.StatusCreated, &got)
	if len(got.Variants) != 2 || got.Variants[0].Name != "Chatbot answer" || got.Variants[1].Name != "Human answer" {
		t.Errorf("stored variants %+v, want the names sent", got.Variants)
	}
}
