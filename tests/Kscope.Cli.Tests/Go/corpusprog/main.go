// corpusprog is the Go program tests/corpus/go-corpus builds with every Go toolchain Debian offers,
// in every layout (exec, PIE, stripped, cgo, external linking), for kscope's pclntab tests. Its code
// is chosen to exercise the table, not to do anything useful: inlined calls (main.inlined into
// main.work), closures, methods, struct equality (type..eq / type:.eq functions), deferred calls
// and a goroutine. Standard library only, no generics (Go 1.15 builds it too).
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

type point struct {
	X, Y int
	Name string
}

type shape interface{ Area() int }

type rect struct{ a, b point }

func (r rect) Area() int { return (r.b.X - r.a.X) * (r.b.Y - r.a.Y) }

func inlined(x int) int { return x*3 + 1 }

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += inlined(i)
	}
	return s
}

//go:noinline
func same(a, b point) bool { return a == b }

func main() {
	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = work(i * 1000)
		}(i)
	}
	wg.Wait()
	sort.Ints(results)
	shapes := []shape{rect{point{0, 0, "o"}, point{2, 3, "p"}}}
	words := strings.Fields("b a c")
	sort.Strings(words)
	fmt.Fprintln(os.Stderr, results, shapes[0].Area(), same(point{1, 2, "x"}, point{1, 2, "x"}), words, cside())
}
