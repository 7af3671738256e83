package experiments

import (
	"fmt"
	"testing"
)

func TestExposureCacheRemembersEachUnitOfEachExperiment(t *testing.T) {
	c := newExposureCache(1000)
	c.add("exp-a", "u1")
	if !c.contains("exp-a", "u1") {
		t.Fatal("an added exposure is not remembered")
	}
	for _, k := range [][2]string{{"exp-a", "u2"}, {"exp-b", "u1"}, {"exp-a\x00u", "1"}, {"exp-", "a\x00u1"}} {
		if c.contains(k[0], k[1]) {
			t.Errorf("contains(%q, %q) without an add", k[0], k[1])
		}
	}
}

func TestExposureCacheForgetsEverythingWhenFull(t *testing.T) {
	c := newExposureCache(100)
	for i := range 100 {
		c.add("exp", fmt.Sprint("u", i))
	}
	for i := range 100 {
		if !c.contains("exp", fmt.Sprint("u", i)) {
			t.Fatalf("u%d forgotten before the cache was full", i)
		}
	}
	c.add("exp", "u100")
	if c.contains("exp", "u0") || !c.contains("exp", "u100") {
		t.Error("a full cache did not start again from the new exposure")
	}
}
