package httpstatus

import (
	"net/http"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
)

// Every code the domain can return has its own status; a code missing here
// would reach clients as a 500.
func TestEveryCodeHasAStatus(t *testing.T) {
	for code, want := range map[experiments.Code]int{
		experiments.CodeInvalid: 400, experiments.CodeUnauthorized: 401, experiments.CodeForbidden: 403,
		experiments.CodeNotFound: 404, experiments.CodeConflict: 409, experiments.CodeTooLarge: 413,
		experiments.CodeRateLimited: 429, experiments.CodeInternal: 500, experiments.CodeUnavailable: 503,
	} {
		if got := Of(code); got != want {
			t.Errorf("%s → %d, want %d", code, got, want)
		}
	}
	if got := Of("no_such_code"); got != http.StatusInternalServerError {
		t.Errorf("unknown code → %d, want 500", got)
	}
}
