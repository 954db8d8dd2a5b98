package main

// The test binary's one lab (the simulator's inventory is global) and the
// helpers the tests share: connecting, the inventory objects a test needs,
// clones that are cleaned up, power and reconfigure calls, the /debug
// switches and fault names.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	testLab  *Lab
	testConf string
)

func TestMain(m *testing.M) {
	dir, err := ioutil.TempDir("", "vhpc-sim-test-")
	if err != nil {
		panic(err)
	}
	testConf = filepath.Join(dir, "vCenter.conf")
	testLab, err = StartLab(Options{Listen: "127.0.0.1:0", ExtraVMs: 5, ExtraHosts: 1, A100Hosts: 2, BootDelay: 50 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := testLab.WriteConf(testConf); err != nil {
		panic(err)
	}
	code := m.Run()
	testLab.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func readConf(t *testing.T) map[string]string {
	data, err := ioutil.ReadFile(testConf)
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv := strings.SplitN(line, ": ", 2)
		if len(kv) != 2 {
			t.Fatalf("bad conf line %q", line)
		}
		conf[kv[0]] = strings.Trim(kv[1], `"`)
	}
	return conf
}

func caPool(t *testing.T, file string) *x509.CertPool {
	pem, err := ioutil.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in CA file")
	}
	return pool
}

// labURL is https://SERVER:PORT + path.
func labURL(t *testing.T, path string) string {
	conf := readConf(t)
	return "https://" + conf["server"] + ":" + conf["port"] + path
}

// labHTTP is a plain HTTPS client trusting the lab's CA (no session).
func labHTTP(t *testing.T) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, readConf(t)["ca_file"])}}}
}

func connect(t *testing.T, user, pass string) (*govmomi.Client, error) {
	conf := readConf(t)
	u := &url.URL{Scheme: "https", Host: conf["server"] + ":" + conf["port"], Path: "/sdk"}
	sc := soap.NewClient(u, false)
	if err := sc.SetRootCAs(conf["ca_file"]); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := &govmomi.Client{Client: vc, SessionManager: session.NewManager(vc)}
	return c, c.Login(ctx, url.UserPassword(user, pass))
}

func login(t *testing.T) *govmomi.Client {
	c, err := connect(t, LabUser, LabPassword)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// labEnv is a logged-in client with the inventory objects tests use. VMs
// made through it are powered off and destroyed when the test ends, then
// the session logs out.
type labEnv struct {
	t       *testing.T
	ctx     context.Context
	c       *govmomi.Client
	f       *find.Finder
	dc      *object.Datacenter
	folders *object.DatacenterFolders
	pool    types.ManagedObjectReference
	tmpl    *object.VirtualMachine
	made    []*object.VirtualMachine
}

func newLabEnv(t *testing.T) *labEnv {
	ctx := context.Background()
	c := login(t)
	e := &labEnv{t: t, ctx: ctx, c: c}
	t.Cleanup(e.cleanup)
	e.f = find.NewFinder(c.Client, true)
	dc, err := e.f.DefaultDatacenter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.dc = dc
	e.f.SetDatacenter(dc)
	if e.folders, err = dc.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	cluster, err := e.f.ClusterComputeResource(ctx, GPUClusterName)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := cluster.ResourcePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = pool.Reference()
	if e.tmpl, err = e.f.VirtualMachine(ctx, TemplateName); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *labEnv) cleanup() {
	e.destroyMade()
	e.c.Logout(e.ctx)
}

// destroyMade powers off and destroys the VMs made through e so far.
func (e *labEnv) destroyMade() {
	defer func() { e.made = nil }()
	for i := len(e.made) - 1; i >= 0; i-- {
		vm := e.made[i]
		if tk, err := vm.PowerOff(e.ctx); err == nil {
			_ = tk.Wait(e.ctx) // fails when already off
		}
		if tk, err := vm.Destroy(e.ctx); err == nil { // fails when already gone
			if err := tk.Wait(e.ctx); err != nil {
				e.t.Errorf("destroy %s: %v", vm.Reference(), err)
			}
		}
	}
}

func (e *labEnv) host(n int) *object.HostSystem {
	h, err := e.f.HostSystem(e.ctx, HostName(n))
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *labEnv) hostUUID(h *object.HostSystem) string {
	var m mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"hardware.systemInfo"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return m.Hardware.SystemInfo.Uuid
}

// clone makes a VM from the template (on host h unless nil) with cfg and
// returns it, or the clone task's error. A VM that was made is cleaned up
// either way.
func (e *labEnv) clone(name string, h *object.HostSystem, cfg *types.VirtualMachineConfigSpec, powerOn bool) (*object.VirtualMachine, error) {
	pool := e.poolOf(h)
	spec := types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &pool},
		Config:   cfg,
		PowerOn:  powerOn,
	}
	if h != nil {
		ref := h.Reference()
		spec.Location.Host = &ref
	}
	tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, name, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := tk.WaitForResult(e.ctx, nil)
	if vm, ferr := e.f.VirtualMachine(e.ctx, name); ferr == nil {
		e.made = append(e.made, vm)
	}
	if err != nil {
		return nil, err
	}
	return object.NewVirtualMachine(e.c.Client, info.Result.(types.ManagedObjectReference)), nil
}

// poolOf is the root resource pool of h's cluster (of the template's host
// when h is nil): a VM's pool belongs to its host's compute resource.
func (e *labEnv) poolOf(h *object.HostSystem) types.ManagedObjectReference {
	if h == nil {
		h = e.host(HPCClusterHost)
	}
	var hm mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"parent"}, &hm); err != nil {
		e.t.Fatal(err)
	}
	var cr mo.ComputeResource
	if err := h.Properties(e.ctx, *hm.Parent, []string{"resourcePool"}, &cr); err != nil {
		e.t.Fatal(err)
	}
	return *cr.ResourcePool
}

func (e *labEnv) mustClone(name string, h *object.HostSystem, cfg *types.VirtualMachineConfigSpec) *object.VirtualMachine {
	vm, err := e.clone(name, h, cfg, false)
	if err != nil {
		e.t.Fatalf("clone %s: %v", name, err)
	}
	return vm
}

// taskVM waits for task tk, which makes a VM (clone, create, register),
// and returns that VM, kept for cleanup, or the task's error.
func (e *labEnv) taskVM(tk *object.Task) (*object.VirtualMachine, error) {
	info, err := tk.WaitForResult(e.ctx, nil)
	if err != nil {
		return nil, err
	}
	vm := object.NewVirtualMachine(e.c.Client, info.Result.(types.ManagedObjectReference))
	e.made = append(e.made, vm)
	return vm, nil
}

// mustTaskVM is taskVM ending the test when the task fails.
func (e *labEnv) mustTaskVM(tk *object.Task) *object.VirtualMachine {
	e.t.Helper()
	vm, err := e.taskVM(tk)
	if err != nil {
		e.t.Fatal(err)
	}
	return vm
}

// bootedVM clones the template powered on and waits for Tools.
func (e *labEnv) bootedVM(name string) *object.VirtualMachine {
	e.t.Helper()
	vm, err := e.clone(name, nil, nil, true)
	if err != nil {
		e.t.Fatal(err)
	}
	e.waitTools(vm)
	return vm
}

// waitTools waits until vm's Tools run (the lab's boot delay).
func (e *labEnv) waitTools(vm *object.VirtualMachine) {
	e.t.Helper()
	wctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	err := property.Wait(wctx, property.DefaultCollector(e.c.Client), vm.Reference(), []string{"guest.toolsRunningStatus"},
		func(pc []types.PropertyChange) bool {
			for _, ch := range pc {
				if ch.Val == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
					return true
				}
			}
			return false
		})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *labEnv) powerOn(vm *object.VirtualMachine) error {
	tk, err := vm.PowerOn(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = tk.WaitForResult(e.ctx, nil)
	return err
}

func (e *labEnv) powerOff(vm *object.VirtualMachine) {
	tk, err := vm.PowerOff(e.ctx)
	if err == nil {
		err = tk.Wait(e.ctx)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *labEnv) reconfigure(vm *object.VirtualMachine, spec types.VirtualMachineConfigSpec) error {
	tk, err := vm.Reconfigure(e.ctx, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = tk.WaitForResult(e.ctx, nil)
	return err
}

// debug POSTs to a /debug switch and returns the status and body.
func (e *labEnv) debug(path string) (int, string) {
	resp, err := labHTTP(e.t).Post(labURL(e.t, path), "text/plain", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := ioutil.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// addDevices is a config spec adding devs.
func addDevices(devs ...types.BaseVirtualDevice) *types.VirtualMachineConfigSpec {
	spec := &types.VirtualMachineConfigSpec{}
	for _, d := range devs {
		spec.DeviceChange = append(spec.DeviceChange,
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: d})
	}
	return spec
}

// faultName is the vim type name of err's fault (a SOAP fault or a failed
// task), "" without a fault.
func faultName(err error) string {
	var f interface{}
	switch {
	case err == nil:
		return ""
	case soap.IsSoapFault(err):
		f = soap.ToSoapFault(err).VimFault()
	default:
		if te, ok := err.(task.Error); ok {
			f = te.Fault()
		}
	}
	v := reflect.Indirect(reflect.ValueOf(f))
	if !v.IsValid() {
		return ""
	}
	return v.Type().Name()
}

// expectFault checks that err is a task fault of kind's type whose message
// has every one of want.
func expectFault(t *testing.T, err error, kind types.BaseMethodFault, want ...string) {
	t.Helper()
	te, ok := err.(task.Error)
	if !ok {
		t.Fatalf("want a %T task error, got %v", kind, err)
	}
	if got, want := fmt.Sprintf("%T", te.Fault()), fmt.Sprintf("%T", kind); got != want {
		t.Errorf("fault %s, want %s (%s)", got, want, te.LocalizedMessage)
	}
	for _, w := range want {
		if !strings.Contains(te.LocalizedMessage, w) {
			t.Errorf("message %q lacks %q", te.LocalizedMessage, w)
		}
	}
}
