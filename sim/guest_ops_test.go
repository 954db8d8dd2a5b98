package main

import (
	"bytes"
	"io/ioutil"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/vim25/types"
)

func TestGuestOperations(t *testing.T) {
	e := newLabEnv(t)
	ctx, c := e.ctx, e.c
	vm := e.bootedVM("guest-ops-1")

	ops := guest.NewOperationsManager(c.Client, vm.Reference())
	fm, err := ops.FileManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := ops.ProcessManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth := &types.NamePasswordAuthentication{Username: "root", Password: "VMware1!"}
	bad := &types.NamePasswordAuthentication{Username: "root", Password: "nope"}
	// Transfers go to the VM's host, which has its own certificate: the
	// client pins the host's thumbprint (host_endpoints_test.go has the rule).
	hc := pinnedHTTP(t, e.hostThumbprint(vm))

	// Upload: the URL names the VM's host by its inventory name.
	script := "echo out; echo err >&2; pwd; echo $FOO; exit 7\n"
	raw, err := fm.InitiateFileTransferToGuest(ctx, auth, "/tmp/s.sh", &types.GuestPosixFileAttributes{}, int64(len(script)), true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "https://"+HostName(1)+":") {
		t.Errorf("upload URL %s", raw)
	}
	u, err := fm.TransferURL(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), strings.NewReader(script))
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	onHost := filepath.Join(testLab.guestOps.root, "guest-ops-1", "tmp", "s.sh")
	if data, err := ioutil.ReadFile(onHost); err != nil || string(data) != script {
		t.Errorf("guest file on the host: %q %v", data, err)
	}
	// Without overwrite, an existing file is refused.
	if _, err := fm.InitiateFileTransferToGuest(ctx, auth, "/tmp/s.sh", &types.GuestPosixFileAttributes{}, 1, false); err == nil {
		t.Error("no fault for an existing file without overwrite")
	} else if faultName(err) != "FileAlreadyExists" {
		t.Errorf("existing file: %v", err)
	}

	// Run it (twice: the sandbox can be entered again); the exit code and
	// end time come back.
	var pid int64
	for run := 0; run < 2; run++ {
		pid, err = pm.StartProgram(ctx, auth, &types.GuestProgramSpec{
			ProgramPath: "/bin/sh", Arguments: "/tmp/s.sh > /tmp/s.log 2>&1", WorkingDirectory: "/tmp", EnvVariables: []string{"FOO=bar"}})
		if err != nil {
			t.Fatal(err)
		}
		var info types.GuestProcessInfo
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			procs, err := pm.ListProcesses(ctx, auth, []int64{pid})
			if err != nil || len(procs) != 1 {
				t.Fatalf("list: %v %v", procs, err)
			}
			if info = procs[0]; info.EndTime != nil {
				break
			}
		}
		if info.EndTime == nil || info.ExitCode != 7 || info.Pid != pid || info.Owner != "root" {
			t.Fatalf("run %d: process %+v", run+1, info)
		}
	}

	// Download the output.
	ft, err := fm.InitiateFileTransferFromGuest(ctx, auth, "/tmp/s.log")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = fm.TransferURL(ctx, ft.Url)
	resp, err = hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := ioutil.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "out\nerr\n/tmp\nbar\n"; string(out) != want || ft.Size != int64(len(want)) {
		t.Errorf("output %q (size %d)", out, ft.Size)
	}

	// Terminate a long program.
	pid, err = pm.StartProgram(ctx, auth, &types.GuestProgramSpec{ProgramPath: "/bin/sleep", Arguments: "60"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pm.TerminateProcess(ctx, auth, pid); err != nil {
		t.Fatal(err)
	}
	procs, _ := pm.ListProcesses(ctx, auth, []int64{pid})
	if len(procs) != 1 || procs[0].EndTime == nil {
		t.Errorf("terminated process %+v", procs)
	}
	if err := pm.TerminateProcess(ctx, auth, 999999); err == nil {
		t.Error("no fault for an unknown pid")
	}

	// Faults: wrong password, missing program, missing file.
	if _, err := pm.ListProcesses(ctx, bad, nil); err == nil {
		t.Error("no fault for a wrong password")
	} else if faultName(err) != "InvalidGuestLogin" {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := pm.StartProgram(ctx, auth, &types.GuestProgramSpec{ProgramPath: "/no/such"}); err == nil {
		t.Error("no fault for a missing program")
	}
	if _, err := fm.InitiateFileTransferFromGuest(ctx, auth, "/tmp/none"); err == nil {
		t.Error("no fault for a missing file")
	} else if faultName(err) != "FileNotFound" {
		t.Errorf("missing file: %v", err)
	}
	// A used upload URL is a 404.
	u, _ = fm.TransferURL(ctx, raw)
	resp, err = hc.Do(mustRequest(t, http.MethodPut, u.String(), "x"))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("reused upload URL: %v %v", err, resp)
	}

	// Powered off: InvalidPowerState.
	task, _ := vm.PowerOff(ctx)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pm.ListProcesses(ctx, auth, nil); err == nil {
		t.Error("no fault for a powered-off VM")
	} else if faultName(err) != "InvalidPowerState" {
		t.Errorf("powered off: %v", err)
	}
	// Powered on but Tools not running yet: GuestOperationsUnavailable.
	saved := testLab.opts.BootDelay
	testLab.opts.BootDelay = 3 * time.Second
	defer func() { testLab.opts.BootDelay = saved }()
	task, _ = vm.PowerOn(ctx)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pm.ListProcesses(ctx, auth, nil); err == nil {
		t.Error("no fault before Tools run")
	} else if faultName(err) != "GuestOperationsUnavailable" {
		t.Errorf("tools not running: %v", err)
	}

	// Destroying the VM removes its guest folder.
	task, _ = vm.PowerOff(ctx)
	_ = task.Wait(ctx)
	task, _ = vm.Destroy(ctx)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ioutil.ReadFile(onHost); err == nil {
		t.Error("guest folder kept after destroy")
	}
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
