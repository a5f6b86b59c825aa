// The "service under load" of kscope's tests (tests/Kscope.TestKit/ServiceUnderLoad.cs builds and runs
// it). Standard library only, builds offline with Debian's go (1.19+).
//
//	service -serve [-max-lifetime 10m]          HTTP on 127.0.0.1:0 with net/http/pprof; prints "listening ADDR"
//	service -load URL -c N -for D [-n K]         N closed-loop clients GET URL/work?n=K until D has passed
//	service -burn D                              a child process: spins in main.childBurn for D, then exits
//	service -work D                              no HTTP: GOMAXPROCS goroutines loop over main.handleWork for D
//
// Known CPU shape of one /work request (every function below is noinline, so each one is a frame of
// its own in a profile). Shares of the service's samples under load, measured with perf record -F 999
// -p on this project's amd64 machine (4,269 samples over 20 s, load average 50): the five are well
// above everything else (the next, the kernel's pvm_irq_enable, had 5.9 % here, 2-9 % in other runs; the
// runtime's and net/http's own under 0.5 % each), so their set is a stable "top 5" for differential
// tests; their order among themselves is not.
//
//	crypto/sha256.block     25 %  (main.hashBlocks: sha256 over a 64 KiB buffer 6n times)
//	main.xorshiftLoop       17 %
//	main.lcgLoop            17 %  (a multiply-add loop)
//	main.fnvLoop            16 %  (byte-wise FNV-1a: loads and multiplies)
//	main.popLoop            15 %  (clears bits one by one)
//
// Endpoints:
//
//	/work?n=K               one request of the shape above, K units (default 4)
//	/stats                  {"pid":…, "requests":…, "threads":…, "gomaxprocs":…}
//	/spawn-thread?ms=M      answers the tid of an OS thread born for this request (none had it before), which
//	                        spins in main.lockedSpin for M ms and then ends: a thread born after a profiler
//	                        attached, that also exits while it is sampled
//	/spawn-child?ms=M       fork/execs "service -burn Mms" (main.childBurn) and answers its pid
//	/debug/pprof/…          net/http/pprof
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	requests atomic.Int64
	sink     atomic.Uint64
	buffer   = make([]byte, 64<<10)
)

//go:noinline
func hashBlocks(n int) uint64 {
	var sum [32]byte
	for i := 0; i < n; i++ {
		buffer[i%len(buffer)] ^= sum[0]
		sum = sha256.Sum256(buffer)
	}
	return uint64(sum[0])
}

//go:noinline
func lcgLoop(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func xorshiftLoop(n int) uint64 {
	var x uint64 = 88172645463325252
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

//go:noinline
func fnvLoop(n int) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < n; i++ {
		h ^= uint64(buffer[i&(len(buffer)-1)])
		h *= 1099511628211
	}
	return h
}

//go:noinline
func popLoop(n int) uint64 {
	var c uint64
	for i := 0; i < n; i++ {
		v := uint64(i) * 0x9E3779B97F4A7C15
		for v != 0 {
			v &= v - 1
			c++
		}
	}
	return c
}

//go:noinline
func handleWork(n int) uint64 {
	s := hashBlocks(6 * n)
	s += lcgLoop(400_000 * n)
	s += xorshiftLoop(280_000 * n)
	s += fnvLoop(380_000 * n)
	s += popLoop(16_000 * n)
	return s
}

//go:noinline
func lockedSpin(d time.Duration) uint64 {
	var x uint64 = 3
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 100_000; i++ {
			x = x*2862933555777941757 + 3037000493
		}
	}
	return x
}

//go:noinline
func childBurn(d time.Duration) uint64 {
	var x uint64 = 5
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 100_000; i++ {
			x ^= x << 7
			x ^= x >> 9
		}
	}
	return x
}

func millis(r *http.Request, def int) time.Duration {
	if v, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && v >= 0 && v <= 600_000 {
		return time.Duration(v) * time.Millisecond
	}
	return time.Duration(def) * time.Millisecond
}

func threads() int {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	return len(entries)
}

// spawnThread returns the tid of an OS thread that did not exist when it was called, spinning in
// main.lockedSpin for d, then ending (its goroutine exits still locked to it). It parks goroutines
// locked to threads (each parked locked goroutine holds its thread) until the runtime has to create a
// new one, then lets the others go (unlocked: those threads live on).
func spawnThread(d time.Duration) (int, error) {
	before := map[int]bool{}
	if entries, err := os.ReadDir("/proc/self/task"); err == nil {
		for _, e := range entries {
			if tid, err := strconv.Atoi(e.Name()); err == nil {
				before[tid] = true
			}
		}
	}
	var parked []chan bool
	defer func() {
		for _, c := range parked {
			c <- false
		}
	}()
	for i := 0; i < 256; i++ {
		spin, tids := make(chan bool), make(chan int)
		go func() {
			runtime.LockOSThread()
			tids <- syscall.Gettid()
			if <-spin {
				sink.Add(lockedSpin(d))
				return // still locked: the runtime ends this thread
			}
			runtime.UnlockOSThread()
		}()
		tid := <-tids
		if !before[tid] {
			spin <- true
			return tid, nil
		}
		parked = append(parked, spin)
	}
	return 0, fmt.Errorf("no new thread after 256 locked goroutines")
}

func serve(maxLifetime time.Duration) {
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 || n > 1000 {
			n = 4
		}
		sink.Add(handleWork(n))
		requests.Add(1)
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{
			"pid": int64(os.Getpid()), "requests": requests.Load(), "threads": int64(threads()),
			"gomaxprocs": int64(runtime.GOMAXPROCS(0)),
		})
	})
	http.HandleFunc("/spawn-thread", func(w http.ResponseWriter, r *http.Request) {
		tid, err := spawnThread(millis(r, 1000))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, tid)
	})
	var children sync.WaitGroup
	http.HandleFunc("/spawn-child", func(w http.ResponseWriter, r *http.Request) {
		d := millis(r, 1000)
		cmd := exec.Command(os.Args[0], "-burn", d.String())
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		children.Add(1)
		go func() { cmd.Wait(); children.Done() }()
		fmt.Fprintln(w, cmd.Process.Pid)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A leaked service (a test runner killed before it disposed it) ends on its own.
	time.AfterFunc(maxLifetime, func() { os.Exit(0) })
	fmt.Printf("listening %s\n", ln.Addr())
	os.Stdout.Sync()
	http.Serve(ln, nil)
}

func load(url string, clients int, d time.Duration, n int) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	target := fmt.Sprintf("%s/work?n=%d", url, n)
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	var failing atomic.Int64
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				resp, err := client.Get(target)
				if err != nil {
					// The service is gone (or not up yet): give up after 5 s of failures.
					if failing.Add(1) > 50 {
						return
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				failing.Store(0)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

func main() {
	doServe := flag.Bool("serve", false, "serve HTTP on 127.0.0.1:0")
	maxLifetime := flag.Duration("max-lifetime", 10*time.Minute, "-serve: exit after this long")
	url := flag.String("load", "", "drive the service at this base URL")
	clients := flag.Int("c", 4, "-load: concurrent clients")
	d := flag.Duration("for", 60*time.Second, "-load: how long")
	n := flag.Int("n", 4, "-load: work units per request")
	burn := flag.Duration("burn", 0, "spin in main.childBurn this long, then exit")
	work := flag.Duration("work", 0, "run main.handleWork on GOMAXPROCS goroutines this long, then exit")
	flag.Parse()
	switch {
	case *doServe:
		serve(*maxLifetime)
	case *url != "":
		if *clients < 1 || *clients > 64 || *d > 30*time.Minute {
			fmt.Fprintln(os.Stderr, "-c must be 1..64 and -for at most 30m")
			os.Exit(2)
		}
		load(*url, *clients, *d, *n)
	case *burn > 0:
		sink.Add(childBurn(*burn))
	case *work > 0:
		var wg sync.WaitGroup
		end := time.Now().Add(*work)
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					sink.Add(handleWork(*n))
				}
			}()
		}
		wg.Wait()
	default:
		flag.Usage()
		os.Exit(2)
	}
}
