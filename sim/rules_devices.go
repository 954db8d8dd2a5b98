package main

// What the rules (rules.go) need to know about VMs' devices and hosts'
// passthrough state: which devices a VM has, what a host offers, and which
// powered-on VMs on a host hold a passthrough device or an SR-IOV virtual
// function.
//
// Other VMs are read without their locks (taking them could deadlock with
// a hook that holds its VM and waits for Lab.rulesMu); the rule-checked
// actions themselves are serialized by Lab.rulesMu.

import (
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Kinds of device the rules care about.
const (
	devOther      = ""
	devDirectPath = "PCI passthrough device"
	devDynamic    = "Dynamic DirectPath device"
	devVGPU       = "vGPU"
	devSriov      = "SR-IOV network adapter"
)

// deviceKind classifies a virtual device.
func deviceKind(d types.BaseVirtualDevice) string {
	switch dev := d.(type) {
	case *types.VirtualPCIPassthrough:
		switch dev.Backing.(type) {
		case *types.VirtualPCIPassthroughVmiopBackingInfo:
			return devVGPU
		case *types.VirtualPCIPassthroughDeviceBackingInfo:
			return devDirectPath
		case *types.VirtualPCIPassthroughDynamicBackingInfo:
			return devDynamic
		}
		return devDirectPath
	case *types.VirtualSriovEthernetCard:
		return devSriov
	}
	return devOther
}

// passthroughId is the host PCI id of a DirectPath device ("" if none).
func passthroughId(d types.BaseVirtualDevice) string {
	if p, ok := d.(*types.VirtualPCIPassthrough); ok {
		if b, ok := p.Backing.(*types.VirtualPCIPassthroughDeviceBackingInfo); ok {
			return b.Id
		}
	}
	return ""
}

// heldId is the host PCI id a device holds: a DirectPath device's id, or
// the assignedId of a Dynamic DirectPath device (set while its VM runs).
func heldId(d types.BaseVirtualDevice) string {
	if id := passthroughId(d); id != "" {
		return id
	}
	if b := dynamicDevice(d); b != nil {
		return b.AssignedId
	}
	return ""
}

// vgpuProfile is the vGPU profile of a vGPU device ("" if none).
func vgpuProfile(d types.BaseVirtualDevice) string {
	if p, ok := d.(*types.VirtualPCIPassthrough); ok {
		if b, ok := p.Backing.(*types.VirtualPCIPassthroughVmiopBackingInfo); ok {
			return b.Vgpu
		}
	}
	return ""
}

// sriovPF is the physical function id of an SR-IOV adapter ("" if none).
func sriovPF(d types.BaseVirtualDevice) string {
	if c, ok := d.(*types.VirtualSriovEthernetCard); ok && c.SriovBacking != nil && c.SriovBacking.PhysicalFunctionBacking != nil {
		return c.SriovBacking.PhysicalFunctionBacking.Id
	}
	return ""
}

// deviceLabel names a device in messages: its label, else its kind.
func deviceLabel(d types.BaseVirtualDevice) string {
	if info := d.GetVirtualDevice().DeviceInfo; info != nil {
		if di := info.GetDescription(); di != nil && di.Label != "" {
			return di.Label
		}
	}
	if k := deviceKind(d); k != devOther {
		return k
	}
	return "device"
}

// pinnedDevice returns a description of the first device that needs all
// guest memory reserved (DirectPath, vGPU, SR-IOV), or "".
func pinnedDevice(devs []types.BaseVirtualDevice) string {
	for _, d := range devs {
		switch deviceKind(d) {
		case devDirectPath:
			return "PCI passthrough device " + passthroughId(d)
		case devDynamic:
			return "Dynamic DirectPath device " + deviceLabel(d)
		case devVGPU:
			return "vGPU " + vgpuProfile(d)
		case devSriov:
			return "SR-IOV adapter on " + sriovPF(d)
		}
	}
	return ""
}

// sriovCounts counts a device list's SR-IOV adapters per PF (lower-case id).
func sriovCounts(devs []types.BaseVirtualDevice) map[string]int {
	n := map[string]int{}
	for _, d := range devs {
		if deviceKind(d) == devSriov {
			n[strings.ToLower(sriovPF(d))]++
		}
	}
	return n
}

// memorySettings are the settings that decide whether all guest memory is
// reserved.
type memorySettings struct {
	sizeMB      int64
	lockedToMax bool
	reservation int64 // MB
}

func vmMemory(vm *simulator.VirtualMachine) memorySettings {
	m := memorySettings{sizeMB: int64(vm.Config.Hardware.MemoryMB)}
	if vm.Config.MemoryReservationLockedToMax != nil {
		m.lockedToMax = *vm.Config.MemoryReservationLockedToMax
	}
	if a := vm.Config.MemoryAllocation; a != nil && a.Reservation != nil {
		m.reservation = *a.Reservation
	}
	return m
}

// after returns the settings once spec is applied.
func (m memorySettings) after(spec *types.VirtualMachineConfigSpec) memorySettings {
	if spec.MemoryMB != 0 {
		m.sizeMB = spec.MemoryMB
	}
	if spec.MemoryReservationLockedToMax != nil {
		m.lockedToMax = *spec.MemoryReservationLockedToMax
	}
	if a := spec.MemoryAllocation; a != nil && a.Reservation != nil {
		m.reservation = *a.Reservation
	}
	return m
}

func (m memorySettings) fullyReserved() bool {
	return m.lockedToMax || m.reservation >= m.sizeMB
}

// applyDeviceChanges returns devs with changes applied (add, edit by key,
// remove by key), without touching devs.
func applyDeviceChanges(devs []types.BaseVirtualDevice, changes []types.BaseVirtualDeviceConfigSpec) []types.BaseVirtualDevice {
	out := append([]types.BaseVirtualDevice(nil), devs...)
	indexOf := func(key int32) int {
		for i, d := range out {
			if d.GetVirtualDevice().Key == key {
				return i
			}
		}
		return -1
	}
	for _, c := range changes {
		s := c.GetVirtualDeviceConfigSpec()
		if s.Device == nil {
			continue
		}
		i := indexOf(s.Device.GetVirtualDevice().Key)
		switch s.Operation {
		case types.VirtualDeviceConfigSpecOperationRemove:
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
		case types.VirtualDeviceConfigSpecOperationEdit:
			if i >= 0 {
				out[i] = s.Device
			}
		default: // add
			out = append(out, s.Device)
		}
	}
	return out
}

// vmHost is the HostSystem vm runs on, or nil.
func vmHost(vm *simulator.VirtualMachine) *simulator.HostSystem {
	if vm.Runtime.Host == nil {
		return nil
	}
	h, _ := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	return h
}

// poweredOnVMs returns the powered-on VMs on host other than except.
func poweredOnVMs(host types.ManagedObjectReference, except *types.ManagedObjectReference) []*simulator.VirtualMachine {
	var vms []*simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || vm.Config == nil || vm.Runtime.Host == nil || *vm.Runtime.Host != host {
			continue
		}
		if except != nil && vm.Self == *except {
			continue
		}
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			vms = append(vms, vm)
		}
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	return vms
}

// passthroughHolder returns the name of a powered-on VM on host (other than
// except) that holds PCI device id, as a DirectPath device or through a
// Dynamic DirectPath assignment, or "".
func passthroughHolder(host types.ManagedObjectReference, id string, except *types.ManagedObjectReference) string {
	for _, vm := range poweredOnVMs(host, except) {
		for _, d := range vm.Config.Hardware.Device {
			if p := heldId(d); p != "" && strings.EqualFold(p, id) {
				return vm.Name
			}
		}
	}
	return ""
}

// vfsInUse counts the SR-IOV adapters on PF pf of powered-on VMs on host
// (other than except), and names those VMs.
func vfsInUse(host types.ManagedObjectReference, pf string, except *types.ManagedObjectReference) (int, []string) {
	n := 0
	var names []string
	for _, vm := range poweredOnVMs(host, except) {
		if k := sriovCounts(vm.Config.Hardware.Device)[strings.ToLower(pf)]; k > 0 {
			n += k
			names = append(names, vm.Name)
		}
	}
	return n, names
}

// hostPassthru finds host's passthrough info for PCI id (any case).
func hostPassthru(host *simulator.HostSystem, id string) types.BaseHostPciPassthruInfo {
	if host.Config == nil {
		return nil
	}
	for _, bi := range host.Config.PciPassthruInfo {
		if strings.EqualFold(bi.GetHostPciPassthruInfo().Id, id) {
			return bi
		}
	}
	return nil
}

// hostSriov finds host's SR-IOV info for PF id (any case), or nil when id
// is not an SR-IOV capable physical function of host.
func hostSriov(host *simulator.HostSystem, id string) *types.HostSriovInfo {
	s, _ := hostPassthru(host, id).(*types.HostSriovInfo)
	return s
}

// hostOffersVGPU tells whether profile is among host's vGPU profiles.
func hostOffersVGPU(host *simulator.HostSystem, profile string) bool {
	if host.Config == nil {
		return false
	}
	for _, p := range host.Config.SharedPassthruGpuTypes {
		if p == profile {
			return true
		}
	}
	return false
}

// hostVGPUs lists host's vGPU profiles for messages.
func hostVGPUs(host *simulator.HostSystem) string {
	if host.Config == nil || len(host.Config.SharedPassthruGpuTypes) == 0 {
		return "none"
	}
	return strings.Join(host.Config.SharedPassthruGpuTypes, ", ")
}

// hostSriovPFs lists host's PFs with SR-IOV active (enabled and booted) for messages.
func hostSriovPFs(host *simulator.HostSystem) string {
	var ids []string
	if host.Config != nil {
		for _, bi := range host.Config.PciPassthruInfo {
			if s, ok := bi.(*types.HostSriovInfo); ok && s.SriovEnabled && s.SriovActive {
				ids = append(ids, s.Id)
			}
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
