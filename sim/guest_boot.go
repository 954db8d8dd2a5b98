package main

// Guests that boot: an init per running guest, /etc/rc.local at each boot,
// everything ended at power-off, a fresh uptime, the guest's own host name.
//
// A Linux guest's init starts the services enabled in it at every boot and
// ends every process at power-off. The lab gives a booted guest whose disk
// has an executable /etc/rc.local (or that runs a guest program) an init: a
// sandbox in the guest's folder with its own PID namespace (killing its PID 1
// ends every process in it, daemons included), its own UTS namespace (the
// guest's host name) and, when the lab runs as root, its own time namespace
// whose CLOCK_BOOTTIME starts at the boot (so /proc/uptime and sysinfo() say
// the guest booted then, not when the machine running the lab did: Slurm
// ignores a powering-up node whose uptime predates the power-up). The init
// runs /etc/rc.local (output to /var/log/rc.local.log in the guest) and stays.
// Guest programs started through the GuestProcessManager join its namespaces
// (nsenter; as root), so what they start ends at power-off too.
//
// At each boot the guest's /etc/hostname and /etc/hosts name the guest (its
// host name and address), as guest customization writes them.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// guestInit is the init of one running guest.
type guestInit struct {
	cmd  *exec.Cmd // unshare (as root) or bwrap, outside the sandbox
	pid  int       // the sandbox's PID 1, as this process sees it
	done chan struct{}
}

// bootInfo is what the lab knows of a guest's current boot.
type bootInfo struct {
	epoch    int     // bumped at every power change and reboot: a stale boot starts nothing
	uptime   float64 // the machine's uptime (s) when the guest booted
	hostName string
	ip       string
	vm       *simulator.VirtualMachine // its devices: /dev/nvidia0.., /usr/local/bin's tools (guest_devices.go)
}

// gpuDevices are the sandbox's /dev/nvidiaN: /dev/null bound there (the lab has no driver; Slurm's
// gres/gpu and the like look for the files).
func gpuDevices(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, "--dev-bind", "/dev/null", fmt.Sprintf("/dev/nvidia%d", i))
	}
	return out
}

// machineUptime is this machine's uptime (CLOCK_BOOTTIME) in seconds.
func machineUptime() float64 {
	data, err := ioutil.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}

// timeNamespaces says whether guests get their own uptime: unshare(1) with
// --time needs root (CAP_SYS_ADMIN) and a kernel with time namespaces (5.6+).
var timeNamespaces = func() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return false
	}
	_, err := os.Stat("/proc/self/ns/time")
	return err == nil
}()

// joinable says whether guest programs can join a guest's init (nsenter needs root).
var joinable = func() bool {
	if os.Geteuid() != 0 {
		return false
	}
	_, err := exec.LookPath("nsenter")
	return err == nil
}()

// booted records a guest's boot (vmID's guest folder exists or not) and, when
// the folder has an executable /etc/rc.local, starts its init. Called by
// finishBoot with the VM locked: the init starts in the background.
func (g *guestOps) booted(vmID, name, hostName, ip string, vm *simulator.VirtualMachine) {
	g.mu.Lock()
	b := g.boots[vmID]
	if b == nil {
		b = &bootInfo{}
		g.boots[vmID] = b
	}
	b.epoch++
	b.uptime, b.hostName, b.ip, b.vm = machineUptime(), hostName, ip, vm
	epoch := b.epoch
	g.mu.Unlock()
	dir := g.vmPath(name)
	if _, err := os.Stat(dir); err != nil {
		return // a disk nobody wrote to: nothing to name, nothing to run
	}
	writeIdentity(dir, hostName, ip)
	if fi, err := os.Stat(filepath.Join(dir, "etc", "rc.local")); err != nil || fi.Mode()&0111 == 0 || fi.IsDir() {
		return
	}
	go func() {
		if _, err := g.startInit(vmID, name, epoch, true); err != nil {
			fmt.Fprintf(os.Stderr, "vhpc-sim: guest %s: init: %v\n", name, err)
		}
	}()
}

// writeIdentity writes the guest's /etc/hostname and /etc/hosts.
func writeIdentity(dir, hostName, ip string) {
	if hostName == "" {
		return
	}
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0755)
	hosts := "127.0.0.1\tlocalhost\n"
	if ip != "" {
		hosts += ip + "\t" + hostName + "\n"
	}
	_ = writeAtomic(filepath.Join(dir, "etc", "hosts"), []byte(hosts), 0644)
	_ = writeAtomic(filepath.Join(dir, "etc", "hostname"), []byte(hostName+"\n"), 0644)
}

// shutdown ends vmID's init (and with it every process of the guest) and
// makes a boot still starting void.
func (g *guestOps) shutdown(vmID string) {
	g.mu.Lock()
	if b := g.boots[vmID]; b != nil {
		b.epoch++
	}
	init := g.inits[vmID]
	delete(g.inits, vmID)
	g.mu.Unlock()
	if init != nil {
		init.stop()
	}
}

// initFor returns vmID's running init, starting one (without rc.local) when
// the guest has none; nil when guest programs cannot join one.
func (g *guestOps) initFor(vmID, name string) *guestInit {
	if !joinable {
		return nil
	}
	g.mu.Lock()
	init, b := g.inits[vmID], g.boots[vmID]
	g.mu.Unlock()
	if init != nil {
		return init
	}
	if b == nil {
		return nil
	}
	init, err := g.startInit(vmID, name, b.epoch, false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vhpc-sim: guest %s: init: %v\n", name, err)
		return nil
	}
	return init
}

// startInit starts vmID's init for boot epoch (rc: run /etc/rc.local) unless
// that boot is over or an init runs already.
func (g *guestOps) startInit(vmID, name string, epoch int, rc bool) (*guestInit, error) {
	g.mu.Lock()
	b := g.boots[vmID]
	if b == nil || b.epoch != epoch {
		g.mu.Unlock()
		return nil, nil
	}
	booted, hostName, vm := b.uptime, b.hostName, b.vm
	g.mu.Unlock()
	// What the guest sees of its devices (read with the VM's lock: the caller holds none).
	gpus, tools := len(devicesOf(vm).gpus), ""
	if t, err := g.deviceTools(vm, name); err == nil {
		tools = t
	}
	// The guest's clock starts at the whole second after its boot: wait for it, so the offset
	// (whole seconds only) never makes its uptime longer than the time since it booted.
	offset := int64(math.Ceil(booted))
	if wait := float64(offset) - machineUptime(); timeNamespaces && wait > 0 {
		time.Sleep(time.Duration(wait*1e9) + time.Millisecond)
	}
	dir, err := g.vmDir(name)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if b := g.boots[vmID]; b == nil || b.epoch != epoch {
		return nil, nil
	}
	if init := g.inits[vmID]; init != nil {
		return init, nil
	}
	init, err := launchInit(dir, hostName, tools, offset, rc, gpus)
	if err != nil {
		return nil, err
	}
	g.inits[vmID] = init
	return init, nil
}

// initScript is the init's command: say it runs (on fd 4: the sandbox is set up
// then), rc.local (when asked), then stay.
func initScript(rc bool) string {
	script := "exec sleep infinity"
	if rc {
		script = "if [ -x /etc/rc.local ]; then mkdir -p /var/log; /etc/rc.local </dev/null >>/var/log/rc.local.log 2>&1; fi; " + script
	}
	return "echo up >&4; exec 4>&-; " + script
}

// launchInit starts the init sandbox and learns its PID 1 (bwrap --info-fd).
func launchInit(dir, hostName, tools string, offset int64, rc bool, gpus int) (*guestInit, error) {
	args := []string{"--unshare-pid", "--info-fd", "3"}
	if hostName != "" {
		args = append(args, "--unshare-uts", "--hostname", hostName)
	}
	args = append(args, sandboxArgs(dir, tools, "/", initScript(rc), gpuDevices(gpus)...)...)
	var cmd *exec.Cmd
	if timeNamespaces {
		cmd = exec.Command("unshare", append([]string{"--time", "--boottime", strconv.FormatInt(-offset, 10),
			"--fork", "--kill-child=SIGKILL", "bwrap"}, args...)...)
	} else {
		cmd = exec.Command("bwrap", args...)
	}
	r, w, err := os.Pipe() // fd 3: bwrap's --info-fd
	if err != nil {
		return nil, err
	}
	defer r.Close()
	upR, upW, err := os.Pipe() // fd 4: the init says it runs
	if err != nil {
		w.Close()
		return nil, err
	}
	defer upR.Close()
	cmd.ExtraFiles = []*os.File{w, upW}
	cmd.Env = guestEnv(nil)
	// Pdeathsig: a lab that dies leaves no guest running (unshare's --kill-child and bwrap's
	// --die-with-parent pass it on to the sandbox).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	w.Close()
	upW.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot start the guest's init: %v", err)
	}
	init := &guestInit{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(init.done)
	}()
	var info struct {
		ChildPid int `json:"child-pid"`
	}
	if err := json.NewDecoder(r).Decode(&info); err != nil || info.ChildPid == 0 {
		init.stop()
		return nil, fmt.Errorf("the guest's init did not start (bwrap --info-fd: %v)", err)
	}
	init.pid = info.ChildPid
	// bwrap tells the PID before the sandbox is set up; programs join once its command runs.
	if line, _ := bufio.NewReader(upR).ReadString('\n'); line != "up\n" {
		init.stop()
		return nil, fmt.Errorf("the guest's init did not start")
	}
	return init, nil
}

// stop kills the sandbox's PID 1 (the kernel then ends every process of the
// guest) and the processes outside it.
func (i *guestInit) stop() {
	if i.pid > 0 {
		_ = syscall.Kill(i.pid, syscall.SIGKILL)
	}
	if i.cmd.Process != nil {
		_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-i.done:
	case <-time.After(2 * time.Second):
	}
}

// joinArgs is the command line running shell command line cmdLine inside
// init's namespaces (its file system as /, its PIDs, host name, clock), in
// guest working directory wd.
func (i *guestInit) joinArgs(wd, cmdLine string) []string {
	// nsenter's --wd=DIR would open DIR outside the guest: change directory inside instead.
	args := []string{"--target", strconv.Itoa(i.pid), "--mount", "--uts", "--pid", "--root", "--wd"}
	if timeNamespaces {
		args = append(args, "--time")
	}
	return append(args, "/bin/sh", "-c", "cd "+shellQuote(wd)+" || exit 1\n"+cmdLine)
}

// guestEnv is a guest program's environment: the usual variables plus extra
// (also what ReadEnvironmentVariableInGuest reads).
func guestEnv(extra []string) []string {
	return append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/sh", "LANG=C.UTF-8",
	}, extra...)
}

// copyDisk gives a new VM a copy of its source's guest folder (a clone copies
// the disks), when the source has one.
func (g *guestOps) copyDisk(source, clone string) error {
	src := g.vmPath(source)
	if _, err := os.Stat(src); err != nil {
		return nil
	}
	dst := g.vmPath(clone)
	if _, err := os.Stat(dst); err == nil {
		_ = os.RemoveAll(dst) // a leftover of a VM of that name destroyed earlier
	}
	return copyTree(src, dst)
}

// copyTree copies folder src to dst: folders, regular files and links, modes kept.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case fi.IsDir():
			if err := os.MkdirAll(target, 0700); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode()&(os.ModePerm|os.ModeSticky))
		case fi.Mode().IsRegular():
			data, err := ioutil.ReadFile(p)
			if err != nil {
				return err
			}
			return ioutil.WriteFile(target, data, fi.Mode().Perm())
		}
		return nil // sockets, FIFOs: not on a disk that is not running
	})
}
