//go:build !cgo
// +build !cgo

package main

func cside() int { return 42 }
