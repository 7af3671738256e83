//go:build !linux

package sqlstore

// lowerThreadPriority does nothing where a priority is the process's.
func lowerThreadPriority() {}
