package sqlstore

import "runtime"

// atLowPriority runs f on an operating-system thread of its own, at a lower
// CPU priority where the system supports it (Linux), so that background work
// that holds no lock gives the CPU up to requests. The thread is never
// unlocked, so it ends with f: an unprivileged process cannot raise its
// priority back.
func atLowPriority(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		lowerThreadPriority()
		done <- f()
	}()
	return <-done
}
