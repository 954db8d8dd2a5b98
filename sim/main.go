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
	"os"
	"os/signal"
	"regexp"
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
	flag.IntVar(&opts.A100Hosts, "a100-hosts", 0, "add N hosts with A100 GPUs (MIG on the first, the third, ...) to\n"+
		"COMPUTE_GPU_Cluster, after the extra hosts")
	flag.DurationVar(&opts.BootDelay, "boot-delay", 500*time.Millisecond, "time from power-on until VMware Tools and the guest IP are reported")
	flag.BoolVar(&opts.Stock, "stock", false, "serve the stock govmomi simulator on the lab's inventory: none of the lab's\n"+
		"behaviour (routed methods, rules, guests, QueryConfigTarget, guest operations)")
	flag.DurationVar(&opts.CustomizationTime, "customization-time", 500*time.Millisecond,
		"how long a guest customization runs in the guest, after the boot that starts it and before its reboot")
	failRE := flag.String("customization-fail", "", "VMs whose names match this regular expression fail their guest customization\n"+
		"(CustomizationNetworkSetupFailed event; the guest keeps its interim address)")
	flag.DurationVar(&opts.GuestOpsDelay, "guest-ops-delay", 500*time.Millisecond,
		"guest operations answer GuestOperationsUnavailable this long after VMware Tools starts running")
	flag.DurationVar(&opts.CloneTime, "clone-time", 0, "CloneVM_Task runs this long, cancelable, as a full clone on real storage does\n"+
		"(default: done within the call)")
	flag.IntVar(&opts.Admission.HostUnits, "host-units", 16, "units of each host for provisioning operations at once, as vCenter counts them\n"+
		"(16 on ESXi 6.x/7.x; 0: no per-host limit); admission.go")
	flag.IntVar(&opts.Admission.FullCloneCost, "full-clone-cost", 2, "units a full clone takes on its source host and on its destination host")
	flag.IntVar(&opts.Admission.LinkedCloneCost, "linked-clone-cost", 1, "units a linked (or instant) clone takes on each side")
	flag.IntVar(&opts.Admission.MaxOperations, "max-operations", 640, "provisioning operations vCenter runs at once (0: no limit); more wait queued")
	flag.DurationVar(&opts.Admission.LinkedCloneTime, "linked-clone-time", -1, "how long a linked clone runs (default: a tenth of --clone-time)")
	flag.DurationVar(&opts.Admission.InstantCloneTime, "instant-clone-time", 0, "how long InstantClone_Task runs (default: done within the call)")
	flag.StringVar(&opts.GuestRoot, "guest-root", "", "folder holding each VM's guest file system (DIR/VMNAME/); default: a temporary\n"+
		"folder removed at exit. Guest programs run under bubblewrap with DIR/VMNAME bound as /:\n"+
		"a test lab, NOT a security boundary (they run as the user running vhpc-sim)")
	flag.StringVar(&opts.GuestUser, "guest-user", DefaultGuestUser, "the only user name guest operations accept")
	flag.StringVar(&opts.GuestPassword, "guest-password", DefaultGuestPassword, "the only password guest operations accept")
	pprofAddr := flag.String("pprof", "", "serve Go's pprof endpoints (/debug/pprof/) over plain HTTP on HOST:PORT (loopback only; for profiling the lab)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to FILE at exit (go tool pprof FILE)")
	var failMethod failRules
	flag.Var(&failMethod, "fail-method", "METHOD:REGEX[:FAULT]: a METHOD call (a *_Task: its task) on an object whose name (or\n"+
		"new name) matches REGEX fails with vim fault FAULT (default SystemError); repeatable")
	var denied privilegeFlags
	flag.Var(&denied, "deny-privilege", "PRIVILEGE (e.g. Global.ManageCustomFields): calls that need it fail with NoPermission,\n"+
		"as for a vCenter user whose role lacks it; repeatable")
	flag.IntVar(&opts.Faults.DropConnections, "drop-connections", 0, "close every Nth SOAP request's connection without an answer (0: never)")
	taskDelay, sessionTTL := new(time.Duration), new(time.Duration)
	flag.Var(seconds{taskDelay}, "task-delay", "SECONDS (or a duration such as 500ms): clone, customize, power-off and destroy\n"+
		"tasks stay running this long (CancelTask works meanwhile)")
	flag.Var(seconds{sessionTTL}, "session-ttl", "SECONDS (or a duration such as 30m): end a session idle for longer than this\n"+
		"(vCenter's default: 30 minutes; 0: never)")
	flag.Parse()
	opts.Faults.FailMethod = failMethod
	opts.DenyPrivileges = denied
	opts.Faults.TaskDelayMs = int(*taskDelay / time.Millisecond)
	opts.Faults.SessionTTL = sessionTTL.Seconds()

	if *failRE != "" {
		re, err := regexp.Compile(*failRE)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vhpc-sim: --customization-fail: %v\n", err)
			os.Exit(2)
		}
		opts.CustomizationFail = re
	}
	if err := opts.Admission.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "vhpc-sim: %v\n", err)
		os.Exit(2)
	}
	if opts.ConfOut == "" {
		fmt.Fprintln(os.Stderr, "vhpc-sim: --conf-out FILE is required")
		os.Exit(2)
	}
	if flag.NArg() != 0 || opts.ExtraVMs < 0 || opts.ExtraHosts < 0 || opts.A100Hosts < 0 || opts.LatencyMs < 0 || opts.BootDelay < 0 ||
		opts.CustomizationTime < 0 || opts.GuestOpsDelay < 0 || opts.CloneTime < 0 ||
		opts.Faults.DropConnections < 0 || *taskDelay < 0 || *sessionTTL < 0 {
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
