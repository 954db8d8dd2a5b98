package main

// InstantClone_Task (vSphere 6.7+): a new VM forked from a running source,
// sharing its memory and disks; it starts powered on with the source's
// hardware. The stock simulator has no instant clone.
//
// Refused, before anything is made (a failed task):
//   - a source that is not powered on: InvalidPowerState;
//   - a source with a DirectPath (static or dynamic) device, an SR-IOV
//     adapter or a vGPU: DisallowedMigrationDeviceAttached (an instant
//     clone is a fork of the running VM, which these devices prevent);
//   - no name: InvalidArgument "spec.name";
//   - a spec.location.host other than the source's host: InvalidArgument
//     "spec.location.host". The clone shares the source's memory and disks,
//     so it runs where the source runs (SDK Programming Guide, "Limitations
//     of Instant Clones": "The instant clone operation does not allow you to
//     specify a different host for the clone");
//   - a location that sets more than folder, datastore, pool and device
//     edits of network adapters or file-backed serial/parallel ports
//     (InstantCloneSpec.location: "All other settings are NOT supported"):
//     InvalidArgument naming the field ("spec.location.diskMoveType", ...);
//   - a pool outside the source host's compute resource: InvalidArgument
//     "spec.location.pool"; an adapter edit to a network the host lacks:
//     CannotAccessNetwork.
// The clone gets the source's configuration (CPU, memory, firmware,
// reservations, latency, boot options, affinity, extraConfig) plus
// spec.config as extraConfig (a key given again takes the new value),
// spec.biosUuid as config.uuid and the adapter edits, runs on the source's
// host and powers on; its guest reports Tools and an address after the boot
// delay, as after a power-on.

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// InstantCloneTask implements VirtualMachine.InstantClone_Task.
func (h *vmHook) InstantCloneTask(ctx *simulator.Context, req *types.InstantClone_Task) soap.HasFault {
	src := h.vm(ctx)
	if src == nil {
		return &methods.InstantClone_TaskBody{Fault_: notFound(h.real)}
	}
	l, spec := h.lab, req.Spec
	task := simulator.CreateTask(src, "instantClone", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		var dest *simulator.HostSystem
		var pool types.ManagedObjectReference
		var fault types.BaseMethodFault
		l.rulesMu.Lock()
		withVM(ctx, src, func() { dest, pool, fault = checkInstantClone(src, &spec) })
		l.rulesMu.Unlock()
		if fault != nil {
			return nil, fault
		}
		folder := src.Parent
		if spec.Location.Folder != nil {
			folder = spec.Location.Folder
		}
		extra := mergeExtraConfig(src.Config.ExtraConfig, spec.Config)
		stock := types.CloneVM_Task{This: src.Self, Folder: *folder, Name: spec.Name,
			Spec: types.VirtualMachineCloneSpec{
				Location: types.VirtualMachineRelocateSpec{Pool: &pool, Datastore: spec.Location.Datastore},
				Config:   &types.VirtualMachineConfigSpec{ExtraConfig: extra},
			}}
		var res soap.HasFault
		withVM(ctx, src, func() { res = src.CloneVMTask(ctx, &stock) })
		t, fault := taskOutcome(res)
		if fault != nil {
			return nil, fault
		}
		ref, ok := t.Info.Result.(types.ManagedObjectReference)
		clone, found := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok || !found {
			return nil, &types.SystemError{Reason: "instant clone not found"}
		}
		withVM(ctx, clone, func() { fault = copyRunningConfig(ctx, src, clone, dest, &spec) })
		if fault != nil {
			return nil, fault
		}
		if l.guestOps != nil {
			if err := l.guestOps.copyDisk(src.Name, clone.Name); err != nil { // guest_boot.go
				return nil, &types.SystemError{Reason: "copying the guest disk: " + err.Error()}
			}
		}
		withVM(ctx, clone, func() { _, fault = l.powerOn(ctx, clone, &types.PowerOnVM_Task{This: clone.Self}) })
		if fault != nil {
			return nil, fault
		}
		return ref, nil
	})
	ref := l.runProvisioning(task, instantClone, vmHost(src), hostOf(spec.Location.Host), false) // admission.go
	return &methods.InstantClone_TaskBody{Res: &types.InstantClone_TaskResponse{Returnval: ref}}
}

// checkInstantClone returns the clone's host and pool, or the refusal.
func checkInstantClone(src *simulator.VirtualMachine, spec *types.VirtualMachineInstantCloneSpec) (*simulator.HostSystem, types.ManagedObjectReference, types.BaseMethodFault) {
	var none types.ManagedObjectReference
	if src.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return nil, none, withMessage(&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn,
			ExistingState: src.Runtime.PowerState}, "instantCloneOff", fmt.Sprintf(
			"VM %s is %s: an instant clone is made from a running VM.", src.Name, src.Runtime.PowerState))
	}
	if spec.Name == "" {
		return nil, none, &types.InvalidArgument{InvalidProperty: "spec.name"}
	}
	for _, d := range src.Config.Hardware.Device {
		label := deviceLabel(d)
		var what string
		switch deviceKind(d) {
		case devDirectPath:
			what = "PCI passthrough device " + passthroughId(d)
			if passthroughId(d) == "" {
				what = "Dynamic DirectPath device"
			}
		case devSriov:
			what = "SR-IOV adapter on " + sriovPF(d)
		case devVGPU:
			what = "vGPU " + vgpuProfile(d)
		default:
			continue
		}
		inner := withMessage(&types.DeviceNotSupported{Device: label}, "deviceNotSupported",
			fmt.Sprintf("Device '%s' (%s) cannot be instant cloned.", label, what))
		return nil, none, withMessage(&types.DisallowedMigrationDeviceAttached{Fault: localized(inner)},
			"instantCloneDevice", fmt.Sprintf("VM %s uses %s '%s', which prevents an instant clone of it.",
				src.Name, what, label))
	}
	dest := vmHost(src)
	if dest == nil {
		return nil, none, &types.InvalidArgument{InvalidProperty: "spec.location.host"}
	}
	if fault := instantLocationFault(src, dest, &spec.Location); fault != nil {
		return nil, none, fault
	}
	if fault := hostAdmitsFault(dest, "make VM "+spec.Name); fault != nil { // host_state.go
		return nil, none, fault
	}
	pool := src.ResourcePool
	if spec.Location.Pool != nil {
		pool = spec.Location.Pool
	}
	rp, ok := poolOf(pool)
	if !ok {
		return nil, none, &types.InvalidArgument{InvalidProperty: "spec.location.pool"}
	}
	if !refsHas(computeResourceHosts(rp.Owner), dest.Self) {
		return nil, none, withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.pool"}, "movePool",
			fmt.Sprintf("Host %s is not in the compute resource of resource pool %s; give the pool of the host's cluster.",
				dest.Name, rp.Name))
	}
	devices := applyDeviceChanges(src.Config.Hardware.Device, spec.Location.DeviceChange)
	if fault := networkFault(src.Name, devices, dest); fault != nil {
		return nil, none, fault
	}
	return dest, rp.Self, nil
}

// instantLocationFault refuses what InstantCloneSpec.location may not set:
// another host than the source's, and anything but folder, datastore, pool
// and edits of network adapters and file-backed serial/parallel ports.
func instantLocationFault(src *simulator.VirtualMachine, host *simulator.HostSystem, loc *types.VirtualMachineRelocateSpec) types.BaseMethodFault {
	if loc.Host != nil && *loc.Host != host.Self {
		name := loc.Host.Value
		if h, ok := simulator.Map.Get(*loc.Host).(*simulator.HostSystem); ok {
			name = h.Name
		}
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.host"}, "instantCloneHost", fmt.Sprintf(
			"An instant clone runs on its source's host: VM %s runs on %s, the spec names %s.", src.Name, host.Name, name))
	}
	unsupported := map[string]bool{"spec.location.diskMoveType": loc.DiskMoveType != "",
		"spec.location.disk": len(loc.Disk) > 0, "spec.location.transform": loc.Transform != "",
		"spec.location.service": loc.Service != nil, "spec.location.profile": len(loc.Profile) > 0}
	for _, field := range sortedKeys(unsupported) {
		if unsupported[field] {
			return withMessage(&types.InvalidArgument{InvalidProperty: field}, "instantCloneLocation", fmt.Sprintf(
				"%s is not supported for an instant clone (its location takes folder, datastore, pool and "+
					"device edits of network adapters only).", field))
		}
	}
	for i, bc := range loc.DeviceChange {
		s := bc.GetVirtualDeviceConfigSpec()
		if s.Operation == types.VirtualDeviceConfigSpecOperationEdit && instantEditable(s.Device) {
			continue
		}
		return withMessage(&types.InvalidArgument{InvalidProperty: fmt.Sprintf("spec.location.deviceChange[%d]", i)},
			"instantCloneDevice", fmt.Sprintf("An instant clone takes only edits of network adapters and file-backed "+
				"serial/parallel ports; deviceChange[%d] is an %s of %s.", i, s.Operation, deviceLabel(s.Device)))
	}
	return nil
}

// instantEditable tells whether an instant clone may edit d.
func instantEditable(d types.BaseVirtualDevice) bool {
	switch v := d.(type) {
	case types.BaseVirtualEthernetCard:
		return true
	case *types.VirtualSerialPort:
		_, file := v.Backing.(*types.VirtualSerialPortFileBackingInfo)
		return file
	case *types.VirtualParallelPort:
		_, file := v.Backing.(*types.VirtualParallelPortFileBackingInfo)
		return file
	}
	return false
}

// copyRunningConfig gives clone (locked by the caller) the source's
// configuration and the spec's adapter edits, puts it on dest (the source's
// host) and sets its BIOS UUID.
func copyRunningConfig(ctx *simulator.Context, src, clone *simulator.VirtualMachine, dest *simulator.HostSystem,
	spec *types.VirtualMachineInstantCloneSpec) types.BaseMethodFault {
	c := src.Config
	cfg := types.VirtualMachineConfigSpec{
		Firmware:                     c.Firmware,
		NumCoresPerSocket:            c.Hardware.NumCoresPerSocket,
		CpuAllocation:                c.CpuAllocation,
		MemoryAllocation:             c.MemoryAllocation,
		MemoryReservationLockedToMax: c.MemoryReservationLockedToMax,
		LatencySensitivity:           c.LatencySensitivity,
		BootOptions:                  c.BootOptions,
		CpuAffinity:                  c.CpuAffinity,
		DeviceChange:                 spec.Location.DeviceChange,
	}
	if _, fault := taskOutcome(clone.ReconfigVMTask(ctx, &types.ReconfigVM_Task{This: clone.Self, Spec: cfg})); fault != nil {
		return fault
	}
	if clone.Runtime.Host == nil || *clone.Runtime.Host != dest.Self {
		moveVMToHost(clone, dest.Self)
	}
	if spec.BiosUuid != "" {
		simulator.Map.Update(clone, []types.PropertyChange{{Name: "config.uuid", Val: spec.BiosUuid}})
	}
	return nil
}

// mergeExtraConfig is base with opts applied as vSphere applies extraConfig:
// a key given again takes the new value, an empty value removes the key.
func mergeExtraConfig(base []types.BaseOptionValue, opts []types.BaseOptionValue) []types.BaseOptionValue {
	var out []types.BaseOptionValue
	index := map[string]int{}
	add := func(o types.BaseOptionValue) {
		v := o.GetOptionValue()
		if i, ok := index[v.Key]; ok {
			out[i] = o
			return
		}
		index[v.Key] = len(out)
		out = append(out, o)
	}
	for _, o := range base {
		add(o)
	}
	for _, o := range opts {
		add(o)
	}
	kept := out[:0]
	for _, o := range out {
		if s, ok := o.GetOptionValue().Value.(string); ok && s == "" {
			continue
		}
		kept = append(kept, o)
	}
	return kept
}
