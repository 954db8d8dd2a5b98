package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// rebootHost reboots an idle host through /debug/reboot.
func (e *labEnv) rebootHost(h *object.HostSystem) {
	e.t.Helper()
	if code, body := e.debug("/debug/reboot?host=" + url.QueryEscape(h.Name())); code != 200 {
		e.t.Fatalf("reboot %s: %d %s", h.Name(), code, body)
	}
}

func (e *labEnv) hostTask(h *object.HostSystem, call func() (types.ManagedObjectReference, error)) *object.Task {
	e.t.Helper()
	ref, err := call()
	if err != nil {
		e.t.Fatal(err)
	}
	return object.NewTask(e.c.Client, ref)
}

func (e *labEnv) enterMaintenance(h *object.HostSystem, timeout int32) *object.Task {
	return e.hostTask(h, func() (types.ManagedObjectReference, error) {
		res, err := methods.EnterMaintenanceMode_Task(e.ctx, e.c.Client, &types.EnterMaintenanceMode_Task{
			This: h.Reference(), Timeout: timeout})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return res.Returnval, nil
	})
}

func (e *labEnv) exitMaintenance(h *object.HostSystem) error {
	t := e.hostTask(h, func() (types.ManagedObjectReference, error) {
		res, err := methods.ExitMaintenanceMode_Task(e.ctx, e.c.Client, &types.ExitMaintenanceMode_Task{This: h.Reference()})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return res.Returnval, nil
	})
	return t.Wait(e.ctx)
}

func (e *labEnv) rebootTask(h *object.HostSystem, force bool) error {
	t := e.hostTask(h, func() (types.ManagedObjectReference, error) {
		res, err := methods.RebootHost_Task(e.ctx, e.c.Client, &types.RebootHost_Task{This: h.Reference(), Force: force})
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		return res.Returnval, nil
	})
	return t.Wait(e.ctx)
}

// TestMaintenanceModeTakesNoNewVMs: entering waits for the host's running
// VMs (the task keeps the startTime of its call); meanwhile and in maintenance mode nothing is powered on, made or
// moved there (InvalidState); exit lets them in again.
func TestMaintenanceModeTakesNoNewVMs(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(NumNamedHosts + 1)
	other := e.host(7)
	running := e.mustClone("state-running", h, nil)
	stopped := e.mustClone("state-stopped", h, nil)
	elsewhere := e.mustClone("state-elsewhere", other, nil)
	if err := e.powerOn(running); err != nil {
		t.Fatal(err)
	}
	enter := e.enterMaintenance(h, 0)
	time.Sleep(300 * time.Millisecond) // still waiting for "state-running"
	if info := e.taskInfo(enter); info.State != types.TaskInfoStateRunning {
		t.Fatalf("enter with a running VM: %s %v", info.State, info.Error)
	}
	expectFault(t, e.powerOn(stopped), &types.InvalidState{}, "entering maintenance mode", "power on VM state-stopped")
	off := time.Now()
	e.powerOff(running)
	if err := enter.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	// The task began when it was called, not when the host became idle.
	if info := e.taskInfo(enter); info.StartTime == nil || !info.StartTime.Before(off) ||
		info.CompleteTime == nil || info.CompleteTime.Before(off) {
		t.Errorf("enter task times: start %v, complete %v, VM powered off at %v", info.StartTime, info.CompleteTime, off)
	}
	defer func() {
		if err := e.exitMaintenance(h); err != nil {
			t.Error(err)
		}
	}()
	if m := e.hostMo(h, "runtime", "summary.runtime"); !m.Runtime.InMaintenanceMode || !m.Summary.Runtime.InMaintenanceMode {
		t.Errorf("not in maintenance mode: %+v", m.Runtime)
	}
	expectFault(t, e.powerOn(stopped), &types.InvalidState{}, "is in maintenance mode")
	_, err := e.clone("state-new", h, nil, false)
	expectFault(t, err, &types.InvalidState{}, "make VM state-new")
	ref := h.Reference()
	expectFault(t, e.relocate(elsewhere, types.VirtualMachineRelocateSpec{Host: &ref}), &types.InvalidState{},
		"move VM state-elsewhere")
	if err := e.enterMaintenance(h, 0).Wait(e.ctx); faultName(err) != "InvalidState" {
		t.Errorf("enter twice: %v", err)
	}
	if err := e.exitMaintenance(h); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(stopped); err != nil {
		t.Errorf("after exit: %v", err)
	}
	e.powerOff(stopped)
	if err := e.exitMaintenance(h); faultName(err) != "InvalidState" {
		t.Errorf("exit when not in maintenance mode: %v", err)
	}
	if err := e.enterMaintenance(h, 0).Wait(e.ctx); err != nil { // for the deferred exit
		t.Fatal(err)
	}
}

// TestEnterMaintenanceTimesOut: a timeout ends the wait with Timedout and
// leaves the host out of maintenance mode.
func TestEnterMaintenanceTimesOut(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(NumNamedHosts + 1)
	vm := e.mustClone("state-busy", h, nil)
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.enterMaintenance(h, 1).Wait(e.ctx), &types.Timedout{}, "state-busy")
	if m := e.hostMo(h, "runtime"); m.Runtime.InMaintenanceMode {
		t.Error("in maintenance mode after a timeout")
	}
	if err := e.powerOn(e.mustClone("state-after", h, nil)); err != nil {
		t.Errorf("power on after the timeout: %v", err)
	}
}

// TestRebootActivatesRequestedVirtualFunctions: a host reboots in
// maintenance mode (or with force), and boots with the SR-IOV virtual
// functions that were asked for.
func TestRebootActivatesRequestedVirtualFunctions(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(NumNamedHosts + 1)
	sriov := func(n int32) {
		if err := e.updatePassthru(h, &types.HostSriovConfig{HostPciPassthruConfig: types.HostPciPassthruConfig{Id: SRIOVPFId},
			SriovEnabled: true, NumVirtualFunction: n}); err != nil {
			t.Fatal(err)
		}
	}
	sriov(2)
	vf := func() *types.HostSriovInfo {
		return passthruOf(e.hostMo(h, "config.pciPassthruInfo").Config.PciPassthruInfo, SRIOVPFId).(*types.HostSriovInfo)
	}
	if s := vf(); s.NumVirtualFunction != numVFs || s.NumVirtualFunctionRequested != 2 {
		t.Errorf("before the reboot: %+v", s)
	}
	if err := e.rebootTask(h, false); faultName(err) != "InvalidState" {
		t.Errorf("reboot out of maintenance mode without force: %v", err)
	}
	if err := e.enterMaintenance(h, 0).Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.rebootTask(h, false); err != nil {
		t.Fatal(err)
	}
	if s := vf(); s.NumVirtualFunction != 2 || !s.SriovActive || e.hostMo(h, "summary.rebootRequired").Summary.RebootRequired {
		t.Errorf("after the reboot: %+v", s)
	}
	if err := e.exitMaintenance(h); err != nil {
		t.Fatal(err)
	}
	sriov(numVFs)
	vm := e.mustClone("state-forced", h, nil)
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.debug("/debug/reboot?host=" + url.QueryEscape(h.Name())); code != 409 {
		t.Errorf("debug reboot with a running VM: %d", code)
	}
	if err := e.rebootTask(h, true); err != nil {
		t.Fatal(err)
	}
	if s, m := vf(), e.vmMo(vm, "runtime"); s.NumVirtualFunction != numVFs || m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		t.Errorf("after a forced reboot: %+v, VM %s", s, m.Runtime.PowerState)
	}
}

// taskInfo reads a task's info now.
func (e *labEnv) taskInfo(t *object.Task) types.TaskInfo {
	e.t.Helper()
	var m mo.Task
	if err := t.Properties(e.ctx, t.Reference(), []string{"info"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return m.Info
}
