package sqlstore

import "syscall"

// lowerThreadPriority sets the calling thread's nice value to 10. On Linux
// the priority is the thread's own, not the process's.
func lowerThreadPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
}
