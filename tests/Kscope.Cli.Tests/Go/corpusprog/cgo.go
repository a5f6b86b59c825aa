//go:build cgo
// +build cgo

package main

// static int twice(int x) { return 2 * x; }
import "C"

// cside calls into C, so a cgo build links runtime/cgo and C code before Go's text.
func cside() int { return int(C.twice(21)) }
