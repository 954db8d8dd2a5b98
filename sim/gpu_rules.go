package main

// Power-on rules for vGPUs and Dynamic DirectPath I/O devices, and the
// ledger of what powered-on VMs hold.
//
// vGPU (VirtualPCIPassthrough with VmiopBackingInfo): at power-on each vGPU
// of the VM takes a slot on a GPU of the host that is in shared direct mode
// and of the profile's model. A physical GPU holds vGPUs of one profile at
// a time, as many as its frame buffer allows (a 16 GB P100 holds four
// grid_p100-4q), and the vGPUs of one VM go to different GPUs. Among the
// GPUs with room the host's assignment policy picks: "performance" the
// least loaded, "consolidation" the most loaded (ties: lowest PCI id).
// The GPUs' config.graphicsInfo[].vm list the VMs using them.
//
// Dynamic DirectPath I/O (VirtualPCIPassthroughDynamicBackingInfo): at
// power-on each such device is given a free passthrough-enabled PCI device
// of the host matching one of its allowedDevice entries (vendor and device
// id; sub ids when set) and, when the backing has one, its customLabel
// (matched against the host's config.assignableHardwareConfig attribute
// "customLabel" of that PCI id); a backing without a label takes any. The id is recorded in the backing's
// assignedId and in host.config.assignableHardwareBinding while the VM
// runs; a device so held is in use for every other VM, as a static
// DirectPath device is.
//
// Both are released when the VM leaves the powered-on state (power off,
// suspend, reset to off), whatever method changed it (the guest watcher,
// guest.go, calls releaseDevices).

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// vgpuSlot is one vGPU of a powered-on VM on a physical GPU.
type vgpuSlot struct {
	vm      types.ManagedObjectReference
	vmName  string
	profile string
	// A MIG-backed vGPU's GPU instance (gpu_mig.go): its first memory
	// slice, memory slices and compute slices; zero for time-sliced vGPUs.
	start, memSlices, slices int
}

// dynHold is a PCI device a powered-on VM's Dynamic DirectPath device holds.
type dynHold struct {
	host types.ManagedObjectReference
	key  int32 // the VM's device
	id   string
}

// gpuLedger records the vGPU slots and Dynamic DirectPath devices held.
type gpuLedger struct {
	mu      sync.Mutex
	vgpus   map[string]map[string][]vgpuSlot // host moref value -> GPU id (lower case) -> slots
	dynamic map[string][]dynHold             // VM moref value -> held devices
}

func newGPULedger() *gpuLedger {
	return &gpuLedger{vgpus: map[string]map[string][]vgpuSlot{}, dynamic: map[string][]dynHold{}}
}

// deviceClaim is what a VM will hold once powered on.
type deviceClaim struct {
	host    *simulator.HostSystem
	vgpus   []string   // GPU id per vGPU device, in device order
	slots   []vgpuSlot // the vGPU devices' slots
	dynamic []dynHold  // the Dynamic DirectPath devices' assignments
}

// slots returns a copy of the slots on host's GPUs.
func (g *gpuLedger) slots(host types.ManagedObjectReference) map[string][]vgpuSlot {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string][]vgpuSlot{}
	for id, s := range g.vgpus[host.Value] {
		out[id] = append([]vgpuSlot(nil), s...)
	}
	return out
}

// dynamicDevice is the Dynamic DirectPath backing of d, or nil.
func dynamicDevice(d types.BaseVirtualDevice) *types.VirtualPCIPassthroughDynamicBackingInfo {
	if p, ok := d.(*types.VirtualPCIPassthrough); ok {
		b, _ := p.Backing.(*types.VirtualPCIPassthroughDynamicBackingInfo)
		return b
	}
	return nil
}

// placeVGPUs chooses a GPU for each vGPU of vm on host, or returns the
// fault refusing the power-on.
func placeVGPUs(vm *simulator.VirtualMachine, host *simulator.HostSystem, held map[string][]vgpuSlot) ([]string, []vgpuSlot, types.BaseMethodFault) {
	var gpus []string
	var slots []vgpuSlot
	mine := map[string]bool{}
	for _, d := range vm.Config.Hardware.Device {
		profile := vgpuProfile(d)
		if profile == "" {
			continue
		}
		model, size := profileModel(profile)
		migModel, mig := migProfileOf(profile)
		if mig != nil {
			model = migModel
		}
		var room []types.HostGraphicsInfo
		var why []string
		starts := map[string]int{}
		for _, g := range hostGraphics(host) {
			if g.GraphicsType != graphicsSharedDirect || model == nil || modelNamed(g.DeviceName) != model {
				continue
			}
			id := strings.ToLower(g.PciId)
			onGPU := held[id]
			gpuMIG := migMode(host.Self, g.PciId)
			switch {
			case mine[id]:
				why = append(why, fmt.Sprintf("GPU %s already holds another vGPU of this VM", g.PciId))
			case mig != nil && !gpuMIG:
				why = append(why, fmt.Sprintf("GPU %s (%s) is not in MIG mode: it serves time-sliced vGPUs only", g.PciId, g.DeviceName))
			case mig == nil && gpuMIG:
				why = append(why, fmt.Sprintf("GPU %s (%s) is in MIG mode: it serves MIG-backed vGPUs only", g.PciId, g.DeviceName))
			case mig != nil:
				start := migPlacement(mig, onGPU)
				if start < 0 {
					why = append(why, fmt.Sprintf("GPU %s (%s, MIG) has no free GPU instance for it: it holds %s "+
						"(a %d-slice instance starts at memory slice %s, and the GPU has %d compute slices)",
						g.PciId, g.DeviceName, migHeld(onGPU), mig.slices, startsText(mig), migComputeSlices))
					continue
				}
				starts[id] = start
				room = append(room, g)
			case len(onGPU) > 0 && onGPU[0].profile != profile:
				why = append(why, fmt.Sprintf("GPU %s (%s) runs %s vGPUs (VMs %s); a physical GPU holds vGPUs of one profile at a time",
					g.PciId, g.DeviceName, onGPU[0].profile, slotVMs(onGPU)))
			case len(onGPU) >= int(g.MemorySizeInKB/1024/size):
				why = append(why, fmt.Sprintf("GPU %s (%s, %d GB) holds %d of %d %s vGPUs (VMs %s)",
					g.PciId, g.DeviceName, g.MemorySizeInKB/1024/1024, len(onGPU), g.MemorySizeInKB/1024/size, profile, slotVMs(onGPU)))
			default:
				room = append(room, g)
			}
		}
		if len(room) == 0 {
			if len(why) == 0 {
				why = append(why, "no GPU of the host is in shared direct mode for it")
			}
			return nil, nil, powerOnFault("vgpuNoRoom", fmt.Sprintf(
				"Could not initialize plugin for vGPU '%s' of VM %s on host %s: %s.", profile, vm.Name, host.Name, strings.Join(why, "; ")))
		}
		pick := pickGPU(room, held, assignmentPolicy(host))
		id := strings.ToLower(pick.PciId)
		slot := vgpuSlot{vm: vm.Self, vmName: vm.Name, profile: profile}
		if mig != nil {
			slot.start, slot.memSlices, slot.slices = starts[id], mig.memSlices, mig.slices
		}
		mine[id] = true
		held[id] = append(held[id], slot)
		gpus = append(gpus, id)
		slots = append(slots, slot)
	}
	return gpus, slots, nil
}

// pickGPU chooses among GPUs with room: the least loaded ("performance") or
// the most loaded ("consolidation"), then the lowest PCI id.
func pickGPU(room []types.HostGraphicsInfo, held map[string][]vgpuSlot, policy string) types.HostGraphicsInfo {
	sort.SliceStable(room, func(i, j int) bool {
		a, b := len(held[strings.ToLower(room[i].PciId)]), len(held[strings.ToLower(room[j].PciId)])
		if a != b {
			if policy == policyConsolidation {
				return a > b
			}
			return a < b
		}
		return room[i].PciId < room[j].PciId
	})
	return room[0]
}

func slotVMs(slots []vgpuSlot) string {
	var names []string
	for _, s := range slots {
		names = append(names, s.vmName)
	}
	return strings.Join(names, ", ")
}

// pci16 compares PCI ids however the API carries them (int16, int32).
func pci16(v int64) uint16 { return uint16(v) }

// allowedMatch tells whether host PCI device dev is one of allowed.
func allowedMatch(dev types.HostPciDevice, allowed []types.VirtualPCIPassthroughAllowedDevice) bool {
	for _, a := range allowed {
		if pci16(int64(a.VendorId)) != pci16(int64(dev.VendorId)) || pci16(int64(a.DeviceId)) != pci16(int64(dev.DeviceId)) {
			continue
		}
		if a.SubVendorId != 0 && pci16(int64(a.SubVendorId)) != pci16(int64(dev.SubVendorId)) {
			continue
		}
		if a.SubDeviceId != 0 && pci16(int64(a.SubDeviceId)) != pci16(int64(dev.SubDeviceId)) {
			continue
		}
		return true
	}
	return false
}

// hardwareLabel is the custom label host gives PCI device id ("" if none).
func hardwareLabel(host *simulator.HostSystem, id string) string {
	if host.Config == nil || host.Config.AssignableHardwareConfig == nil {
		return ""
	}
	for _, o := range host.Config.AssignableHardwareConfig.AttributeOverride {
		if strings.EqualFold(o.InstanceId, id) && o.Name == "customLabel" {
			return fmt.Sprint(o.Value)
		}
	}
	return ""
}

// assignDynamic chooses a free matching device for each Dynamic DirectPath
// device of vm on host, or returns the fault refusing the power-on.
func assignDynamic(vm *simulator.VirtualMachine, host *simulator.HostSystem) ([]dynHold, types.BaseMethodFault) {
	var holds []dynHold
	taken := map[string]bool{}
	for _, d := range vm.Config.Hardware.Device {
		b := dynamicDevice(d)
		if b == nil {
			continue
		}
		var busy []string
		chosen := ""
		for _, bi := range host.Config.PciPassthruInfo {
			p, ok := bi.(*types.HostPciPassthruInfo)
			if !ok || !p.PassthruEnabled || taken[strings.ToLower(p.Id)] {
				continue
			}
			dev, ok := hostPciDevice(host, p.Id)
			// "customLabel: an optional label. If set, the device must also have the same
			// customLabel attribute set" (API reference): without one, any label matches.
			if !ok || !allowedMatch(dev, b.AllowedDevice) || (b.CustomLabel != "" && hardwareLabel(host, p.Id) != b.CustomLabel) {
				continue
			}
			if holder := passthroughHolder(host.Self, p.Id, &vm.Self); holder != "" {
				busy = append(busy, p.Id+" (VM "+holder+")")
				continue
			}
			chosen = p.Id
			break
		}
		if chosen == "" {
			what := "no passthrough-enabled device of the host matches it"
			if len(busy) != 0 {
				what = "every matching device is in use: " + strings.Join(busy, ", ")
			}
			return nil, powerOnFault("dynamicNoDevice", fmt.Sprintf(
				"Dynamic DirectPath device %s of VM %s (allowed %s%s) cannot be assigned on host %s: %s.",
				deviceLabel(d), vm.Name, allowedText(b.AllowedDevice), labelText(b.CustomLabel), host.Name, what))
		}
		taken[strings.ToLower(chosen)] = true
		holds = append(holds, dynHold{host: host.Self, key: d.GetVirtualDevice().Key, id: chosen})
	}
	return holds, nil
}

func allowedText(allowed []types.VirtualPCIPassthroughAllowedDevice) string {
	var parts []string
	for _, a := range allowed {
		parts = append(parts, fmt.Sprintf("%04x:%04x", pci16(int64(a.VendorId)), pci16(int64(a.DeviceId))))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func labelText(label string) string {
	if label == "" {
		return ""
	}
	return ", label " + label
}

// claimDevices returns what vm (locked by the caller, rulesMu held) will
// hold on host once powered on, or the fault refusing the power-on.
func (l *Lab) claimDevices(vm *simulator.VirtualMachine, host *simulator.HostSystem) (*deviceClaim, types.BaseMethodFault) {
	gpus, slots, fault := placeVGPUs(vm, host, l.gpus.slots(host.Self))
	if fault != nil {
		return nil, fault
	}
	dyn, fault := assignDynamic(vm, host)
	if fault != nil {
		return nil, fault
	}
	if len(gpus) == 0 && len(dyn) == 0 {
		return nil, nil
	}
	return &deviceClaim{host: host, vgpus: gpus, slots: slots, dynamic: dyn}, nil
}
