package main

// Moving a VM to another host: RelocateVM_Task (spec.host, spec.pool) and
// MigrateVM_Task (host, pool, state), which the stock simulator either
// lacks or does without moving the VM from its old host's and pool's lists.
//
// Checked under the rules' lock, before anything moves (a failed task):
//   - the destination host must be in the compute resource of the target
//     pool (spec.pool, else the VM's own): InvalidArgument "spec.pool";
//   - vMotion (the VM powered on) of a VM with a DirectPath (static or
//     dynamic) device or an SR-IOV adapter: DisallowedMigrationDeviceAttached
//     carrying DeviceNotSupported (vSphere cannot migrate such a running VM);
//   - a vGPU VM only to a host offering its profile, an adapter only to a
//     host with its port group (standard) or a member of its switch
//     (distributed), and, powered off, a DirectPath device / SR-IOV PF only
//     to a host where it is enabled: CannotAccessVmDevice /
//     CannotAccessNetwork;
//   - MigrateVM_Task with state: the VM must be in that power state
//     (InvalidPowerState).
// A move to where the VM already is succeeds without change.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// RelocateVMTask implements VirtualMachine.RelocateVM_Task (host and pool).
func (h *vmHook) RelocateVMTask(ctx *simulator.Context, req *types.RelocateVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.RelocateVM_TaskBody{Fault_: notFound(h.real)}
	}
	ref := h.lab.moveTask(ctx, vm, "relocateVm", req.Spec.Host, req.Spec.Pool, "spec.", "")
	return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: ref}}
}

// MigrateVMTask implements VirtualMachine.MigrateVM_Task.
func (h *vmHook) MigrateVMTask(ctx *simulator.Context, req *types.MigrateVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.MigrateVM_TaskBody{Fault_: notFound(h.real)}
	}
	ref := h.lab.moveTask(ctx, vm, "migrateVm", req.Host, req.Pool, "", req.State)
	return &methods.MigrateVM_TaskBody{Res: &types.MigrateVM_TaskResponse{Returnval: ref}}
}

// moveTask runs the move of vm as a task; prefix names the request's
// properties in faults ("spec." for RelocateVM_Task).
func (l *Lab) moveTask(ctx *simulator.Context, vm *simulator.VirtualMachine, name string,
	hostRef, poolRef *types.ManagedObjectReference, prefix string, state types.VirtualMachinePowerState) types.ManagedObjectReference {
	var ref types.ManagedObjectReference
	withVM(ctx, vm, func() {
		ref = simulator.CreateTask(vm, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			l.rulesMu.Lock()
			defer l.rulesMu.Unlock()
			return nil, l.moveVM(vm, hostRef, poolRef, prefix, state)
		}).Run()
	})
	setTaskFaultMessage(ref)
	return ref
}

// moveVM checks and moves vm (locked by the caller, with l.rulesMu held).
func (l *Lab) moveVM(vm *simulator.VirtualMachine, hostRef, poolRef *types.ManagedObjectReference,
	prefix string, state types.VirtualMachinePowerState) types.BaseMethodFault {
	if state != "" && state != vm.Runtime.PowerState {
		return withMessage(&types.InvalidPowerState{RequestedState: state, ExistingState: vm.Runtime.PowerState},
			"migrateState", fmt.Sprintf("VM %s is %s, not %s.", vm.Name, vm.Runtime.PowerState, state))
	}
	from := vmHost(vm)
	dest := from
	if hostRef != nil {
		h, ok := simulator.Map.Get(*hostRef).(*simulator.HostSystem)
		if !ok {
			return &types.InvalidArgument{InvalidProperty: prefix + "host"}
		}
		dest = h
	}
	if dest == nil {
		return withMessage(&types.InvalidArgument{InvalidProperty: prefix + "host"}, "moveNoHost",
			fmt.Sprintf("VM %s has no host and none was given.", vm.Name))
	}
	pool := vm.ResourcePool
	if poolRef != nil {
		pool = poolRef
	}
	rp, ok := poolOf(pool)
	if !ok {
		return &types.InvalidArgument{InvalidProperty: prefix + "pool"}
	}
	if cr := computeResourceHosts(rp.Owner); !refsHas(cr, dest.Self) {
		return withMessage(&types.InvalidArgument{InvalidProperty: prefix + "pool"}, "movePool", fmt.Sprintf(
			"Host %s is not in the compute resource of resource pool %s; give the pool of the host's cluster.",
			dest.Name, rp.Name))
	}
	if from != nil && from.Self == dest.Self && vm.ResourcePool != nil && *vm.ResourcePool == rp.Self {
		return nil
	}
	if from == nil || from.Self != dest.Self {
		if fault := hostAdmitsFault(dest, "move VM "+vm.Name+" there"); fault != nil { // host_state.go
			return fault
		}
	}
	if fault := moveDeviceFault(vm, dest); fault != nil {
		return fault
	}
	if from == nil || from.Self != dest.Self {
		moveVMToHost(vm, dest.Self)
	}
	if vm.ResourcePool == nil || *vm.ResourcePool != rp.Self {
		if vm.ResourcePool != nil {
			if old, ok := poolOf(vm.ResourcePool); ok {
				simulator.Map.RemoveReference(old, &old.Vm, vm.Self)
			}
		}
		simulator.Map.AddReference(rp, &rp.Vm, vm.Self)
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "resourcePool", Val: rp.Self}})
	}
	return nil
}

func poolOf(ref *types.ManagedObjectReference) (*simulator.ResourcePool, bool) {
	if ref == nil {
		return nil, false
	}
	rp, ok := simulator.Map.Get(*ref).(*simulator.ResourcePool)
	return rp, ok
}

// computeResourceHosts lists the hosts of a compute resource (cluster or standalone).
func computeResourceHosts(ref types.ManagedObjectReference) []types.ManagedObjectReference {
	switch cr := simulator.Map.Get(ref).(type) {
	case *simulator.ClusterComputeResource:
		return cr.Host
	case *mo.ComputeResource:
		return cr.Host
	}
	return nil
}

// disallowedMigration is vSphere's refusal to vMotion a VM using device.
func disallowedMigration(vmName, label, what, reason string) types.BaseMethodFault {
	inner := withMessage(&types.DeviceNotSupported{Device: label, Reason: reason}, "deviceNotSupported",
		fmt.Sprintf("Device '%s' (%s) is not supported for vMotion.", label, what))
	return withMessage(&types.DisallowedMigrationDeviceAttached{Fault: localized(inner)}, "migrationDevice",
		fmt.Sprintf("VM %s is powered on and uses %s '%s', which prevents migration; power it off to move it.",
			vmName, what, label))
}

// cannotAccess is vSphere's refusal of a device backing the destination lacks.
func cannotAccess(vmName, label, backing, dest, why string) types.BaseMethodFault {
	return withMessage(&types.CannotAccessVmDevice{Device: label, Backing: backing, Connected: true}, "moveBacking",
		fmt.Sprintf("Device '%s' of VM %s uses backing %s, which is not accessible on host %s: %s.",
			label, vmName, backing, dest, why))
}

// moveDeviceFault returns the fault refusing to move vm to dest for one of
// its devices, or nil.
func moveDeviceFault(vm *simulator.VirtualMachine, dest *simulator.HostSystem) types.BaseMethodFault {
	running := vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	devs := vm.Config.Hardware.Device
	for _, d := range devs {
		label := deviceLabel(d)
		switch deviceKind(d) {
		case devDirectPath:
			id := passthroughId(d)
			if running {
				what := "PCI passthrough device " + id
				if id == "" {
					what = "Dynamic DirectPath device"
				}
				return disallowedMigration(vm.Name, label, what, "directPath")
			}
			if id == "" {
				continue // a dynamic device is assigned at the next power-on
			}
			if info := hostPassthru(dest, id); info == nil || !info.GetHostPciPassthruInfo().PassthruEnabled {
				return cannotAccess(vm.Name, label, id, dest.Name, "no passthrough-enabled device with that id")
			}
		case devSriov:
			pf := sriovPF(d)
			if running {
				return disallowedMigration(vm.Name, label, "SR-IOV adapter on "+pf, "sriov")
			}
			if s := hostSriov(dest, pf); s == nil || !s.SriovEnabled || !s.SriovActive {
				return cannotAccess(vm.Name, label, pf, dest.Name, "no SR-IOV enabled physical function with that id")
			}
		case devVGPU:
			if p := vgpuProfile(d); !hostOffersVGPU(dest, p) {
				return cannotAccess(vm.Name, label, p, dest.Name, "it offers "+hostVGPUs(dest))
			}
			if running && !vgpuHotMigrateEnabled() { // gpu_catalog.go
				return vgpuHotMigrateFault(vm.Name, label, vgpuProfile(d))
			}
		}
	}
	return networkFault(vm.Name, devs, dest)
}

// networkFault refuses devs' adapters on dest: a distributed port of a
// switch dest is not a member of, a standard port group dest lacks.
func networkFault(vmName string, devs []types.BaseVirtualDevice, dest *simulator.HostSystem) types.BaseMethodFault {
	if _, fault, msg := dvsSwitchesFor(&dest.Self, devs); fault != nil {
		return withMessage(&types.CannotAccessNetwork{CannotAccessVmDevice: types.CannotAccessVmDevice{Connected: true}},
			"moveNetwork", fmt.Sprintf("VM %s cannot run on host %s: %s.", vmName, dest.Name, msg))
	}
	pgs := map[string]bool{}
	if dest.Config != nil && dest.Config.Network != nil {
		for _, pg := range dest.Config.Network.Portgroup {
			pgs[pg.Spec.Name] = true
		}
	}
	for _, d := range devs {
		card, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		b, ok := card.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardNetworkBackingInfo)
		if !ok || b.DeviceName == "" || pgs[b.DeviceName] {
			continue
		}
		return withMessage(&types.CannotAccessNetwork{CannotAccessVmDevice: types.CannotAccessVmDevice{
			Device: deviceLabel(d), Backing: b.DeviceName, Connected: true}}, "moveNetwork", fmt.Sprintf(
			"Network adapter '%s' of VM %s is on port group %s, which host %s does not have (it has %s).",
			deviceLabel(d), vmName, b.DeviceName, dest.Name, strings.Join(sortedKeys(pgs), ", ")))
	}
	return nil
}
