// seedgen writes real Go-made inputs for kscope's fuzz seeds: a CPU and a heap profile (gzipped
// profile.proto, as /debug/pprof serves them), goroutine dumps (debug=1 and debug=2), and, with the
// argument "panic", a panic traceback on stderr. Its own binary seeds the pclntab and build info targets.
package main

import (
	"crypto/sha256"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

var sink [32]byte

func burn(d time.Duration) {
	end := time.Now().Add(d)
	b := []byte("kscope")
	for time.Now().Before(end) {
		sink = sha256.Sum256(b)
		b = sink[:]
	}
}

func parked(wg *sync.WaitGroup, ch chan int) {
	wg.Done()
	<-ch
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "panic" {
		var m map[string]int
		m["boom"]++
	}
	dir := os.Args[1]
	cpu, _ := os.Create(dir + "/cpu.pprof")
	_ = pprof.StartCPUProfile(cpu)
	burn(400 * time.Millisecond)
	pprof.StopCPUProfile()
	cpu.Close()

	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go parked(&wg, ch)
	}
	wg.Wait()
	for _, p := range []struct {
		name  string
		debug int
		file  string
	}{{"heap", 0, "heap.pprof"}, {"goroutine", 0, "goroutine.pprof"}, {"goroutine", 1, "goroutine-1.txt"}, {"goroutine", 2, "goroutine-2.txt"}} {
		f, _ := os.Create(dir + "/" + p.file)
		_ = pprof.Lookup(p.name).WriteTo(f, p.debug)
		f.Close()
	}
	close(ch)
}
