// Command vhpc-sim is a vCenter lab simulator for the vHPC toolkit tests.
//
// It links govmomi's vCenter simulator, shapes its inventory after the
// original toolkit's example cluster files and adds what the stock
// simulator lacks (GPU / SR-IOV hardware, QueryConfigTarget entries, guest
// IP addresses after boot, a call counter). It is a test lab, not a
// vCenter.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	rpprof "runtime/pprof"
	"syscall"
	"time"
)

func main() {
	var opts Options
	flag.StringVar(&opts.Listen, "listen", "127.0.0.1:0", "HOST:PORT to listen on (port 0 picks a free port)")
	flag.StringVar(&opts.ConfOut, "conf-out", "", "write a vCenter.conf (YAML) for this simulator to FILE once listening")
	flag.IntVar(&opts.LatencyMs, "latency-ms", 0, "delay every SOAP call by N milliseconds")
	flag.IntVar(&opts.ExtraVMs, "extra-vms", 0, "add N small VMs (extra-vm-0001...) spread over the hosts")
	flag.IntVar(&opts.ExtraHosts, "extra-hosts", 0, "add N more hosts to COMPUTE_GPU_Cluster")
	flag.DurationVar(&opts.BootDelay, "boot-delay", 500*time.Millisecond, "time from power-on until VMware Tools and the guest IP are reported")
	flag.StringVar(&opts.GuestRoot, "guest-root", "", "folder holding each VM's guest file system (DIR/VMNAME/); default: a temporary\n"+
		"folder removed at exit. Guest programs run under bubblewrap with DIR/VMNAME bound as /:\n"+
		"a test lab, NOT a security boundary (they run as the user running vhpc-sim)")
	flag.StringVar(&opts.GuestUser, "guest-user", DefaultGuestUser, "the only user name guest operations accept")
	flag.StringVar(&opts.GuestPassword, "guest-password", DefaultGuestPassword, "the only password guest operations accept")
	pprofAddr := flag.String("pprof", "", "serve Go's pprof endpoints (/debug/pprof/) over plain HTTP on HOST:PORT (loopback only; for profiling the lab)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to FILE at exit (go tool pprof FILE)")
	flag.Parse()

	if opts.ConfOut == "" {
		fmt.Fprintln(os.Stderr, "vhpc-sim: --conf-out FILE is required")
		os.Exit(2)
	}
	if flag.NArg() != 0 || opts.ExtraVMs < 0 || opts.ExtraHosts < 0 || opts.LatencyMs < 0 || opts.BootDelay < 0 {
		flag.Usage()
		os.Exit(2)
	}

	log.SetPrefix("vhpc-sim: ")
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Fatalf("cpuprofile: %v", err)
		}
		defer stop()
	}
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr); err != nil {
			log.Fatalf("pprof: %v", err)
		}
	}
	lab, err := StartLab(opts)
	if err != nil {
		log.Fatalf("start: %v", err)
	}
	if err := lab.WriteConf(opts.ConfOut); err != nil {
		lab.Close()
		log.Fatalf("conf-out: %v", err)
	}
	log.Printf("serving https://%s/sdk (conf %s)", lab.Addr(), opts.ConfOut)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	lab.Close()
}

// startCPUProfile profiles the process until the returned stop is called.
func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := rpprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { rpprof.StopCPUProfile(); f.Close() }, nil
}

// servePprof serves net/http/pprof on addr, on its own mux (never on the
// lab's TLS listener), refusing anything but a loopback address.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(1000000) // one sample per ms blocked
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Printf("pprof on http://%s/debug/pprof/", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}
