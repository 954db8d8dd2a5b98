package main

import (
	"io/ioutil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// hostProcesses counts this machine's processes running exactly "sleep SECONDS" with a
// SECONDS that starts with prefix (a shell whose command line holds the text is not one).
func hostProcesses(prefix string) int {
	n := 0
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		data, err := ioutil.ReadFile(f)
		argv := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if err == nil && len(argv) == 2 && argv[0] == "sleep" && strings.HasPrefix(argv[1], prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func guestFile(name, p string) string {
	data, _ := ioutil.ReadFile(filepath.Join(testLab.guestOps.vmPath(name), p))
	return string(data)
}

func TestGuestBootRunsRcLocalAndPowerOffEndsIt(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("boot-1", nil, nil)
	dir := testLab.guestOps.vmPath("boot-1")
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0755); err != nil {
		t.Fatal(err)
	}
	rc := "#!/bin/sh\nhostname > /tmp/hostname.out\ncat /proc/uptime > /tmp/uptime.out\necho boot >> /tmp/boots.out\n" +
		"setsid sleep 8765.25 </dev/null >/dev/null 2>&1 &\n"
	if err := ioutil.WriteFile(filepath.Join(dir, "etc", "rc.local"), []byte(rc), 0755); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	e.waitTools(vm)
	if !waitFor(10*time.Second, func() bool { return hostProcesses("8765.25") == 1 }) {
		t.Fatalf("rc.local did not start its daemon; rc.local.log: %q", guestFile("boot-1", "var/log/rc.local.log"))
	}
	if got := strings.TrimSpace(guestFile("boot-1", "tmp/hostname.out")); got != "boot-1" {
		t.Errorf("the guest's host name is %q", got)
	}
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"guest.ipAddress"}, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Guest.IpAddress, "127.100.") {
		t.Errorf("DHCP address %q is not in 127.100.0.0/16", m.Guest.IpAddress)
	}
	if hosts := guestFile("boot-1", "etc/hosts"); !strings.Contains(hosts, m.Guest.IpAddress+"\tboot-1") {
		t.Errorf("/etc/hosts %q does not name the guest", hosts)
	}
	if timeNamespaces {
		up, _ := strconv.ParseFloat(strings.Fields(guestFile("boot-1", "tmp/uptime.out") + " x")[0], 64)
		if up > 3 {
			t.Errorf("the guest's uptime at rc.local is %.2f s: it booted just now", up)
		}
	}
	// A daemon a guest program starts ends at power-off too (the program joins the guest's init).
	if joinable {
		ops := guest.NewOperationsManager(e.c.Client, vm.Reference())
		pm, err := ops.ProcessManager(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		auth := &types.NamePasswordAuthentication{Username: "root", Password: "VMware1!"}
		waitFor(5*time.Second, func() bool {
			_, err = pm.StartProgram(e.ctx, auth, &types.GuestProgramSpec{ProgramPath: "/bin/sh",
				Arguments: "-c 'hostname > /tmp/prog-hostname.out; setsid sleep 8765.75 </dev/null >/dev/null 2>&1 &'"})
			return err == nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !waitFor(5*time.Second, func() bool { return hostProcesses("8765.75") == 1 }) {
			t.Fatal("the guest program's daemon did not start")
		}
		if got := strings.TrimSpace(guestFile("boot-1", "tmp/prog-hostname.out")); got != "boot-1" {
			t.Errorf("a guest program sees host name %q", got)
		}
	}
	e.powerOff(vm)
	if !waitFor(5*time.Second, func() bool { return hostProcesses("8765.") == 0 }) {
		t.Fatal("power-off left the guest's processes running")
	}
	// The next power-on runs rc.local again.
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Count(guestFile("boot-1", "tmp/boots.out"), "boot") == 2 }) {
		t.Fatalf("rc.local did not run at the second boot: %q", guestFile("boot-1", "tmp/boots.out"))
	}
	e.destroyMade()
	if !waitFor(5*time.Second, func() bool { return hostProcesses("8765.") == 0 }) {
		t.Fatal("destroying the VM left the guest's processes running")
	}
}

func TestGuestBootWithoutExecutableRcLocalStartsNothing(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("boot-2", nil, nil)
	dir := testLab.guestOps.vmPath("boot-2")
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0755)
	if err := ioutil.WriteFile(filepath.Join(dir, "etc", "rc.local"), []byte("#!/bin/sh\necho ran > /tmp/ran\n"), 0644); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	e.waitTools(vm)
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "tmp", "ran")); err == nil {
		t.Error("a non-executable rc.local ran")
	}
	testLab.guestOps.mu.Lock()
	init := testLab.guestOps.inits[vm.Reference().Value]
	testLab.guestOps.mu.Unlock()
	if init != nil {
		t.Error("a guest without rc.local got an init at boot")
	}
}

func TestCloneCopiesTheSourcesGuestDisk(t *testing.T) {
	e := newLabEnv(t)
	tdir := testLab.guestOps.vmPath(TemplateName)
	if err := os.MkdirAll(filepath.Join(tdir, "etc", "munge"), 0700); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tdir)
	if err := ioutil.WriteFile(filepath.Join(tdir, "etc", "munge", "munge.key"), []byte("secret"), 0600); err != nil {
		t.Fatal(err)
	}
	e.mustClone("boot-copy", nil, nil)
	key := filepath.Join(testLab.guestOps.vmPath("boot-copy"), "etc", "munge", "munge.key")
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0600 || guestFile("boot-copy", "etc/munge/munge.key") != "secret" {
		t.Fatalf("the clone's disk lacks its template's file: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(key)); err != nil || fi.Mode().Perm() != 0700 {
		t.Errorf("folder mode not kept: %v %v", fi, err)
	}
}

func TestGuestSeesADeviceFileForEachGPU(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(6)
	vm := e.mustClone("boot-gpu", h, reserved(gpuDevice(GPUIds[0], e.hostUUID(h)), vgpuDevice("grid_v100-8q")))
	dir := testLab.guestOps.vmPath("boot-gpu")
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0755)
	rc := "#!/bin/sh\nls /dev | grep nvidia > /tmp/devices\n"
	if err := ioutil.WriteFile(filepath.Join(dir, "etc", "rc.local"), []byte(rc), 0755); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return guestFile("boot-gpu", "tmp/devices") != "" }) {
		t.Fatal("rc.local did not run")
	}
	if got := guestFile("boot-gpu", "tmp/devices"); got != "nvidia0\nnvidia1\n" {
		t.Errorf("a VM with a passthrough V100 and a vGPU sees /dev: %q", got)
	}
}
