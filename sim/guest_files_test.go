package main

import (
	"bytes"
	"context"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

var guestAuth = &types.NamePasswordAuthentication{Username: "root", Password: "VMware1!"}

func listNames(t *testing.T, fm *guest.FileManager, p string) []string {
	t.Helper()
	info, err := fm.ListFiles(context.Background(), guestAuth, p, 0, 0, "")
	if err != nil {
		t.Fatalf("list %s: %v", p, err)
	}
	var names []string
	for _, f := range info.Files {
		names = append(names, f.Path)
	}
	sort.Strings(names)
	return names
}

// The guest file operations as vSphere's GuestFileManager has them, in the
// VM's guest folder only.
func TestGuestFileOperations(t *testing.T) {
	e := newLabEnv(t)
	ctx := e.ctx
	vm := e.bootedVM("guest-files-1")
	fm, err := guest.NewOperationsManager(e.c.Client, vm.Reference()).FileManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(testLab.guestOps.root, "guest-files-1")

	if err := fm.MakeDirectory(ctx, guestAuth, "/tmp/a/b", false); faultName(err) != "FileNotFound" {
		t.Errorf("mkdir without its parent: %v", err)
	}
	if err := fm.MakeDirectory(ctx, guestAuth, "/tmp/a/b", true); err != nil {
		t.Fatal(err)
	}
	if err := fm.MakeDirectory(ctx, guestAuth, "/tmp/a", false); faultName(err) != "FileAlreadyExists" {
		t.Errorf("mkdir of an existing directory: %v", err)
	}
	if err := fm.MakeDirectory(ctx, guestAuth, "tmp/rel", false); faultName(err) != "InvalidArgument" {
		t.Errorf("relative path: %v", err)
	}
	if err := fm.MakeDirectory(ctx, guestAuth, "/usr/lab-test", false); faultName(err) != "GuestPermissionDenied" {
		t.Errorf("mkdir in /usr: %v", err)
	}

	file, err := fm.CreateTemporaryFile(ctx, guestAuth, "pre-", ".txt", "/tmp/a")
	if err != nil || !strings.HasPrefix(file, "/tmp/a/pre-") || !strings.HasSuffix(file, ".txt") {
		t.Fatalf("temporary file %q %v", file, err)
	}
	tmpDir, err := fm.CreateTemporaryDirectory(ctx, guestAuth, "d-", "", "")
	if err != nil || !strings.HasPrefix(tmpDir, "/tmp/d-") {
		t.Fatalf("temporary directory %q %v", tmpDir, err)
	}
	if _, err := fm.CreateTemporaryFile(ctx, guestAuth, "x", "", "/nowhere"); faultName(err) != "FileNotFound" {
		t.Errorf("temporary file in a missing directory: %v", err)
	}
	if got := listNames(t, fm, "/tmp/a"); len(got) != 2 || got[0] != "b" || got[1] != filepath.Base(file) {
		t.Errorf("ls /tmp/a: %v", got)
	}
	info, err := fm.ListFiles(ctx, guestAuth, "/etc", 1, 2, "^(group|hostname|passwd|shadow)$")
	if err != nil || len(info.Files) != 2 || info.Remaining != 1 || info.Files[0].Path != "hostname" {
		t.Errorf("ls /etc from 1, 2 of the 4 matches: %+v %v", info, err)
	}
	if _, err := fm.ListFiles(ctx, guestAuth, "/etc", 0, 0, "("); faultName(err) != "InvalidArgument" {
		t.Errorf("bad matchPattern: %v", err)
	}

	if err := fm.MoveFile(ctx, guestAuth, file, "/tmp/a/b", true); faultName(err) != "NotAFile" {
		t.Errorf("move onto a directory: %v", err)
	}
	if err := fm.MoveFile(ctx, guestAuth, file, "/tmp/a/moved", false); err != nil {
		t.Fatal(err)
	}
	if err := fm.MoveDirectory(ctx, guestAuth, "/tmp/a/moved", "/tmp/x"); faultName(err) != "NotADirectory" {
		t.Errorf("move a file as a directory: %v", err)
	}
	if err := fm.MoveDirectory(ctx, guestAuth, "/tmp/a", "/tmp/c"); err != nil {
		t.Fatal(err)
	}
	if err := fm.DeleteDirectory(ctx, guestAuth, "/tmp/c", false); faultName(err) != "DirectoryNotEmpty" {
		t.Errorf("rmdir of a full directory: %v", err)
	}
	if err := fm.DeleteFile(ctx, guestAuth, "/tmp/c/b"); faultName(err) != "NotAFile" {
		t.Errorf("rm of a directory: %v", err)
	}
	if err := fm.DeleteFile(ctx, guestAuth, "/tmp/c/moved"); err != nil {
		t.Fatal(err)
	}
	if err := fm.DeleteDirectory(ctx, guestAuth, "/tmp/c/moved", false); faultName(err) != "FileNotFound" {
		t.Errorf("rmdir of a missing directory: %v", err)
	}
	if err := fm.DeleteDirectory(ctx, guestAuth, "/tmp/c", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tmp", "c")); !os.IsNotExist(err) {
		t.Errorf("/tmp/c is still in the guest folder: %v", err)
	}
	if err := fm.ChangeFileAttributes(ctx, guestAuth, tmpDir, &types.GuestPosixFileAttributes{Permissions: 0750}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(tmpDir))); err != nil || fi.Mode().Perm() != 0750 {
		t.Errorf("chmod: %v %v", fi.Mode(), err)
	}
	// Windows attributes on the lab's Linux guest: InvalidArgument, nothing changed.
	err = fm.ChangeFileAttributes(ctx, guestAuth, tmpDir, &types.GuestWindowsFileAttributes{Hidden: types.NewBool(true)})
	if !soap.IsSoapFault(err) {
		t.Fatalf("Windows attributes: %v", err)
	}
	if f, ok := soap.ToSoapFault(err).VimFault().(types.InvalidArgument); !ok || f.InvalidProperty != "fileAttributes" {
		t.Errorf("Windows attributes: %#v", soap.ToSoapFault(err).VimFault())
	}
}

// No path reaches out of the guest folder: ".." stops at the guest's /, a
// link a guest program made resolves inside the guest, as in the guest.
func TestGuestPathsStayInTheGuest(t *testing.T) {
	e := newLabEnv(t)
	ctx := e.ctx
	vm := e.bootedVM("guest-files-2")
	fm, err := guest.NewOperationsManager(e.c.Client, vm.Reference()).FileManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(testLab.guestOps.root, "guest-files-2")
	outside := filepath.Join(testLab.guestOps.root, "escape-target")
	if err := os.MkdirAll(outside, 0755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)

	if err := fm.MakeDirectory(ctx, guestAuth, "/../../../escape-made", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "escape-made")); err != nil {
		t.Errorf("/../../../escape-made is not the guest's /escape-made: %v", err)
	}
	// Links as a guest program makes them: absolute to the host's folder,
	// and relative with more ".." than the guest has.
	if err := os.Symlink(outside, filepath.Join(root, "tmp", "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../..", filepath.Join(root, "tmp", "up")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tmp/abs/x", "/tmp/up/escape-target/x"} {
		err := fm.MakeDirectory(ctx, guestAuth, p, true)
		if _, serr := os.Stat(filepath.Join(outside, "x")); serr == nil {
			t.Fatalf("mkdir %s made a folder outside the guest (%v)", p, err)
		}
	}
	if got := listNames(t, fm, "/tmp/up/etc"); strings.Join(got, ",") != "group,hostname,passwd,shadow" {
		t.Errorf("/tmp/up/etc is not the guest's /etc: %v", got)
	}
	if err := fm.DeleteDirectory(ctx, guestAuth, "/tmp/up", true); faultName(err) != "NotADirectory" {
		t.Errorf("rmdir of a link: %v", err)
	}
	if err := fm.DeleteFile(ctx, guestAuth, "/tmp/up"); err != nil {
		t.Errorf("rm of a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "passwd")); err != nil {
		t.Errorf("removing the link removed its target: %v", err)
	}
	if err := fm.DeleteDirectory(ctx, guestAuth, "/", true); faultName(err) != "GuestPermissionDenied" {
		t.Errorf("rmdir /: %v", err)
	}
}

// A program that exits 0 has exitCode 0 on the wire (govmomi's omitempty
// would drop it); a running one has none.
func TestProcessExitCodeZeroIsSent(t *testing.T) {
	end := time.Now()
	zero := &guestProc{info: types.GuestProcessInfo{Name: "true", Pid: 7, EndTime: &end}, exited: true}
	running := &guestProc{info: types.GuestProcessInfo{Name: "sleep", Pid: 8}}
	var buf bytes.Buffer
	body := &ListProcessesInGuestResponse{Returnval: []processInfo{zero.wire(), running.wire()}}
	if err := xml.NewEncoder(&buf).Encode(body); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "<exitCode>0</exitCode>") != 1 || strings.Count(out, "<endTime>") != 1 {
		t.Errorf("want one exitCode 0 and one endTime: %s", out)
	}
}

// RebootGuest takes Tools and the address down and back; the VM stays on;
// its programs end. ReadEnvironmentVariableInGuest reads the guest's.
func TestRebootGuestAndEnvironment(t *testing.T) {
	e := newLabEnv(t)
	ctx := e.ctx
	vm := e.bootedVM("guest-reboot-1")
	ops := guest.NewOperationsManager(e.c.Client, vm.Reference())
	pm, err := ops.ProcessManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env, err := pm.ReadEnvironmentVariable(ctx, guestAuth, []string{"HOME", "NOPE"})
	if err != nil || len(env) != 1 || env[0] != "HOME=/root" {
		t.Errorf("environment: %v %v", env, err)
	}
	pid, err := pm.StartProgram(ctx, guestAuth, &types.GuestProgramSpec{ProgramPath: "/bin/sleep", Arguments: "60"})
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RebootGuest(ctx); err != nil {
		t.Fatal(err)
	}
	var m mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"runtime.powerState", "guest.toolsRunningStatus"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn ||
		m.Guest.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		t.Errorf("right after RebootGuest: %s, tools %s", m.Runtime.PowerState, m.Guest.ToolsRunningStatus)
	}
	if err := vm.RebootGuest(ctx); faultName(err) != "ToolsUnavailable" {
		t.Errorf("RebootGuest while Tools is down: %v", err)
	}
	e.waitTools(vm)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = property.Wait(wctx, property.DefaultCollector(e.c.Client), vm.Reference(), []string{"guest.ipAddress"},
		func(pc []types.PropertyChange) bool { return len(pc) > 0 && pc[0].Val != nil })
	testLab.guestOps.mu.Lock()
	p := testLab.guestOps.procs[vm.Reference().Value][pid]
	testLab.guestOps.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Error("the guest program survived the reboot")
	}
	e.powerOff(vm)
	if err := vm.RebootGuest(ctx); faultName(err) != "InvalidPowerState" {
		t.Errorf("RebootGuest powered off: %v", err)
	}
	_ = ioutil.Discard
}
