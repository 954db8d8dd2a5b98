package main

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var customizationTypes = []string{"CustomizationStartedEvent", "CustomizationSucceeded", "CustomizationFailed"}

// customizedClone clones name on host 5, powered on, with a static IP.
func (e *labEnv) customizedClone(name, ip string) *object.VirtualMachine {
	e.t.Helper()
	hostRef := e.host(5).Reference()
	spec := types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &e.pool, Host: &hostRef},
		Customization: &types.CustomizationSpec{
			Identity: &types.CustomizationLinuxPrep{HostName: &types.CustomizationVirtualMachineName{}},
			NicSettingMap: []types.CustomizationAdapterMapping{{Adapter: types.CustomizationIPSettings{
				Ip: &types.CustomizationFixedIp{IpAddress: ip}, SubnetMask: "255.255.255.0"}}},
		},
		PowerOn: true,
	}
	tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, name, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.mustTaskVM(tk)
}

func eventName(ev types.BaseEvent) string { return reflect.TypeOf(ev).Elem().Name() }

// vmEvents are the events of vm on the page, oldest first.
func vmEvents(page []types.BaseEvent, vm types.ManagedObjectReference) []types.BaseEvent {
	var out []types.BaseEvent
	for i := len(page) - 1; i >= 0; i-- { // the latest page is newest first
		if v := page[i].GetEvent().Vm; v != nil && v.Vm == vm {
			out = append(out, page[i])
		}
	}
	return out
}

// waitPage waits, through WaitForUpdatesEx on the collector's latestPage,
// until done holds for the page.
func (e *labEnv) waitPage(hc *event.HistoryCollector, done func([]types.BaseEvent) bool) []types.BaseEvent {
	e.t.Helper()
	wctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	var page []types.BaseEvent
	err := property.Wait(wctx, property.DefaultCollector(e.c.Client), hc.Reference(), []string{"latestPage"},
		func(pc []types.PropertyChange) bool {
			for _, ch := range pc {
				if a, ok := ch.Val.(types.ArrayOfEvent); ok {
					page = a.Event
				}
			}
			return done(page)
		})
	if err != nil {
		e.t.Fatalf("waiting on latestPage: %v (page %d events)", err, len(page))
	}
	return page
}

// A clone with a customization: interim DHCP address with Tools running,
// CustomizationStartedEvent, the reboot (Tools not running, no address),
// the customized address, CustomizationSucceeded; the events reach
// collectors (latestPage through WaitForUpdatesEx) and QueryEvents.
func TestCustomizationRebootsAndReportsSuccess(t *testing.T) {
	// Each guest state must outlast the collector's 250 ms tick to be seen: a collector reports
	// the latest value of a property, as vCenter does, so shorter states merge into the next one.
	saved := testLab.opts
	testLab.opts.BootDelay, testLab.opts.CustomizationTime = 400*time.Millisecond, 400*time.Millisecond
	defer func() { testLab.opts = saved }()
	e := newLabEnv(t)
	em := event.NewManager(e.c.Client)
	filter := types.EventFilterSpec{
		Entity:      &types.EventFilterSpecByEntity{Entity: e.dc.Reference(), Recursion: types.EventFilterSpecRecursionOptionAll},
		EventTypeId: customizationTypes,
	}
	hc, err := em.CreateCollectorForEvents(e.ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Destroy(e.ctx)

	vm := e.customizedClone("cust-ok-1", "172.30.0.5")
	// The guest's states, in order, as WaitForUpdatesEx reports them.
	type state struct{ tools, ip string }
	var seen []state
	cur := state{}
	wctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	err = property.Wait(wctx, property.DefaultCollector(e.c.Client), vm.Reference(),
		[]string{"guest.toolsRunningStatus", "guest.ipAddress"}, func(pc []types.PropertyChange) bool {
			for _, ch := range pc {
				v, _ := ch.Val.(string)
				if ch.Name == "guest.ipAddress" {
					cur.ip = v
				} else {
					cur.tools = v
				}
			}
			if len(seen) == 0 || seen[len(seen)-1] != cur {
				seen = append(seen, cur)
			}
			return cur.ip == "172.30.0.5"
		})
	if err != nil {
		t.Fatalf("no customized address: %v; states %v", err, seen)
	}
	running, off := "guestToolsRunning", "guestToolsNotRunning"
	interim, reboot := -1, -1
	for i, s := range seen {
		if s.tools == running && strings.HasPrefix(s.ip, "127.100.") && interim < 0 {
			interim = i
		}
		if interim >= 0 && s.tools == off && s.ip == "" {
			reboot = i
		}
	}
	if interim < 0 || reboot < interim {
		t.Errorf("want interim DHCP address, then a reboot, then 172.30.0.5: %v", seen)
	}

	page := e.waitPage(hc, func(p []types.BaseEvent) bool { return len(vmEvents(p, vm.Reference())) >= 2 })
	evs := vmEvents(page, vm.Reference())
	if len(evs) != 2 || eventName(evs[0]) != "CustomizationStartedEvent" || eventName(evs[1]) != "CustomizationSucceeded" {
		t.Fatalf("events %v", evs)
	}
	for _, ev := range evs {
		base := ev.GetEvent()
		if !strings.Contains(base.FullFormattedMessage, "cust-ok-1") || base.Host == nil || base.Host.Name != HostName(5) ||
			base.Datacenter == nil || base.Datacenter.Name != DatacenterName || base.Key == 0 {
			t.Errorf("event %s: %+v", eventName(ev), base)
		}
	}
	if evs[1].GetEvent().Key <= evs[0].GetEvent().Key {
		t.Error("succeeded before started")
	}
	if loc := evs[1].(*types.CustomizationSucceeded).LogLocation; loc != linuxCustomizationLog {
		t.Errorf("logLocation %q", loc)
	}

	// QueryEvents by the VM itself, as Ansible's vmware_guest asks.
	got, err := em.QueryEvents(e.ctx, types.EventFilterSpec{
		Entity:      &types.EventFilterSpecByEntity{Entity: vm.Reference(), Recursion: types.EventFilterSpecRecursionOptionSelf},
		EventTypeId: []string{"CustomizationSucceeded", "CustomizationFailed"},
	})
	if err != nil || len(got) != 1 || eventName(got[0]) != "CustomizationSucceeded" {
		t.Errorf("QueryEvents %v %v", got, err)
	}

	// A later boot keeps the customized address and customizes nothing.
	e.powerOff(vm)
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	ip, err := vm.WaitForIP(wctx)
	if err != nil || ip != "172.30.0.5" {
		t.Errorf("after a reboot: %q %v", ip, err)
	}
	page, err = hc.LatestPage(e.ctx)
	if err != nil || len(vmEvents(page, vm.Reference())) != 2 {
		t.Errorf("events after a plain boot: %v %v", vmEvents(page, vm.Reference()), err)
	}
}

// --customization-fail: the VM gets a CustomizationFailed subtype and keeps
// its interim address; collectors filtering on CustomizationFailed see it.
func TestCustomizationFailureKeepsTheInterimAddress(t *testing.T) {
	saved := testLab.events.fail
	testLab.events.fail = regexp.MustCompile(`^cust-fail-`)
	defer func() { testLab.events.fail = saved }()

	e := newLabEnv(t)
	hc, err := event.NewManager(e.c.Client).CreateCollectorForEvents(e.ctx, types.EventFilterSpec{
		Entity:      &types.EventFilterSpecByEntity{Entity: e.dc.Reference(), Recursion: types.EventFilterSpecRecursionOptionAll},
		EventTypeId: customizationTypes,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Destroy(e.ctx)
	vm := e.customizedClone("cust-fail-1", "172.30.0.6")
	page := e.waitPage(hc, func(p []types.BaseEvent) bool { return len(vmEvents(p, vm.Reference())) >= 2 })
	evs := vmEvents(page, vm.Reference())
	if len(evs) != 2 || eventName(evs[0]) != "CustomizationStartedEvent" || eventName(evs[1]) != "CustomizationNetworkSetupFailed" {
		t.Fatalf("events %v", evs)
	}
	if msg := evs[1].GetEvent().FullFormattedMessage; !strings.Contains(msg, "network properties") {
		t.Errorf("message %q", msg)
	}
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"guest"}, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Guest.IpAddress, "127.100.") || m.Guest.ToolsRunningStatus != "guestToolsRunning" {
		t.Errorf("failed customization: guest ip %q tools %s", m.Guest.IpAddress, m.Guest.ToolsRunningStatus)
	}
}

// Tools running does not mean ready: guest operations answer
// GuestOperationsUnavailable for --guest-ops-delay after Tools starts.
func TestGuestOpsUnavailableRightAfterToolsStart(t *testing.T) {
	saved := testLab.opts.GuestOpsDelay
	testLab.opts.GuestOpsDelay = 3 * time.Second
	defer func() { testLab.opts.GuestOpsDelay = saved }()
	e := newLabEnv(t)
	vm := e.bootedVM("ops-delay-1")
	pm, err := guest.NewOperationsManager(e.c.Client, vm.Reference()).ProcessManager(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth := &types.NamePasswordAuthentication{Username: DefaultGuestUser, Password: DefaultGuestPassword}
	if _, err := pm.ListProcesses(e.ctx, auth, nil); faultName(err) != "GuestOperationsUnavailable" {
		t.Fatalf("right after Tools started: %v", err)
	}
	if ready := e.guestOpsReady(vm); ready {
		t.Errorf("guest.guestOperationsReady is true while guest operations are unavailable")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := pm.ListProcesses(e.ctx, auth, nil)
		if err == nil {
			break
		}
		if faultName(err) != "GuestOperationsUnavailable" || time.Now().After(deadline) {
			t.Fatalf("guest operations never became available: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for !e.guestOpsReady(vm) { // reported once the agent answers (a collector tick later at most)
		if time.Now().After(deadline) {
			t.Fatalf("guest.guestOperationsReady never became true")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// guestOpsReady reads guest.guestOperationsReady as a client would.
func (e *labEnv) guestOpsReady(vm *object.VirtualMachine) bool {
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"guest.guestOperationsReady"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return m.Guest != nil && m.Guest.GuestOperationsReady != nil && *m.Guest.GuestOperationsReady
}
