//go:build !linux || !cgo

package sqlstore

// releaseFreedMemory does nothing where the C library's heap cannot be
// trimmed.
func releaseFreedMemory() {}
