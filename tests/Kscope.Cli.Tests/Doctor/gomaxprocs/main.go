// Prints the GOMAXPROCS the Go runtime picked at start-up (its default: no GOMAXPROCS in the
// environment), then waits to be examined by `kscope doctor --pid` and killed.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	fmt.Printf("GOMAXPROCS=%d NumCPU=%d\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	os.Stdout.Sync()
	time.Sleep(time.Minute)
}
