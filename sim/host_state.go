package main

// A host's maintenance mode and reboots, as vCenter and ESXi handle them
// (HostSystem.EnterMaintenanceMode_Task, ExitMaintenanceMode_Task,
// RebootHost_Task; the stock simulator flips runtime.inMaintenanceMode
// behind the property collector's back, checks nothing and cannot reboot).
//
//   - EnterMaintenanceMode_Task (cancelable) runs until no VM is powered on
//     on the host, then sets runtime.inMaintenanceMode (also in
//     summary.runtime): the lab does not evacuate running VMs (DRS would
//     vMotion them in a fully automated cluster), it waits for them to be
//     powered off or moved; timeout seconds (> 0) end the wait with
//     Timedout. A host already in maintenance mode: InvalidState.
//   - While the task runs and while the host is in maintenance mode, no VM
//     is powered on there and no VM is made or moved there (govc's
//     host.maintenance.enter, after the API reference: "no VMs can be powered
//     on and no provisioning operations can be performed on the host"):
//     PowerOnVM_Task, PowerOnMultiVM_Task, CloneVM_Task, InstantClone_Task,
//     CreateVM_Task (with a host), RelocateVM_Task and MigrateVM_Task fail
//     with InvalidState "The operation is not allowed in the current state
//     of the host. ...".
//   - ExitMaintenanceMode_Task: InvalidState unless in maintenance mode.
//   - RebootHost_Task(force): a host not in maintenance mode reboots only
//     with force (else InvalidState); its powered-on VMs are powered off.
//     What waits for a reboot then applies: SR-IOV virtual function counts
//     (UpdatePassthruConfig with HostSriovConfig records the request in
//     numVirtualFunctionRequested and sets summary.rebootRequired; the
//     active count numVirtualFunction and sriovActive change at boot:
//     HostSriovInfo, "sriovActive: enabled + rebooted"), and
//     summary.rebootRequired goes back to false; runtime.bootTime is the
//     reboot's time. A host stays in maintenance mode across a reboot.
//   - POST /debug/reboot?host=NAME reboots a host as RebootHost_Task with
//     force would, without a session (409 while VMs run on it).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// hostHook receives the routed methods of one host.
type hostHook struct{ labHook }

// entering holds the hosts whose EnterMaintenanceMode_Task runs.
var entering = struct {
	sync.Mutex
	hosts map[string]bool
}{hosts: map[string]bool{}}

func setEntering(host types.ManagedObjectReference, on bool) {
	entering.Lock()
	defer entering.Unlock()
	if on {
		entering.hosts[host.Value] = true
	} else {
		delete(entering.hosts, host.Value)
	}
}

func isEntering(host types.ManagedObjectReference) bool {
	entering.Lock()
	defer entering.Unlock()
	return entering.hosts[host.Value]
}

// hostAdmitsFault is vCenter's refusal to power on, make or move a VM
// (what: "power on VM x") on a host in (or entering) maintenance mode.
func hostAdmitsFault(host *simulator.HostSystem, what string) types.BaseMethodFault {
	if host == nil {
		return nil
	}
	state := ""
	switch {
	case host.Runtime.InMaintenanceMode:
		state = "is in maintenance mode"
	case isEntering(host.Self):
		state = "is entering maintenance mode"
	default:
		return nil
	}
	return withMessage(&types.InvalidState{}, "hostMaintenance", fmt.Sprintf(
		"The operation is not allowed in the current state of the host. Host %s %s: it takes no new "+
			"virtual machines (cannot %s); exit maintenance mode first.", host.Name, state, what))
}

// hostByRef is the host of ref, or nil.
func hostByRef(ref *types.ManagedObjectReference) *simulator.HostSystem {
	if ref == nil {
		return nil
	}
	h, _ := simulator.Map.Get(*ref).(*simulator.HostSystem)
	return h
}

// runningVMs are the names of host's powered-on VMs. It reads host's VM
// list under the host's lock (the caller must not hold it).
func runningVMs(host *simulator.HostSystem) []string {
	var refs []types.ManagedObjectReference
	simulator.Map.WithLock(host, func() { refs = append(refs, host.Vm...) })
	var out []string
	for _, ref := range refs {
		if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok &&
			vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			out = append(out, vm.Name)
		}
	}
	return out
}

func setMaintenance(host *simulator.HostSystem, on bool) {
	simulator.Map.WithLock(host, func() {
		simulator.Map.Update(host, []types.PropertyChange{
			{Name: "runtime.inMaintenanceMode", Val: on},
			{Name: "summary.runtime.inMaintenanceMode", Val: on},
		})
	})
}

// EnterMaintenanceModeTask implements HostSystem.EnterMaintenanceMode_Task.
func (h *hostHook) EnterMaintenanceModeTask(ctx *simulator.Context, req *types.EnterMaintenanceMode_Task) soap.HasFault {
	host, ok := h.target(ctx).(*simulator.HostSystem)
	if !ok {
		return &methods.EnterMaintenanceMode_TaskBody{Fault_: notFound(h.real)}
	}
	task := simulator.CreateTask(host, "enterMaintenanceMode", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		defer setEntering(host.Self, false)
		setMaintenance(host, true)
		return nil, nil
	})
	body := func(ref types.ManagedObjectReference) soap.HasFault {
		return &methods.EnterMaintenanceMode_TaskBody{Res: &types.EnterMaintenanceMode_TaskResponse{Returnval: ref}}
	}
	if host.Runtime.InMaintenanceMode || isEntering(host.Self) {
		return body(failedTask(host, "enterMaintenanceMode", withMessage(&types.InvalidState{}, "hostMaintenance",
			fmt.Sprintf("Host %s is already in (or entering) maintenance mode.", host.Name))))
	}
	setEntering(host.Self, true)
	h.lab.rulesMu.Lock() // no power-on slips between this look and the flag above
	busy := len(runningVMs(host)) > 0
	h.lab.rulesMu.Unlock()
	if !busy {
		return body(h.lab.runTask(task, false))
	}
	return body(h.lab.waitForIdleHost(task, host, time.Duration(req.Timeout)*time.Second))
}

// waitForIdleHost runs task (cancelable) once no VM runs on host, or fails
// it with Timedout after timeout (0: no limit).
func (l *Lab) waitForIdleHost(t *simulator.Task, host *simulator.HostSystem, timeout time.Duration) types.ManagedObjectReference {
	p := &pendingTask{cancelable: true, cancel: make(chan struct{})}
	l.tasks.put(t.Self.Value, p)
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.cancelable", Val: true},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
		{Name: "info.startTime", Val: time.Now()},
	})
	go func() {
		defer l.tasks.drop(t.Self.Value)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var deadline <-chan time.Time
		if timeout > 0 {
			timer := time.NewTimer(timeout)
			defer timer.Stop()
			deadline = timer.C
		}
		for {
			select {
			case <-p.cancel:
				setEntering(host.Self, false)
				finishCanceled(t)
				return
			case <-deadline:
				setEntering(host.Self, false)
				finishFailed(t, withMessage(&types.Timedout{}, "hostMaintenanceTimeout", fmt.Sprintf(
					"Host %s did not enter maintenance mode within %s: VMs %s still run there.",
					host.Name, timeout, strings.Join(runningVMs(host), ", "))))
				return
			case <-tick.C:
				l.rulesMu.Lock()
				idle := len(runningVMs(host)) == 0
				l.rulesMu.Unlock()
				if idle {
					completeTask(t) // admission.go: keeps the startTime set above
					return
				}
			}
		}
	}()
	return t.Self
}

// finishFailed ends a running task with fault.
func finishFailed(t *simulator.Task, fault types.BaseMethodFault) {
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateError},
		{Name: "info.error", Val: localized(fault)},
	})
}

// ExitMaintenanceModeTask implements HostSystem.ExitMaintenanceMode_Task.
func (h *hostHook) ExitMaintenanceModeTask(ctx *simulator.Context, req *types.ExitMaintenanceMode_Task) soap.HasFault {
	host, ok := h.target(ctx).(*simulator.HostSystem)
	if !ok {
		return &methods.ExitMaintenanceMode_TaskBody{Fault_: notFound(h.real)}
	}
	task := simulator.CreateTask(host, "exitMaintenanceMode", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if !host.Runtime.InMaintenanceMode {
			return nil, withMessage(&types.InvalidState{}, "hostMaintenance",
				fmt.Sprintf("Host %s is not in maintenance mode.", host.Name))
		}
		setMaintenance(host, false)
		return nil, nil
	})
	return &methods.ExitMaintenanceMode_TaskBody{Res: &types.ExitMaintenanceMode_TaskResponse{Returnval: h.lab.runTask(task, false)}}
}

// RebootHostTask implements HostSystem.RebootHost_Task.
func (h *hostHook) RebootHostTask(ctx *simulator.Context, req *types.RebootHost_Task) soap.HasFault {
	host, ok := h.target(ctx).(*simulator.HostSystem)
	if !ok {
		return &methods.RebootHost_TaskBody{Fault_: notFound(h.real)}
	}
	task := simulator.CreateTask(host, "rebootHost", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if !host.Runtime.InMaintenanceMode && !req.Force {
			return nil, withMessage(&types.InvalidState{}, "hostReboot", fmt.Sprintf(
				"Host %s is not in maintenance mode: enter it first, or reboot with force.", host.Name))
		}
		for _, ref := range append([]types.ManagedObjectReference(nil), host.Vm...) {
			vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
			if ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				withVM(ctx, vm, func() { _, _ = taskOutcome(vm.PowerOffVMTask(ctx, &types.PowerOffVM_Task{This: vm.Self})) })
			}
		}
		h.lab.bootHost(host)
		return nil, nil
	})
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: h.lab.runTask(task, false)}}
}

// bootHost applies what waits for host's next boot.
func (l *Lab) bootHost(host *simulator.HostSystem) {
	l.rulesMu.Lock()
	defer l.rulesMu.Unlock()
	simulator.Map.WithLock(host, func() {
		infos := append([]types.BaseHostPciPassthruInfo(nil), host.Config.PciPassthruInfo...)
		for i, bi := range infos {
			if s, ok := bi.(*types.HostSriovInfo); ok {
				next := *s
				next.NumVirtualFunction = 0
				if s.SriovEnabled {
					next.NumVirtualFunction = s.NumVirtualFunctionRequested
				}
				next.SriovActive = next.NumVirtualFunction > 0
				infos[i] = &next
			}
		}
		simulator.Map.Update(host, []types.PropertyChange{
			{Name: "config.pciPassthruInfo", Val: infos},
			{Name: "summary.rebootRequired", Val: false},
			{Name: "runtime.bootTime", Val: time.Now()},
		})
	})
}

// sriovPending tells whether an SR-IOV entry waits for a reboot.
func sriovPending(s *types.HostSriovInfo) bool {
	active := int32(0)
	if s.SriovActive {
		active = s.NumVirtualFunction
	}
	requested := int32(0)
	if s.SriovEnabled {
		requested = s.NumVirtualFunctionRequested
	}
	return active != requested
}

// serveDebugReboot reboots an idle host (lab-only, no session).
func (l *Lab) serveDebugReboot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Query().Get("host")
	var host *simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok && strings.EqualFold(h.Name, name) {
			host = h
		}
	}
	if host == nil {
		http.Error(w, "no host "+name, http.StatusNotFound)
		return
	}
	if running := runningVMs(host); len(running) > 0 {
		http.Error(w, "VMs run on host "+host.Name+": "+strings.Join(running, ", "), http.StatusConflict)
		return
	}
	l.bootHost(host)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"host": host.Name, "rebootRequired": false})
}

// cloneHostFault refuses a clone of src (spec) named name onto a host in
// maintenance mode: spec.location.host, else src's.
func cloneHostFault(src *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec, name string) types.BaseMethodFault {
	host := hostByRef(spec.Location.Host)
	if host == nil {
		host = vmHost(src)
	}
	return hostAdmitsFault(host, "make VM "+name)
}
