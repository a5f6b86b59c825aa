// A test program for kscope's pprof and profile tests. Standard library only (builds offline).
//
//	prog -cpuprofile cpu.pb.gz -heapprofile heap.pb.gz -for 2s   write runtime/pprof profiles and exit
//	prog -serve                                                   serve net/http/pprof on 127.0.0.1:0, print "listening ADDR"
//	prog -burn 5s                                                  burn CPU in the hot functions, then exit
//
// Known shape: main.hotInner (inlining disabled) burns ~3/4 of the CPU, main.coldLoop ~1/4, both
// under main.burn. Serve mode parks BlockedChan goroutines on a channel receive (main.blockOnChan)
// and BlockedMutex goroutines on a mutex (main.blockOnMutex).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

const (
	BlockedChan  = 7
	BlockedMutex = 3
)

var sink uint64
var keep [][]byte

//go:noinline
func hotInner(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func coldLoop(n int) uint64 {
	var x uint64 = 7
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

//go:noinline
func allocate() {
	keep = append(keep, make([]byte, 64<<10))
	if len(keep) > 64 {
		keep = keep[1:]
	}
}

//go:noinline
func burn(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sink += hotInner(3_000_000)
		sink += coldLoop(1_000_000)
		allocate()
	}
}

//go:noinline
func blockOnChan(c chan int) { <-c }

//go:noinline
func blockOnMutex(m *sync.Mutex) { m.Lock() }

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	heap := flag.String("heapprofile", "", "write a heap profile here")
	d := flag.Duration("for", 2*time.Second, "how long to burn CPU")
	serve := flag.Bool("serve", false, "serve net/http/pprof on 127.0.0.1:0")
	flag.Parse()
	runtime.MemProfileRate = 4096

	if *serve {
		c := make(chan int)
		for i := 0; i < BlockedChan; i++ {
			go blockOnChan(c)
		}
		var m sync.Mutex
		m.Lock()
		for i := 0; i < BlockedMutex; i++ {
			go blockOnMutex(&m)
		}
		go func() {
			for {
				burn(time.Second)
			}
		}()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("listening %s\n", ln.Addr())
		os.Stdout.Sync()
		http.Serve(ln, nil)
		return
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			panic(err)
		}
		pprof.StartCPUProfile(f)
		burn(*d)
		pprof.StopCPUProfile()
		f.Close()
	} else {
		burn(*d)
	}
	if *heap != "" {
		f, err := os.Create(*heap)
		if err != nil {
			panic(err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}
