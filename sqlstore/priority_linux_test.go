package sqlstore

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// threadNice reads the calling thread's nice value from /proc.
func threadNice() (string, error) {
	b, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		return "", err
	}
	// The command name, in parentheses, may hold spaces; the fields after it
	// start with the state, and the nice value is the 17th of them.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return fields[16], nil
}

func TestAtLowPriorityLowersOnlyItsOwnThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := threadNice()
	if err != nil {
		t.Skipf("no /proc/thread-self: %v", err)
	}
	var inside string
	if err := atLowPriority(func() (err error) { inside, err = threadNice(); return err }); err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.Atoi(inside); err != nil || n < 10 {
		t.Errorf("nice inside atLowPriority = %s, want 10 or more", inside)
	}
	if after, err := threadNice(); err != nil || after != before {
		t.Errorf("the caller's nice changed from %s to %s (%v)", before, after, err)
	}
}
