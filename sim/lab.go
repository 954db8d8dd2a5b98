package main

import (
	"context"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

// Lab credentials: the simulator accepts only these.
const (
	LabUser     = "administrator@vsphere.local"
	LabPassword = "VMware1!Lab"
)

// Options are the command line settings.
type Options struct {
	Listen     string
	ConfOut    string
	LatencyMs  int
	ExtraVMs   int
	ExtraHosts int
	A100Hosts  int // hosts with A100 GPUs after the extra hosts (gpu_mig.go)
	BootDelay  time.Duration

	// Stock serves the govmomi simulator as it is, with the lab's inventory
	// but none of the lab's behaviour (stock.go).
	Stock             bool
	CustomizationTime time.Duration  // a customization runs this long in the guest before its reboot
	CustomizationFail *regexp.Regexp // VMs whose names match fail their customization (nil: none)
	GuestOpsDelay     time.Duration  // guest operations are unavailable this long after Tools starts
	CloneTime         time.Duration  // CloneVM_Task runs this long (0: done within the call)
	Faults            FaultSettings  // faults.go: --fail-method, --drop-connections, --task-delay, --session-ttl
	DenyPrivileges    []string       // privileges.go: --deny-privilege

	Admission AdmissionSettings // admission.go: vCenter's costs of provisioning operations

	GuestRoot     string // folder of the guests' file systems ("" = a temporary folder)
	GuestUser     string // guest operations user ("" = root)
	GuestPassword string // guest operations password ("" = VMware1!)
}

// Lab is one running simulator. govmomi's simulator keeps its inventory in
// the package global simulator.Map, so there is at most one Lab per process.
type Lab struct {
	opts   Options
	model  *simulator.Model
	client *vim25.Client // in-process client, used to build the inventory
	dsDir  string        // folder behind COMPUTE01_vsanDatastore

	srv   *labServer
	calls *callCounter
	hooks *hookRegistry // the objects receiving the methods the lab implements (routes.go)

	rulesMu sync.Mutex // serializes rule checks with the actions they allow (rules.go)
	gpus    *gpuLedger // vGPU slots and Dynamic DirectPath devices of powered-on VMs (gpu_rules.go)

	mu     sync.Mutex
	guests map[string]*guestState // VM moref value -> guest state
	ipNext int                    // next address of the DHCP pool

	macNext  int             // next vCenter-assigned MAC address (nics.go)
	macsUsed map[string]bool // every MAC address the lab has given or seen

	guestOps *guestOps // guest file systems and programs (guest_ops.go)

	hosts           []*simulator.HostSystem                 // the lab's hosts, in number order (inventory.go)
	hostEPs         map[string]*hostEndpoint                // host moref value -> its guest file endpoint (host_endpoints.go)
	hostPortNum     int                                     // the port every host endpoint listens on
	events          *customizationEvents                    // customization events (customization.go)
	faults          *labFaults                              // injected faults (faults.go)
	privileges      *labPrivileges                          // denied privileges (privileges.go)
	tasks           taskTable                               // tasks waiting out a delay (tasks.go)
	sessions        *sessionTable                           // sessions by cookie (sessions.go)
	passthruSystems map[string]types.ManagedObjectReference // host moref value -> its HostPciPassthruSystem (host_systems.go)

	admission *admission // units in use per host, queued clones (admission.go)
}

var labRunning sync.Mutex

// StartLab builds the inventory and starts serving.
func StartLab(opts Options) (*Lab, error) {
	if !labRunning.TryLock() {
		return nil, fmt.Errorf("a lab is already running in this process")
	}
	if opts.BootDelay == 0 {
		opts.BootDelay = time.Millisecond
	}
	l := &Lab{
		opts:     opts,
		calls:    newCallCounter(),
		guests:   make(map[string]*guestState),
		macsUsed: make(map[string]bool),
		gpus:     newGPULedger(),
		faults:   &labFaults{set: opts.Faults},
		sessions: newSessionTable(),
	}
	l.privileges = newLabPrivileges(opts.DenyPrivileges)
	l.admission = newAdmission(opts.Admission)
	if err := l.buildInventory(context.Background()); err != nil {
		l.cleanup()
		return nil, err
	}
	if !opts.Stock {
		l.installCustomizationEvents()
		if err := l.installGuestOps(); err != nil {
			l.cleanup()
			return nil, err
		}
	}
	if err := l.serve(); err != nil {
		l.cleanup()
		return nil, err
	}
	if !opts.Stock {
		if err := l.serveHosts(); err != nil {
			l.srv.close()
			l.cleanup()
			return nil, err
		}
	}
	return l, nil
}

// Addr is the host:port the lab listens on.
func (l *Lab) Addr() string { return l.srv.addr.String() }

// ServerIP is the address clients should use.
func (l *Lab) ServerIP() string { return l.srv.ip.String() }

// Port is the TCP port the lab listens on.
func (l *Lab) Port() int { return l.srv.addr.Port }

// WriteConf writes a vCenter.conf for this lab to file, and the CA
// certificate next to it (file + ".ca.pem"). Both are written to a temporary
// file first and renamed into place.
func (l *Lab) WriteConf(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	ca := abs + ".ca.pem"
	if err := writeAtomic(ca, l.srv.certPEM, 0644); err != nil {
		return err
	}
	conf := fmt.Sprintf("# vhpc-sim lab vCenter (test lab, not a real vCenter)\n"+
		"server: %s\nport: %d\nusername: %s\npassword: %s\nca_file: %s\n",
		yamlQuote(l.ServerIP()), l.Port(), yamlQuote(LabUser), yamlQuote(LabPassword), yamlQuote(ca))
	return writeAtomic(abs, []byte(conf), 0600)
}

// Close stops serving and removes the datastore folder. The files written
// by WriteConf stay.
func (l *Lab) Close() {
	if l.srv != nil {
		l.srv.close()
	}
	l.closeHosts()
	l.cleanup()
}

func (l *Lab) cleanup() {
	if l.guestOps != nil {
		l.guestOps.close()
	}
	if l.model != nil {
		l.model.Remove()
	}
	if l.dsDir != "" {
		_ = os.RemoveAll(l.dsDir)
	}
	labRunning.Unlock()
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := ioutil.TempFile(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// yamlQuote returns s as a double-quoted YAML scalar.
func yamlQuote(s string) string { return strconv.Quote(s) }

// listenIP is the IP clients should use for a listen address: the given
// IP, or 127.0.0.1 when listening on all addresses.
func listenIP(addr *net.TCPAddr) net.IP {
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return net.IPv4(127, 0, 0, 1).To4()
	}
	if v4 := addr.IP.To4(); v4 != nil {
		return v4
	}
	return addr.IP
}
