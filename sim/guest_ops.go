package main

// Guest operations for lab VMs (issue 8): GuestFileManager and
// GuestProcessManager for any powered-on VM whose VMware Tools run.
//
// VM NAME's guest file system is the folder GUESTROOT/NAME/ (a guest path
// /tmp/x.sh is GUESTROOT/NAME/tmp/x.sh). Programs run under bubblewrap with
// that folder bound as /, the host's /usr read-only with the usual /bin,
// /lib, /lib64, /sbin links, and /proc, /dev. This is a test lab, not a
// security boundary: guest programs run as the user running vhpc-sim.
//
// The stock simulator registers GuestFileManager / GuestProcessManager
// objects that only work for container-backed VMs; installGuestOps replaces
// them in the registry (same references, so the ServiceContent stays as
// is). File transfers use https://HOST:PORT/guestFile?id=TOKEN, HOST being
// the inventory name of the host running the VM, as vCenter gives it; the
// host's own endpoint serves it (host_endpoints.go).

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Default guest credentials (the original toolkit's examples use these).
const (
	DefaultGuestUser     = "root"
	DefaultGuestPassword = "VMware1!"
)

// transferTTL is how long a file transfer URL stays valid.
const transferTTL = 10 * time.Minute

type guestTransfer struct {
	host      types.ManagedObjectReference // the host whose endpoint serves it
	vmName    string
	guestPath string
	toGuest   bool
	overwrite bool
	mode      os.FileMode
	expires   time.Time
}

type guestProc struct {
	info   types.GuestProcessInfo
	exited bool // info.ExitCode holds its exit code (0 included: guest_process.go)
	cmd    *exec.Cmd
	done   chan struct{}
}

// guestOps holds the guest side of every lab VM.
type guestOps struct {
	lab      *Lab
	root     string
	tempRoot bool // root was made by the lab and is removed at exit

	mu        sync.Mutex
	transfers map[string]*guestTransfer
	procs     map[string]map[int64]*guestProc // VM moref value -> pid -> process
	nextPid   int64
	inits     map[string]*guestInit // VM moref value -> its running init (guest_boot.go)
	boots     map[string]*bootInfo  // VM moref value -> its current boot (guest_boot.go)
}

func newGuestOps(l *Lab) (*guestOps, error) {
	g := &guestOps{
		lab:       l,
		root:      l.opts.GuestRoot,
		transfers: make(map[string]*guestTransfer),
		procs:     make(map[string]map[int64]*guestProc),
		nextPid:   1000,
		inits:     make(map[string]*guestInit),
		boots:     make(map[string]*bootInfo),
	}
	if g.root == "" {
		dir, err := ioutil.TempDir("", "vhpc-sim-guests-")
		if err != nil {
			return nil, err
		}
		g.root, g.tempRoot = dir, true
	} else {
		abs, err := filepath.Abs(g.root)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0755); err != nil {
			return nil, err
		}
		g.root = abs
	}
	return g, nil
}

// installGuestOps replaces the stock guest managers with the lab's.
func (l *Lab) installGuestOps() error {
	g, err := newGuestOps(l)
	if err != nil {
		return err
	}
	l.guestOps = g
	ref := types.ManagedObjectReference{Type: "GuestOperationsManager", Value: "guestOperationsManager"}
	gom, ok := simulator.Map.Get(ref).(*simulator.GuestOperationsManager)
	if !ok || gom.FileManager == nil || gom.ProcessManager == nil {
		return fmt.Errorf("no GuestOperationsManager in the simulator")
	}
	fm := &labGuestFileManager{ops: g}
	fm.Self = *gom.FileManager
	simulator.Map.Put(fm)
	pm := &labGuestProcessManager{ops: g}
	pm.Self = *gom.ProcessManager
	simulator.Map.Put(pm)
	simulator.Map.AddHandler(&guestOpsWatcher{ops: g})
	return nil
}

// close kills the guest programs still running and removes a temporary root.
func (g *guestOps) close() {
	g.mu.Lock()
	var running []*guestProc
	for _, procs := range g.procs {
		for _, p := range procs {
			running = append(running, p)
		}
	}
	g.mu.Unlock()
	for _, p := range running {
		p.kill()
	}
	for _, p := range running {
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
	}
	g.mu.Lock()
	inits := g.inits
	g.inits = make(map[string]*guestInit)
	g.mu.Unlock()
	for _, init := range inits {
		init.stop()
	}
	if g.tempRoot {
		_ = os.RemoveAll(g.root)
	}
}

// guestFault builds a SOAP fault.
func guestFault(msg string, f types.BaseMethodFault) *soap.Fault { return simulator.Fault(msg, f) }

// vmDir returns the host folder of vm's guest file system, creating it
// when needed with tmp/, root/, home/, run/, var/log/, var/tmp/, a minimal etc/
// (passwd, group, shadow with root only; hostname), the mount points usr/,
// proc/, dev/, sys/ and
// the links bin, lib, lib64, sbin -> usr/....
func (g *guestOps) vmDir(name string) (string, error) {
	dir := g.vmPath(name)
	if _, err := os.Stat(filepath.Join(dir, "etc", "passwd")); err == nil {
		return dir, nil
	}
	for _, sub := range []string{"tmp", "root", "home", "etc", "usr", "proc", "dev", "sys", "run", "var/log", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0755); err != nil {
			return "", err
		}
	}
	// The usual links into /usr, made here once: bwrap --symlink writes them
	// into the bound folder and refuses to run when they already exist.
	for _, link := range []string{"bin", "lib", "lib64", "sbin"} {
		if _, err := os.Lstat(filepath.Join(dir, link)); os.IsNotExist(err) {
			if err := os.Symlink("usr/"+link, filepath.Join(dir, link)); err != nil {
				return "", err
			}
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 01777); err != nil {
		return "", err
	}
	// A minimal user database, so that id, useradd and friends work.
	for _, f := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"group", "root:x:0:\nusers:x:100:\n", 0644},
		{"shadow", "root:*:19000:0:99999:7:::\n", 0600},
		{"hostname", name + "\n", 0644},
		{"passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644}, // last: marks the folder complete
	} {
		if err := ioutil.WriteFile(filepath.Join(dir, "etc", f.name), []byte(f.data), f.mode); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// vmPath is the host folder of VM name's guest file system.
func (g *guestOps) vmPath(name string) string {
	safe := strings.NewReplacer("/", "_", "\x00", "_").Replace(name)
	if safe == "" || safe == "." || safe == ".." {
		safe = "_" + safe
	}
	return filepath.Join(g.root, safe)
}

// hostPath is where an absolute guest path is on the lab's host, resolved
// as the guest would (guest_paths.go); "" when it would leave the guest.
func hostPath(vmDir, guestPath string) string {
	gp, err := resolveGuest(vmDir, guestPath, true)
	if err != nil {
		return ""
	}
	return gp.host
}

// prepare checks what vSphere checks before a guest operation and returns
// the VM and its name: the VM exists, is powered on, Tools run, and the
// credentials are the lab's guest credentials.
func (g *guestOps) prepare(ref types.ManagedObjectReference, auth types.BaseGuestAuthentication) (*simulator.VirtualMachine, string, *soap.Fault) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return nil, "", guestFault("managed object not found: "+ref.Value, &types.ManagedObjectNotFound{Obj: ref})
	}
	var name string
	var power types.VirtualMachinePowerState
	var tools string
	simulator.Map.WithLock(vm, func() {
		name = vm.Name
		power = vm.Runtime.PowerState
		tools = vm.Guest.ToolsRunningStatus
	})
	if power != types.VirtualMachinePowerStatePoweredOn {
		return nil, "", guestFault(fmt.Sprintf("The operation is not allowed in the current power state (%s).", power),
			&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: power})
	}
	// Tools running does not mean ready: the guest operations agent
	// answers a while after Tools starts (--guest-ops-delay).
	if tools != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) || !g.lab.guestOpsReady(ref) {
		return nil, "", guestFault("The guest operations agent could not be contacted.", &types.GuestOperationsUnavailable{})
	}
	user, pass := g.lab.opts.GuestUser, g.lab.opts.GuestPassword
	if user == "" {
		user = DefaultGuestUser
	}
	if pass == "" {
		pass = DefaultGuestPassword
	}
	np, ok := auth.(*types.NamePasswordAuthentication)
	if !ok || np.Username != user || np.Password != pass {
		return nil, "", guestFault("Failed to authenticate with the guest operating system using the supplied credentials.",
			&types.InvalidGuestLogin{})
	}
	return vm, name, nil
}

func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// transferURL registers a transfer of vm's and returns its URL on the
// endpoint of the host running vm.
func (g *guestOps) transferURL(vm *simulator.VirtualMachine, t *guestTransfer) (string, *soap.Fault) {
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.Host != nil {
			t.host = *vm.Runtime.Host
		}
	})
	token := newToken()
	url, ok := g.lab.hostTransferURL(t.host, token)
	if !ok {
		return "", guestFault("The host of the virtual machine cannot serve file transfers.",
			&types.GuestOperationsUnavailable{})
	}
	t.expires = time.Now().Add(transferTTL)
	g.mu.Lock()
	for k, old := range g.transfers {
		if time.Now().After(old.expires) {
			delete(g.transfers, k)
		}
	}
	g.transfers[token] = t
	g.mu.Unlock()
	return url, nil
}

// ---- GuestFileManager ----

type labGuestFileManager struct {
	mo.GuestFileManager
	ops *guestOps
}

// Lock and Unlock opt out of the simulator's per-object lock: calls on
// different VMs need not wait for each other.
func (*labGuestFileManager) Lock()   {}
func (*labGuestFileManager) Unlock() {}

func (m *labGuestFileManager) InitiateFileTransferToGuest(ctx *simulator.Context, req *types.InitiateFileTransferToGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferToGuestBody)
	vm, name, fault := m.ops.prepare(req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	if !path.IsAbs(req.GuestFilePath) {
		body.Fault_ = guestFault("guest file path must be absolute: "+req.GuestFilePath,
			&types.InvalidArgument{InvalidProperty: "guestFilePath"})
		return body
	}
	dir, err := m.ops.vmDir(name)
	if err != nil {
		body.Fault_ = guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		return body
	}
	file, fault := writablePath(dir, req.GuestFilePath) // guest_paths.go
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	if fi, err := os.Stat(filepath.Dir(file)); err != nil || !fi.IsDir() {
		body.Fault_ = guestFault("File "+path.Dir(req.GuestFilePath)+" was not found",
			&types.FileNotFound{FileFault: types.FileFault{File: path.Dir(req.GuestFilePath)}})
		return body
	}
	if fi, err := os.Stat(file); err == nil {
		if fi.IsDir() {
			body.Fault_ = guestFault(req.GuestFilePath+" is a directory",
				&types.NotAFile{FileFault: types.FileFault{File: req.GuestFilePath}})
			return body
		}
		if !req.Overwrite {
			body.Fault_ = guestFault("File "+req.GuestFilePath+" already exists",
				&types.FileAlreadyExists{FileFault: types.FileFault{File: req.GuestFilePath}})
			return body
		}
	}
	mode := os.FileMode(0644)
	if attrs, ok := req.FileAttributes.(*types.GuestPosixFileAttributes); ok && attrs.Permissions != 0 {
		mode = os.FileMode(attrs.Permissions) & os.ModePerm
	}
	t := &guestTransfer{vmName: name, guestPath: req.GuestFilePath, toGuest: true, overwrite: req.Overwrite, mode: mode}
	url, fault := m.ops.transferURL(vm, t)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.InitiateFileTransferToGuestResponse{Returnval: url}
	return body
}

func (m *labGuestFileManager) InitiateFileTransferFromGuest(ctx *simulator.Context, req *types.InitiateFileTransferFromGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferFromGuestBody)
	vm, name, fault := m.ops.prepare(req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	dir, err := m.ops.vmDir(name)
	if err != nil {
		body.Fault_ = guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		return body
	}
	fi, err := os.Stat(hostPath(dir, req.GuestFilePath))
	if err != nil || !path.IsAbs(req.GuestFilePath) {
		body.Fault_ = guestFault("File "+req.GuestFilePath+" was not found",
			&types.FileNotFound{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	if fi.IsDir() {
		body.Fault_ = guestFault(req.GuestFilePath+" is a directory",
			&types.NotAFile{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	mtime := fi.ModTime()
	url, fault := m.ops.transferURL(vm, &guestTransfer{vmName: name, guestPath: req.GuestFilePath})
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.InitiateFileTransferFromGuestResponse{Returnval: types.FileTransferInformation{
		Attributes: &types.GuestPosixFileAttributes{
			GuestFileAttributes: types.GuestFileAttributes{ModificationTime: &mtime},
			Permissions:         int64(fi.Mode().Perm()),
		},
		Size: fi.Size(),
		Url:  url,
	}}
	return body
}

// serveGuestFile answers PUT (to guest) and GET (from guest) on a transfer
// URL, on the endpoint of host (a transfer is served by its VM's host only).
func (l *Lab) serveGuestFile(w http.ResponseWriter, r *http.Request, host types.ManagedObjectReference) {
	g := l.guestOps
	token := r.URL.Query().Get("id")
	g.mu.Lock()
	t := g.transfers[token]
	if t != nil && t.host != host {
		t = nil
	}
	if t != nil && time.Now().After(t.expires) {
		delete(g.transfers, token)
		t = nil
	}
	if t != nil && t.toGuest && r.Method == http.MethodPut {
		delete(g.transfers, token) // an upload URL is good for one PUT
	}
	g.mu.Unlock()
	if t == nil {
		http.Error(w, "unknown or expired transfer", http.StatusNotFound)
		return
	}
	dir, err := g.vmDir(t.vmName)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	file := hostPath(dir, t.guestPath)
	if t.toGuest {
		if file, _ = writablePath(dir, t.guestPath); file == "" {
			http.Error(w, "permission denied", http.StatusForbidden)
			return
		}
	}
	switch {
	case t.toGuest && r.Method == http.MethodPut:
		if _, err := os.Stat(file); err == nil && !t.overwrite {
			http.Error(w, "file exists", http.StatusConflict)
			return
		}
		tmp, err := ioutil.TempFile(filepath.Dir(file), ".upload-")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, err = io.Copy(tmp, r.Body)
		if err == nil {
			err = tmp.Chmod(t.mode)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), file)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case !t.toGuest && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		f, err := os.Open(file)
		if err != nil {
			http.Error(w, "file not found", http.StatusNotFound)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", fi.ModTime(), f)
	default:
		http.Error(w, "method not allowed for this transfer", http.StatusMethodNotAllowed)
	}
}

// ---- GuestProcessManager ----

type labGuestProcessManager struct {
	mo.GuestProcessManager
	ops *guestOps
}

func (*labGuestProcessManager) Lock()   {}
func (*labGuestProcessManager) Unlock() {}

// guestExists reports whether an absolute guest path exists inside the
// sandbox (the /usr binds and links, and the device tools, included).
func guestExists(vmDir, tools, p string) bool {
	p = path.Clean("/" + p)
	if tools != "" && (p == guestToolsBin || strings.HasPrefix(p, guestToolsBin+"/")) {
		_, err := os.Stat(filepath.Join(tools, strings.TrimPrefix(p, guestToolsBin)))
		return err == nil
	}
	if p == "/proc" || p == "/dev" || strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/dev/") {
		return true
	}
	file := hostPath(vmDir, p)
	if file == "" {
		return false
	}
	_, err := os.Stat(file)
	return err == nil
}

func (m *labGuestProcessManager) StartProgramInGuest(ctx *simulator.Context, req *types.StartProgramInGuest) soap.HasFault {
	body := new(methods.StartProgramInGuestBody)
	vm, name, fault := m.ops.prepare(req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	if req.Spec == nil {
		body.Fault_ = guestFault("spec is required", &types.InvalidArgument{InvalidProperty: "spec"})
		return body
	}
	spec := req.Spec.GetGuestProgramSpec()
	if !path.IsAbs(spec.ProgramPath) {
		body.Fault_ = guestFault("program path must be absolute: "+spec.ProgramPath,
			&types.InvalidArgument{InvalidProperty: "spec.programPath"})
		return body
	}
	dir, err := m.ops.vmDir(name)
	if err != nil {
		body.Fault_ = guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		return body
	}
	tools, err := m.ops.deviceTools(vm, name) // guest_devices.go: nvidia-smi, ibv_devinfo
	if err != nil {
		body.Fault_ = guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		return body
	}
	if !guestExists(dir, tools, spec.ProgramPath) {
		body.Fault_ = guestFault("File "+spec.ProgramPath+" was not found",
			&types.FileNotFound{FileFault: types.FileFault{File: spec.ProgramPath}})
		return body
	}
	wd := "/"
	if spec.WorkingDirectory != "" {
		wd = path.Clean("/" + spec.WorkingDirectory)
		if fi, err := os.Stat(hostPath(dir, wd)); err != nil || !fi.IsDir() {
			body.Fault_ = guestFault("File "+spec.WorkingDirectory+" was not found",
				&types.FileNotFound{FileFault: types.FileFault{File: spec.WorkingDirectory}})
			return body
		}
	}
	pid, err := m.ops.start(vm.Self.Value, name, dir, tools, wd, spec)
	if err != nil {
		body.Fault_ = guestFault(err.Error(), &types.SystemError{Reason: err.Error()})
		return body
	}
	body.Res = &types.StartProgramInGuestResponse{Returnval: pid}
	return body
}

// sandboxArgs is the bubblewrap command line that runs shell command line
// cmdLine in the guest folder dir, in guest working directory wd. The links
// /bin, /lib, /lib64, /sbin -> usr/... are in dir already (vmDir): bwrap's
// --symlink would write them into dir and fail on the next run. The guest
// has the machine's packages: /usr and the links of /etc/alternatives that
// point into it (Debian's slurmd is /usr/sbin/slurmd -> /etc/alternatives/...),
// and /sys read-only (hardware discovery).
// tools (when not "") is the VM's device tools folder, bound read-only at
// /usr/local/bin (guest_devices.go); devices are more mounts inside /dev
// (guest_boot.go: the GPUs' /dev/nvidiaN).
func sandboxArgs(dir, tools, wd, cmdLine string, devices ...string) []string {
	args := []string{
		"--bind", dir, "/",
		"--ro-bind", "/usr", "/usr",
	}
	if tools != "" {
		args = append(args, "--ro-bind", tools, guestToolsBin)
	}
	args = append(args,
		"--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
		"--ro-bind", "/sys", "/sys",
		"--proc", "/proc",
		"--dev", "/dev",
	)
	args = append(args, devices...)
	return append(args, "--die-with-parent", "--chdir", wd, "/bin/sh", "-c", cmdLine)
}

// start runs a program in the guest of VM vmID (named name) and returns its
// pid: inside the guest's init (guest_boot.go) when it can join one, else in
// a sandbox of its own.
func (g *guestOps) start(vmID, name, dir, tools, wd string, spec *types.GuestProgramSpec) (int64, error) {
	cmdLine := spec.ProgramPath
	if spec.Arguments != "" {
		cmdLine += " " + spec.Arguments
	}
	cmd := exec.Command("bwrap", sandboxArgs(dir, tools, wd, cmdLine)...)
	if init := g.initFor(vmID, name); init != nil {
		cmd = exec.Command("nsenter", init.joinArgs(wd, cmdLine)...)
	}
	cmd.Env = guestEnv(spec.EnvVariables)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cannot start the guest program: %v", err)
	}
	g.mu.Lock()
	g.nextPid++
	p := &guestProc{
		info: types.GuestProcessInfo{
			Name: path.Base(spec.ProgramPath), Pid: g.nextPid, Owner: "root",
			CmdLine: strconv.Quote(spec.ProgramPath) + " " + spec.Arguments, StartTime: time.Now().UTC(),
		},
		cmd:  cmd,
		done: make(chan struct{}),
	}
	if g.procs[vmID] == nil {
		g.procs[vmID] = make(map[int64]*guestProc)
	}
	g.procs[vmID][p.info.Pid] = p
	g.mu.Unlock()
	go func() {
		err := cmd.Wait()
		code := int32(0)
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
			} else {
				code = int32(ee.ExitCode())
			}
		} else if err != nil {
			code = 127
		}
		end := time.Now().UTC()
		g.mu.Lock()
		p.info.EndTime = &end
		p.info.ExitCode = code
		p.exited = true
		g.mu.Unlock()
		close(p.done)
	}()
	return p.info.Pid, nil
}

// kill ends the process group of a guest program.
func (p *guestProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (m *labGuestProcessManager) ListProcessesInGuest(ctx *simulator.Context, req *types.ListProcessesInGuest) soap.HasFault {
	body := new(listProcessesBody) // guest_process.go: exitCode 0 is sent
	vm, _, fault := m.ops.prepare(req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	want := make(map[int64]bool, len(req.Pids))
	for _, pid := range req.Pids {
		want[pid] = true
	}
	var out []processInfo
	m.ops.mu.Lock()
	for pid, p := range m.ops.procs[vm.Self.Value] {
		if len(want) == 0 || want[pid] {
			out = append(out, p.wire())
		}
	}
	m.ops.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	body.Res = &ListProcessesInGuestResponse{Returnval: out}
	return body
}

func (m *labGuestProcessManager) TerminateProcessInGuest(ctx *simulator.Context, req *types.TerminateProcessInGuest) soap.HasFault {
	body := new(methods.TerminateProcessInGuestBody)
	vm, _, fault := m.ops.prepare(req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	m.ops.mu.Lock()
	p := m.ops.procs[vm.Self.Value][req.Pid]
	m.ops.mu.Unlock()
	if p == nil {
		body.Fault_ = guestFault(fmt.Sprintf("The process %d was not found", req.Pid), &types.GuestProcessNotFound{Pid: req.Pid})
		return body
	}
	p.kill()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	body.Res = &types.TerminateProcessInGuestResponse{}
	return body
}

// guestOpsWatcher ends a VM's guest programs when it powers off or goes
// away, as a real guest's would. Its files survive power-off and go when
// the VM is destroyed.
type guestOpsWatcher struct {
	mo.ExtensibleManagedObject
	ops *guestOps
}

func (w *guestOpsWatcher) PutObject(mo.Reference) {}

func (w *guestOpsWatcher) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	ref := o.Reference()
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name == "runtime.powerState" && fmt.Sprint(c.Val) != string(types.VirtualMachinePowerStatePoweredOn) {
			w.ops.endAll(ref.Value, false)
		}
	}
}

// RemoveObject runs before the registry forgets the VM: its guest folder
// goes with it, as a destroyed VM's disks do.
func (w *guestOpsWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type != "VirtualMachine" {
		return
	}
	w.ops.endAll(ref.Value, true)
	if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok && vm.Name != "" {
		_ = os.RemoveAll(w.ops.vmPath(vm.Name))
	}
}

// endAll kills VM vmID's running programs and its init (guest_boot.go), as a
// power-off or reboot does; forget drops their records too.
func (g *guestOps) endAll(vmID string, forget bool) {
	g.shutdown(vmID)
	g.mu.Lock()
	procs := g.procs[vmID]
	if forget {
		delete(g.procs, vmID)
		delete(g.boots, vmID)
	}
	g.mu.Unlock()
	for _, p := range procs {
		p.kill()
	}
}
