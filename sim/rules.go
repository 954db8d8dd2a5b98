package main

// The lab's vSphere rules (SPEC section 5), checked before the actions they
// guard. The hooks (hooks.go, rules_multi.go) call these with l.rulesMu
// held, so a check and the action it allows are atomic with respect to
// other rule-checked actions (e.g. two VMs claiming the same passthrough
// device).
//
// Power-on (PowerOnVM_Task, PowerOnMultiVM_Task, CloneVM_Task with
// powerOn), refused with GenericVmConfigFault:
//   - a VM with a DirectPath, vGPU or SR-IOV device needs all guest memory
//     reserved (memoryReservationLockedToMax, or reservation >= memoryMB);
//   - a DirectPath device must be passthrough-enabled on the VM's host and
//     not in a powered-on VM on that host (ids compare in any case);
//   - a vGPU profile must be offered by the host;
//   - an SR-IOV adapter's PF must have SR-IOV enabled on the host, with a
//     virtual function left (adapters of powered-on VMs hold one each);
//   - a PVRDMA adapter needs a prepared host (pvrdma_rules.go);
//   - each vGPU needs a slot on a GPU of its model, and each Dynamic
//     DirectPath device a free matching device (gpu_rules.go);
//   - 1 GB pages (sched.mem.lpage.enable1GPage) need all guest memory
//     reserved (vm_options.go);
//   - the VM's memory reservation must fit in its host's memory beside the
//     powered-on VMs' (InsufficientHostMemoryCapacityFault, host_numa.go);
//   - a VM of an enabled DRS VM-VM rule must not break it (RuleViolation,
//     drs_rules.go).
//
// Reconfigure and clone (ReconfigVM_Task, CloneVM_Task's spec.config),
// refused with InvalidDeviceSpec (DeviceHotPlugNotSupported for the first):
//   - DirectPath, vGPU and SR-IOV devices are not hot-pluggable: no adding,
//     editing or removing them while the VM is powered on;
//   - a vGPU profile the host does not offer;
//   - an SR-IOV adapter whose PF is not an SR-IOV PF with SR-IOV enabled on
//     the host, or without a free virtual function (adapters of powered-on
//     VMs plus those of the VM being configured);
//   - a powered-on VM with such devices keeps all memory reserved
//     (GenericVmConfigFault).
//   - a PVRDMA adapter on a VM below hardware version 13
//     (DeviceUnsupportedForVmVersion, pvrdma_rules.go).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// memoryFault is vSphere's refusal of a passthrough VM without full memory
// reservation (the VMX's text), with what the lab knows about why.
func memoryFault(vmName string, mem memorySettings, device string) types.BaseMethodFault {
	return powerOnFault("memoryReservation", fmt.Sprintf(
		"Invalid memory setting: memory reservation (sched.mem.min) should be equal to memsize(%d). "+
			"VM %s has %s, which needs all guest memory reserved (memoryReservationLockedToMax, "+
			"or a reservation of %d MB); it has %d MB reserved.",
		mem.sizeMB, vmName, device, mem.sizeMB, mem.reservation))
}

// checkPowerOn returns the fault that refuses powering on vm, or what vm
// will hold once on (vGPU slots, Dynamic DirectPath devices: gpu_rules.go).
// vm is locked by the caller.
func (l *Lab) checkPowerOn(vm *simulator.VirtualMachine, req *types.PowerOnVM_Task) (types.BaseMethodFault, *deviceClaim) {
	if vm.Config == nil || vm.Config.Template || vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		return nil, nil // the stock power-on refuses these itself
	}
	host := vmHost(vm)
	if host == nil {
		return nil, nil
	}
	if fault := hostAdmitsFault(host, "power on VM "+vm.Name); fault != nil { // host_state.go
		return fault, nil
	}
	if fault := tuningPowerOnFault(vm, host); fault != nil { // rules_tuning.go
		return fault, nil
	}
	if fault := l.checkDevicesOn(vm, host); fault != nil {
		return fault, nil
	}
	if fault := multiVGPUFault(vm.Name, vmVGPUProfiles(vm)); fault != nil { // gpu_catalog.go
		return fault, nil
	}
	if fault := checkPVRDMA(vm, host); fault != nil { // pvrdma_rules.go
		return fault, nil
	}
	if fault := checkVMOptions(vm); fault != nil { // vm_options.go
		return fault, nil
	}
	if fault := memoryAdmission(vm, host); fault != nil { // host_numa.go
		return fault, nil
	}
	if fault := l.checkVMRules(vm, host); fault != nil { // drs_rules.go
		return fault, nil
	}
	claim, fault := l.claimDevices(vm, host)
	return fault, claim
}

// checkDevicesOn checks vm's memory reservation, DirectPath, vGPU and
// SR-IOV devices against host.
func (l *Lab) checkDevicesOn(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.BaseMethodFault {
	devs := vm.Config.Hardware.Device
	if what := pinnedDevice(devs); what != "" {
		if mem := vmMemory(vm); !mem.fullyReserved() {
			return memoryFault(vm.Name, mem, what)
		}
	}
	for _, d := range devs {
		switch deviceKind(d) {
		case devDirectPath:
			id := passthroughId(d)
			info := hostPassthru(host, id)
			if info == nil {
				return powerOnFault("passthroughUnknown", fmt.Sprintf(
					"Device %s of VM %s is not a PCI device of host %s.", id, vm.Name, host.Name))
			}
			if !info.GetHostPciPassthruInfo().PassthruEnabled {
				return powerOnFault("passthroughDisabled", fmt.Sprintf(
					"Device %s of VM %s is not enabled for passthrough on host %s.", id, vm.Name, host.Name))
			}
			if fault := systemIdFault(vm, host, d); fault != nil { // passthrough_systemid.go
				return fault
			}
			if holder := passthroughHolder(host.Self, id, &vm.Self); holder != "" {
				return powerOnFault("passthroughInUse", fmt.Sprintf(
					"Device %s is already in use by VM %s on host %s; VM %s cannot power on with it.",
					id, holder, host.Name, vm.Name))
			}
		case devVGPU:
			if p := vgpuProfile(d); !hostOffersVGPU(host, p) {
				return powerOnFault("vgpuNotOffered", fmt.Sprintf(
					"vGPU profile %s of VM %s is not supported by host %s (it offers: %s).",
					p, vm.Name, host.Name, hostVGPUs(host)))
			}
		}
	}
	counts := sriovCounts(devs)
	pfs := make([]string, 0, len(counts))
	for pf := range counts {
		pfs = append(pfs, pf)
	}
	sort.Strings(pfs)
	for _, pf := range pfs {
		if fault := sriovFault(host, pf, counts[pf], &vm.Self, vm.Name, powerOnFault); fault != nil {
			return fault
		}
	}
	return nil
}

// sriovFault checks that PF pf of host has SR-IOV enabled and n free
// virtual functions beyond those held by powered-on VMs other than except;
// mk makes the fault from a key and a message.
func sriovFault(host *simulator.HostSystem, pf string, n int, except *types.ManagedObjectReference, vmName string,
	mk func(key, msg string) types.BaseMethodFault) types.BaseMethodFault {
	info := hostSriov(host, pf)
	if info == nil {
		return mk("sriovNoPF", fmt.Sprintf(
			"SR-IOV adapter of VM %s: %s is not an SR-IOV physical function of host %s (SR-IOV enabled there: %s).",
			vmName, pf, host.Name, hostSriovPFs(host)))
	}
	if !info.SriovEnabled || !info.SriovActive {
		state := "enabled"
		if info.SriovEnabled {
			state = "active (enabled, waiting for the host's reboot)"
		}
		return mk("sriovDisabled", fmt.Sprintf(
			"SR-IOV adapter of VM %s: physical function %s does not have SR-IOV %s on host %s (SR-IOV active there: %s).",
			vmName, info.Id, state, host.Name, hostSriovPFs(host)))
	}
	used, holders := vfsInUse(host.Self, pf, except)
	if total := int(info.NumVirtualFunction); used+n > total {
		by := ""
		if len(holders) != 0 {
			by = " by powered-on VMs " + strings.Join(holders, ", ")
		}
		return mk("sriovNoFreeVF", fmt.Sprintf(
			"No free virtual function on physical function %s of host %s for VM %s: %d of %d in use%s, VM %s needs %d.",
			info.Id, host.Name, vmName, used, total, by, vmName, n))
	}
	return nil
}

// checkConfigSpec returns the fault that refuses applying spec, or nil.
// base is the VM whose configuration spec modifies; target is the VM being
// reconfigured (locked by the caller), or nil when spec is the config of a
// clone of base that does not exist yet (on base's host).
func (l *Lab) checkConfigSpec(base, target *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	return l.checkSpecOn(vmHost(base), base, target, spec)
}

// checkCloneSpec returns the fault that refuses cloning src with spec, or
// nil; the clone's host is spec.location.host, else src's.
func (l *Lab) checkCloneSpec(src *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec) types.BaseMethodFault {
	if spec.Config == nil {
		return nil
	}
	host := vmHost(src)
	if ref := spec.Location.Host; ref != nil {
		if h, ok := simulator.Map.Get(*ref).(*simulator.HostSystem); ok {
			host = h
		}
	}
	return l.checkSpecOn(host, src, nil, spec.Config)
}

// checkSpecOn checks spec applied to base's configuration on host.
func (l *Lab) checkSpecOn(host *simulator.HostSystem, base, target *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	if host == nil || base.Config == nil {
		return nil
	}
	name := spec.Name
	var except *types.ManagedObjectReference
	running := false
	if target != nil {
		name = target.Name
		except = &target.Self
		running = target.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	}
	if name == "" {
		name = "(clone of " + base.Name + ")"
	}

	type pfChange struct {
		pf    string // lower case
		index int    // the first change adding or editing an adapter on pf
	}
	var pfs []pfChange
	version := base.Config.Version // spec.version is for new VMs only (vm_hardware_version.go)
	for i, bc := range spec.DeviceChange {
		s := bc.GetVirtualDeviceConfigSpec()
		if s.Device == nil {
			continue
		}
		if s.Operation != types.VirtualDeviceConfigSpecOperationRemove {
			if fault := pvrdmaVersionFault(i, s.Device, version, name); fault != nil { // pvrdma_rules.go
				return fault
			}
			if fault := dynamicVersionFault(i, s.Device, version, name); fault != nil { // vm_hardware_version.go
				return fault
			}
		}
		kind := deviceKind(s.Device)
		if kind == devOther {
			continue
		}
		if running {
			return hotPlugFault(i, fmt.Sprintf(
				"%s (%s) cannot be hot-plugged: VM %s is powered on; power it off to %s the device.",
				deviceLabel(s.Device), kind, name, s.Operation))
		}
		if s.Operation == types.VirtualDeviceConfigSpecOperationRemove {
			continue
		}
		switch kind {
		case devVGPU:
			if p := vgpuProfile(s.Device); !hostOffersVGPU(host, p) {
				return deviceSpecFault(i, "virtualDeviceSpec.device.backing.vgpu", "vgpuNotOffered", fmt.Sprintf(
					"vGPU profile %s is not supported by host %s of VM %s (it offers: %s).",
					p, host.Name, name, hostVGPUs(host)))
			}
		case devSriov:
			pf := sriovPF(s.Device)
			if pf == "" {
				return deviceSpecFault(i, "virtualDeviceSpec.device.sriovBacking.physicalFunctionBacking", "sriovNoBacking",
					fmt.Sprintf("SR-IOV adapter of VM %s has no physical function backing.", name))
			}
			seen := false
			for _, c := range pfs {
				seen = seen || c.pf == strings.ToLower(pf)
			}
			if !seen {
				pfs = append(pfs, pfChange{strings.ToLower(pf), i})
			}
		}
	}

	devs := applyDeviceChanges(base.Config.Hardware.Device, spec.DeviceChange)
	counts := sriovCounts(devs)
	for _, c := range pfs {
		idx := c.index
		mk := func(key, msg string) types.BaseMethodFault {
			return deviceSpecFault(idx, "virtualDeviceSpec.device.sriovBacking.physicalFunctionBacking.id", key, msg)
		}
		if fault := sriovFault(host, c.pf, counts[c.pf], except, name, mk); fault != nil {
			return fault
		}
	}

	if running {
		if what := pinnedDevice(devs); what != "" {
			if mem := vmMemory(target).after(spec); !mem.fullyReserved() {
				return memoryFault(name, mem, what)
			}
		}
	}
	return checkTuning(host, base, target, spec, name) // rules_tuning.go
}
