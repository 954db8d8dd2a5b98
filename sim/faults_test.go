package main

// Go tests of fault injection (faults.go), slow and canceled tasks
// (tasks.go) and ended sessions (sessions.go). Each test sets the lab's
// faults through /debug/faults and puts them back.

import (
	"bytes"
	"context"
	"encoding/json"
	"io/ioutil"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// setFaults replaces the lab's faults for the rest of the test.
func setFaults(t *testing.T, s FaultSettings) {
	t.Helper()
	body, _ := json.Marshal(s)
	resp, err := labHTTP(t).Post(labURL(t, "/debug/faults"), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := ioutil.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/debug/faults: %d %s", resp.StatusCode, msg)
	}
	t.Cleanup(func() {
		resp, err := labHTTP(t).Post(labURL(t, "/debug/faults?reset=1"), "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
	})
}

func TestParseFailRule(t *testing.T) {
	for in, want := range map[string]failRule{
		"CloneVM_Task:^node-0[13]$":                 {Method: "CloneVM_Task", Regex: "^node-0[13]$", Fault: "SystemError"},
		"CloneVM_Task:^a:b$":                        {Method: "CloneVM_Task", Regex: "^a:b$", Fault: "SystemError"},
		"Destroy_Task:x:InsufficientResourcesFault": {Method: "Destroy_Task", Regex: "x", Fault: "InsufficientResourcesFault"},
		"AddPortGroup:esx-0[12]:HostConfigFault":    {Method: "AddPortGroup", Regex: "esx-0[12]", Fault: "HostConfigFault"},
		"PowerOnVM_Task:vm:NotAFaultName":           {Method: "PowerOnVM_Task", Regex: "vm:NotAFaultName", Fault: "SystemError"},
	} {
		got, err := parseFailRule(in)
		if err != nil || got.Method != want.Method || got.Regex != want.Regex || got.Fault != want.Fault {
			t.Errorf("%s: got %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"CloneVM_Task", ":x", "CloneVM_Task:("} {
		if _, err := parseFailRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFailMethod(t *testing.T) {
	e := newLabEnv(t)
	setFaults(t, FaultSettings{FailMethod: []failRule{
		{Method: "CloneVM_Task", Regex: "^inject-[13]$", Fault: "InsufficientResourcesFault"},
		{Method: "AddPortGroup", Regex: "^vhpc-esx-03", Fault: "HostConfigFault"},
	}})
	for _, name := range []string{"inject-1", "inject-2", "inject-3"} {
		_, err := e.clone(name, nil, nil, false)
		if name == "inject-2" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		expectFault(t, err, &types.InsufficientResourcesFault{}, "CloneVM_Task of", "injected by the lab")
	}
	names := e.vmNames()
	if has(names, "inject-1") || has(names, "inject-3") || !has(names, "inject-2") {
		t.Errorf("VMs after injected failures: %v", names)
	}
	err := e.networkSystem(e.host(3)).AddPortGroup(e.ctx, types.HostPortGroupSpec{Name: "inject-pg", VswitchName: vSwitchName})
	if faultName(err) != "HostConfigFault" || !strings.Contains(err.Error(), "injected") {
		t.Errorf("AddPortGroup on host 3: %v", err)
	}
	if pgs := e.hostPortGroups(e.host(3)); pgs["inject-pg"] != "" {
		t.Error("the refused port group was added")
	}
}

// soapPost sends RetrieveServiceContent on a fresh connection.
func soapPost(t *testing.T) error {
	body := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this>` +
		`</RetrieveServiceContent></soapenv:Body></soapenv:Envelope>`
	c := labHTTP(t)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	resp, err := c.Post(labURL(t, "/sdk"), "text/xml", strings.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func TestDropConnections(t *testing.T) {
	setFaults(t, FaultSettings{DropConnections: 3})
	var failed []int
	for i := 1; i <= 7; i++ {
		if err := soapPost(t); err != nil {
			failed = append(failed, i)
		}
	}
	if len(failed) != 2 || failed[0] != 3 || failed[1] != 6 {
		t.Errorf("requests that lost their connection: %v, want [3 6]", failed)
	}
}

func TestTaskDelayAndCancel(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("cancel-src", nil, nil) // made before the delay
	setFaults(t, FaultSettings{TaskDelayMs: 60000})
	tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, "cancel-clone", types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &e.pool}})
	if err != nil {
		t.Fatal(err)
	}
	var info mo.Task
	if err := tk.Properties(e.ctx, tk.Reference(), []string{"info"}, &info); err != nil {
		t.Fatal(err)
	}
	if info.Info.State != types.TaskInfoStateRunning || !info.Info.Cancelable {
		t.Fatalf("clone task: state %s cancelable %v", info.Info.State, info.Info.Cancelable)
	}
	if err := tk.Cancel(e.ctx); err != nil {
		t.Fatal(err)
	}
	expectFault(t, tk.Wait(e.ctx), &types.RequestCanceled{}, "canceled")
	if err := tk.Properties(e.ctx, tk.Reference(), []string{"info"}, &info); err != nil || !info.Info.Cancelled {
		t.Errorf("cancelled flag: %+v %v", info.Info, err)
	}
	if err := tk.Cancel(e.ctx); faultName(err) != "InvalidState" {
		t.Errorf("canceling a canceled task: %v", err)
	}
	if has(e.vmNames(), "cancel-clone") {
		t.Error("a canceled clone made its VM")
	}
	// Destroying is not cancelable; it ends after the delay.
	setFaults(t, FaultSettings{TaskDelayMs: 300})
	dt, err := vm.Destroy(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dt.Cancel(e.ctx); faultName(err) != "NotSupported" {
		t.Errorf("canceling a destroy: %v", err)
	}
	if err := dt.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	if has(e.vmNames(), "cancel-src") {
		t.Error("destroyed VM still listed")
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	setFaults(t, FaultSettings{SessionTTL: 0.3})
	c := login(t)
	pc := property.DefaultCollector(c.Client)
	var si mo.Folder
	if err := pc.RetrieveOne(context.Background(), c.ServiceContent.RootFolder, []string{"name"}, &si); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	_, err := methods.GetCurrentTime(context.Background(), c.Client)
	if faultName(err) != "NotAuthenticated" || !strings.Contains(err.Error(), "The session is not authenticated.") {
		t.Fatalf("call after the idle timeout: %v", err)
	}
	// A new login works; a busy session does not expire.
	if err := c.Login(context.Background(), url.UserPassword(LabUser, LabPassword)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(150 * time.Millisecond)
		if _, err := methods.GetCurrentTime(context.Background(), c.Client); err != nil {
			t.Fatalf("busy session, call %d: %v", i+1, err)
		}
	}
}

func TestTerminateSession(t *testing.T) {
	admin, user := login(t), login(t)
	defer admin.Logout(context.Background())
	us, err := user.SessionManager.UserSession(context.Background())
	if err != nil || us == nil {
		t.Fatal(us, err)
	}
	own, _ := admin.SessionManager.UserSession(context.Background())
	m := admin.SessionManager
	for _, ids := range [][]string{{}, {own.Key}} {
		if err := m.TerminateSession(context.Background(), ids); faultName(err) != "InvalidArgument" {
			t.Errorf("TerminateSession(%v): %v", ids, err)
		}
	}
	if err := m.TerminateSession(context.Background(), []string{"no-such-session"}); faultName(err) != "NotFound" {
		t.Errorf("unknown session: %v", err)
	}
	if err := m.TerminateSession(context.Background(), []string{us.Key}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.GetCurrentTime(context.Background(), user.Client); faultName(err) != "NotAuthenticated" {
		t.Errorf("terminated session's call: %v", err)
	}
	if err := user.Login(context.Background(), url.UserPassword(LabUser, LabPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := object.NewSearchIndex(user.Client).FindByInventoryPath(context.Background(), "/"+DatacenterName); err != nil {
		t.Errorf("after a new login: %v", err)
	}
}
