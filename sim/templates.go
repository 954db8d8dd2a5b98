package main

// Templates as vSphere has them (sim/README.md "Templates"):
//
//   - A template is immutable: CreateSnapshot_Task and ReconfigVM_Task (but
//     for a new name or annotation) fail with NotSupported, "The operation is
//     not supported on the object." (vCenter's text; govmomi #1430/#1431).
//   - MarkAsTemplate: the VM must be powered off (InvalidPowerState); a
//     template already is one (InvalidState). The template leaves its
//     resource pool (VirtualMachine.resourcePool is unset for templates).
//   - MarkAsVirtualMachine(pool, host): only a template (InvalidState); the
//     pool is required; the host, when given, must belong to the pool's
//     compute resource; without it a DRS cluster or stand-alone host picks one
//     and any other cluster refuses (InvalidArgument "host").
//   - CloneVM_Task with spec.template makes a template: spec.powerOn is
//     ignored, and spec.location.pool may be left out.
//   - A linked clone (diskMoveType createNewChildDiskBacking) is only valid
//     from a snapshot of the source: spec.snapshot must be set and be one of
//     the source's snapshots (InvalidArgument).
// Every change goes through the property collector.

import (
	"fmt"
	"reflect"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LinkedCloneSnapshot is the snapshot the lab's template carries from the
// start, as an administrator prepares a template for linked clones.
const LinkedCloneSnapshot = "linked-clone-base"

const notSupportedText = "The operation is not supported on the object."

// templateFault refuses what a template cannot do.
func templateFault(vm *simulator.VirtualMachine, what string) types.BaseMethodFault {
	return withMessage(&types.NotSupported{}, "template", fmt.Sprintf(
		"%s VM %s is a template: %s is not possible on a template "+
			"(mark it as a virtual machine first).", notSupportedText, vm.Name, what))
}

// templateReconfigFault refuses a reconfigure of a template that changes
// more than its name and annotation (what vCenter allows), or nil.
func templateReconfigFault(vm *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	if vm.Config == nil || !vm.Config.Template {
		return nil
	}
	allowed := types.VirtualMachineConfigSpec{Name: spec.Name, Annotation: spec.Annotation}
	if reflect.DeepEqual(*spec, allowed) {
		return nil
	}
	return templateFault(vm, "a reconfiguration other than its name and annotation")
}

// CreateSnapshotTask refuses a template, else takes the snapshot.
func (h *vmHook) CreateSnapshotTask(ctx *simulator.Context, req *types.CreateSnapshot_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.CreateSnapshot_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	var res soap.HasFault
	withVM(ctx, vm, func() {
		if vm.Config != nil && vm.Config.Template {
			res = &methods.CreateSnapshot_TaskBody{Res: &types.CreateSnapshot_TaskResponse{
				Returnval: failedTask(vm, "createSnapshot", templateFault(vm, "a snapshot"))}}
			return
		}
		res = vm.CreateSnapshotTask(req)
	})
	return res
}

// MarkAsTemplate marks a powered-off VM as a template.
func (h *vmHook) MarkAsTemplate(ctx *simulator.Context, req *types.MarkAsTemplate) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.MarkAsTemplateBody{Fault_: notFound(h.real)}
	}
	var fault types.BaseMethodFault
	withVM(ctx, vm, func() { fault = markAsTemplate(vm) })
	if fault != nil {
		return &methods.MarkAsTemplateBody{Fault_: simulator.Fault(faultText(fault), fault)}
	}
	return &methods.MarkAsTemplateBody{Res: &types.MarkAsTemplateResponse{}}
}

// markAsTemplate makes vm (locked by the caller) a template.
func markAsTemplate(vm *simulator.VirtualMachine) types.BaseMethodFault {
	if vm.Config.Template {
		return withMessage(&types.InvalidState{}, "alreadyTemplate",
			fmt.Sprintf("The operation is not allowed in the current state: VM %s is already a template.", vm.Name))
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		return withMessage(&types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOff,
			ExistingState:  vm.Runtime.PowerState,
		}, "templatePowerState", fmt.Sprintf(
			"The attempted operation cannot be performed in the current state (%s): VM %s must be powered off "+
				"to be marked as a template.", vm.Runtime.PowerState, vm.Name))
	}
	if vm.ResourcePool != nil {
		leavePool(vm, *vm.ResourcePool)
	}
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config.template", Val: true},
		{Name: "summary.config.template", Val: true},
		{Name: "resourcePool", Val: nil},
	})
	return nil
}

// MarkAsVirtualMachine makes a template a VM again, in pool (on host).
func (h *vmHook) MarkAsVirtualMachine(ctx *simulator.Context, req *types.MarkAsVirtualMachine) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.MarkAsVirtualMachineBody{Fault_: notFound(h.real)}
	}
	var fault types.BaseMethodFault
	withVM(ctx, vm, func() { fault = markAsVirtualMachine(vm, req.Pool, req.Host) })
	if fault != nil {
		return &methods.MarkAsVirtualMachineBody{Fault_: simulator.Fault(faultText(fault), fault)}
	}
	return &methods.MarkAsVirtualMachineBody{Res: &types.MarkAsVirtualMachineResponse{}}
}

func markAsVirtualMachine(vm *simulator.VirtualMachine, poolRef types.ManagedObjectReference, hostRef *types.ManagedObjectReference) types.BaseMethodFault {
	if !vm.Config.Template {
		return withMessage(&types.InvalidState{}, "notTemplate",
			fmt.Sprintf("The operation is not allowed in the current state: VM %s is not a template.", vm.Name))
	}
	pool := resourcePool(poolRef)
	if pool == nil {
		return withMessage(&types.InvalidArgument{InvalidProperty: "pool"}, "pool",
			fmt.Sprintf("A specified parameter was not correct: pool (%s is not a resource pool).", poolRef.Value))
	}
	host, fault := hostForPool(vm, pool, hostRef)
	if fault != nil {
		return fault
	}
	simulator.Map.WithLock(simulator.Map.Get(poolRef), func() {
		pool.Vm = append(pool.Vm, vm.Self)
	})
	changes := []types.PropertyChange{
		{Name: "config.template", Val: false},
		{Name: "summary.config.template", Val: false},
		{Name: "resourcePool", Val: poolRef},
	}
	simulator.Map.Update(vm, changes)
	if vm.Runtime.Host == nil || *vm.Runtime.Host != host {
		moveVMToHost(vm, host)
	}
	return nil
}

// hostForPool is the host a template becomes a VM on: the one asked (a
// host of pool's compute resource), else one the compute resource picks.
func hostForPool(vm *simulator.VirtualMachine, pool *mo.ResourcePool, asked *types.ManagedObjectReference) (types.ManagedObjectReference, types.BaseMethodFault) {
	hosts, drs := computeHosts(pool.Owner)
	if asked != nil {
		if !refsHas(hosts, *asked) {
			return types.ManagedObjectReference{}, withMessage(&types.InvalidArgument{InvalidProperty: "host"}, "host",
				fmt.Sprintf("A specified parameter was not correct: host (%s is not a host of the compute "+
					"resource of pool %s).", asked.Value, pool.Name))
		}
		return *asked, nil
	}
	if len(hosts) == 1 || (drs && len(hosts) > 0) {
		if vm.Runtime.Host != nil && refsHas(hosts, *vm.Runtime.Host) {
			return *vm.Runtime.Host, nil
		}
		return hosts[0], nil
	}
	return types.ManagedObjectReference{}, withMessage(&types.InvalidArgument{InvalidProperty: "host"}, "host",
		fmt.Sprintf("A specified parameter was not correct: host (pool %s belongs to a cluster without DRS; "+
			"give the host VM %s is to run on).", pool.Name, vm.Name))
}

// computeHosts are the hosts of a compute resource and whether DRS places VMs.
func computeHosts(owner types.ManagedObjectReference) ([]types.ManagedObjectReference, bool) {
	switch cr := simulator.Map.Get(owner).(type) {
	case *simulator.ClusterComputeResource:
		drs := false
		if cfg, ok := cr.ConfigurationEx.(*types.ClusterConfigInfoEx); ok && cfg.DrsConfig.Enabled != nil {
			drs = *cfg.DrsConfig.Enabled
		}
		return cr.Host, drs
	case *mo.ComputeResource:
		return cr.Host, false
	}
	return nil, false
}

// resourcePool is the pool (or vApp) behind ref, or nil.
func resourcePool(ref types.ManagedObjectReference) *mo.ResourcePool {
	switch p := simulator.Map.Get(ref).(type) {
	case *simulator.ResourcePool:
		return &p.ResourcePool
	case *simulator.VirtualApp:
		return &p.ResourcePool
	}
	return nil
}

// leavePool takes vm off its pool's VM list.
func leavePool(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) {
	pool := resourcePool(ref)
	if pool == nil {
		return
	}
	simulator.Map.WithLock(simulator.Map.Get(ref), func() {
		pool.Vm = refsWithout(pool.Vm, vm.Self)
	})
}

// checkLinkedClone refuses a linked clone of src without one of its
// snapshots, or nil.
func checkLinkedClone(src *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec) types.BaseMethodFault {
	if spec.Snapshot != nil && !hasSnapshot(src, *spec.Snapshot) {
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.snapshot"}, "snapshot", fmt.Sprintf(
			"A specified parameter was not correct: spec.snapshot (%s is not a snapshot of VM %s).",
			spec.Snapshot.Value, src.Name))
	}
	if spec.Location.DiskMoveType == string(types.VirtualMachineRelocateDiskMoveOptionsCreateNewChildDiskBacking) &&
		spec.Snapshot == nil {
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.diskMoveType"}, "linkedClone",
			fmt.Sprintf("A specified parameter was not correct: spec.location.diskMoveType "+
				"(createNewChildDiskBacking, a linked clone, needs spec.snapshot: a snapshot of VM %s).", src.Name))
	}
	return nil
}

func hasSnapshot(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) bool {
	if vm.Snapshot == nil {
		return false
	}
	var walk func([]types.VirtualMachineSnapshotTree) bool
	walk = func(tree []types.VirtualMachineSnapshotTree) bool {
		for _, t := range tree {
			if t.Snapshot == ref || walk(t.ChildSnapshotList) {
				return true
			}
		}
		return false
	}
	return walk(vm.Snapshot.RootSnapshotList)
}

// clonePool is the pool the stock clone needs when a template is cloned to
// a template without spec.location.pool: the root pool of the destination
// host's compute resource.
func clonePool(src *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec) *types.ManagedObjectReference {
	host := src.Runtime.Host
	if spec.Location.Host != nil {
		host = spec.Location.Host
	}
	if host == nil {
		return nil
	}
	h, ok := simulator.Map.Get(*host).(*simulator.HostSystem)
	if !ok || h.Parent == nil {
		return nil
	}
	switch cr := simulator.Map.Get(*h.Parent).(type) {
	case *simulator.ClusterComputeResource:
		return cr.ResourcePool
	case *mo.ComputeResource:
		return cr.ResourcePool
	}
	return nil
}
