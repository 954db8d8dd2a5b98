package main

// A VM removed from the inventory (UnregisterVM) and registered again from
// its .vmx (Folder.RegisterVM_Task) comes back as it was, as vCenter reads
// the VM's configuration file: hardware (CPUs, cores per socket, memory,
// devices with their keys, backings and MAC addresses), guest OS, firmware,
// BIOS and instance UUIDs, annotation, extraConfig, resource allocation,
// latency sensitivity, boot options, hardware version. The stock simulator
// registered an empty VM (1 vCPU, 32 MB, no device): Ansible's
// vmware_guest_register_operation gave back a VM without its disk and
// adapters. The lab keeps the configuration of each unregistered VM by its
// .vmx path (its files stay on the datastore, as on vSphere); a .vmx the
// lab never unregistered registers as the stock one does.

import (
	"reflect"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// unregisteredVMs are the configurations of unregistered VMs by .vmx path.
var unregisteredVMs = struct {
	sync.Mutex
	m map[string]*types.VirtualMachineConfigInfo
}{m: map[string]*types.VirtualMachineConfigInfo{}}

// UnregisterVM keeps the VM's configuration, then unregisters it.
func (h *vmHook) UnregisterVM(ctx *simulator.Context, req *types.UnregisterVM) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.UnregisterVMBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	var res soap.HasFault
	withVM(ctx, vm, func() {
		var saved *types.VirtualMachineConfigInfo
		if vm.Config != nil && vm.Config.Files.VmPathName != "" {
			saved = deepCopy(reflect.ValueOf(vm.Config)).Interface().(*types.VirtualMachineConfigInfo)
		}
		res = vm.UnregisterVM(ctx, req)
		if res.Fault() == nil && saved != nil {
			unregisteredVMs.Lock()
			unregisteredVMs.m[saved.Files.VmPathName] = saved
			unregisteredVMs.Unlock()
		}
	})
	return res
}

// RegisterVMTask registers the VM with the stock method, then gives it back
// the configuration it had when it was unregistered.
func (h *netFolderHook) RegisterVMTask(ctx *simulator.Context, req *types.RegisterVM_Task) soap.HasFault {
	f := h.folder(ctx)
	if f == nil {
		return &methods.RegisterVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = f.Self
	var res soap.HasFault
	withLocked(ctx, f, func() { res = f.RegisterVMTask(ctx, req) }) // network_dvs.go
	t, fault := taskOutcome(res)
	if fault != nil || t == nil {
		return res
	}
	ref, ok := t.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return res
	}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return res
	}
	unregisteredVMs.Lock()
	saved := unregisteredVMs.m[req.Path]
	delete(unregisteredVMs.m, req.Path)
	unregisteredVMs.Unlock()
	if saved != nil {
		withVM(ctx, vm, func() { h.lab.restoreConfig(vm, saved, req) })
	}
	return res
}

// restoreConfig gives the registered vm (locked) its saved configuration,
// keeping what the registration decided (name, files, template).
func (l *Lab) restoreConfig(vm *simulator.VirtualMachine, saved *types.VirtualMachineConfigInfo, req *types.RegisterVM_Task) {
	cfg := *saved
	cfg.Name = vm.Config.Name
	cfg.Files = vm.Config.Files
	cfg.Template = req.AsTemplate
	var nets []types.ManagedObjectReference
	nics, disks := int32(0), int32(0)
	keep := map[int32]string{}
	for _, d := range cfg.Hardware.Device {
		switch dev := d.(type) {
		case types.BaseVirtualEthernetCard:
			c := dev.GetVirtualEthernetCard()
			nics++
			keep[c.Key] = c.MacAddress
			if n := adapterNetworkRef(c); n != nil && !refsHas(nets, *n) {
				nets = append(nets, *n)
			}
		case *types.VirtualDisk:
			disks++
		}
	}
	summary := vm.Summary.Config
	summary.NumCpu, summary.MemorySizeMB = cfg.Hardware.NumCPU, cfg.Hardware.MemoryMB
	summary.NumEthernetCards, summary.NumVirtualDisks = nics, disks
	summary.GuestId, summary.GuestFullName = cfg.GuestId, cfg.GuestFullName
	summary.Uuid, summary.InstanceUuid = cfg.Uuid, cfg.InstanceUuid
	summary.Annotation, summary.Template = cfg.Annotation, cfg.Template
	summary.HwVersion = cfg.Version
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config", Val: &cfg},
		{Name: "summary.config", Val: summary},
		{Name: "network", Val: nets},
	})
	vm.Guest.Net = nil
	l.settleAdapters(vm, keep) // nics.go: the adapters keep their MAC addresses; guest.net
}

// adapterNetworkRef is the network an adapter's backing names.
func adapterNetworkRef(c *types.VirtualEthernetCard) *types.ManagedObjectReference {
	switch b := c.Backing.(type) {
	case *types.VirtualEthernetCardNetworkBackingInfo:
		return b.Network
	case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
		return &types.ManagedObjectReference{Type: "DistributedVirtualPortgroup", Value: b.Port.PortgroupKey}
	}
	return nil
}
