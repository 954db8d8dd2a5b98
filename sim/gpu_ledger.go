package main

// The GPU ledger's effects on the inventory (gpu_rules.go decides): what a
// powered-on VM holds is recorded at power-on and shown in its host's
// config.graphicsInfo[].vm and config.assignableHardwareBinding and in the
// VM's Dynamic DirectPath backings (assignedId); all of it is released when
// the VM leaves the powered-on state.

import (
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// commitClaim records what vm (locked by the caller) now holds.
func (l *Lab) commitClaim(vm *simulator.VirtualMachine, c *deviceClaim) {
	if c == nil {
		return
	}
	l.gpus.mu.Lock()
	byGPU := l.gpus.vgpus[c.host.Self.Value]
	if byGPU == nil {
		byGPU = map[string][]vgpuSlot{}
		l.gpus.vgpus[c.host.Self.Value] = byGPU
	}
	for i, id := range c.vgpus {
		byGPU[id] = append(byGPU[id], c.slots[i])
	}
	if len(c.dynamic) != 0 {
		l.gpus.dynamic[vm.Self.Value] = append([]dynHold(nil), c.dynamic...)
	}
	l.gpus.mu.Unlock()

	if len(c.dynamic) != 0 {
		setAssignedIds(vm, c.dynamic)
	}
	l.syncHostDevices(c.host)
}

// releaseDevices frees what VM ref held (it is no longer powered on; the
// VM is locked by the caller).
func (l *Lab) releaseDevices(ref types.ManagedObjectReference) {
	hosts := map[string]bool{}
	l.gpus.mu.Lock()
	for host, byGPU := range l.gpus.vgpus {
		for id, slots := range byGPU {
			var kept []vgpuSlot
			for _, s := range slots {
				if s.vm != ref {
					kept = append(kept, s)
				}
			}
			if len(kept) != len(slots) {
				hosts[host] = true
				byGPU[id] = kept
			}
		}
	}
	dyn := l.gpus.dynamic[ref.Value]
	delete(l.gpus.dynamic, ref.Value)
	l.gpus.mu.Unlock()

	for _, d := range dyn {
		hosts[d.host.Value] = true
	}
	if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok && len(dyn) != 0 {
		setAssignedIds(vm, nil)
	}
	for value := range hosts {
		if host, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "HostSystem", Value: value}).(*simulator.HostSystem); ok {
			l.syncHostDevices(host)
		}
	}
}

// setAssignedIds sets the assignedId of vm's Dynamic DirectPath devices
// from holds (cleared for devices without one).
func setAssignedIds(vm *simulator.VirtualMachine, holds []dynHold) {
	devs := append([]types.BaseVirtualDevice(nil), vm.Config.Hardware.Device...)
	changed := false
	for i, d := range devs {
		b := dynamicDevice(d)
		if b == nil {
			continue
		}
		id := ""
		for _, h := range holds {
			if h.key == d.GetVirtualDevice().Key {
				id = h.id
			}
		}
		if b.AssignedId == id {
			continue
		}
		p := *d.(*types.VirtualPCIPassthrough)
		nb := *b
		nb.AssignedId = id
		p.Backing = &nb
		devs[i] = &p
		changed = true
	}
	if changed {
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: devs}})
	}
}

// syncHostDevices shows the ledger in host's graphicsInfo[].vm and
// assignableHardwareBinding.
func (l *Lab) syncHostDevices(host *simulator.HostSystem) {
	held := l.gpus.slots(host.Self)
	l.gpus.mu.Lock()
	var bindings []types.HostAssignableHardwareBinding
	for vm, holds := range l.gpus.dynamic {
		for _, h := range holds {
			if h.host == host.Self {
				bindings = append(bindings, types.HostAssignableHardwareBinding{InstanceId: h.id,
					Vm: types.ManagedObjectReference{Type: "VirtualMachine", Value: vm}})
			}
		}
	}
	l.gpus.mu.Unlock()
	sort.Slice(bindings, func(i, j int) bool { return bindings[i].InstanceId < bindings[j].InstanceId })
	simulator.Map.WithLock(host, func() {
		info := hostGraphics(host)
		for i := range info {
			var vms []types.ManagedObjectReference
			for _, s := range held[strings.ToLower(info[i].PciId)] {
				vms = refsWith(vms, s.vm)
			}
			info[i].Vm = vms
		}
		simulator.Map.Update(host, []types.PropertyChange{
			{Name: "config.graphicsInfo", Val: info},
			{Name: "config.assignableHardwareBinding", Val: bindings},
		})
	})
	if m := assignableHardwareManager(host); m != nil { // hardware_labels.go: the manager shows them too
		simulator.Map.WithLock(m, func() {
			simulator.Map.Update(m, []types.PropertyChange{{Name: "binding", Val: bindings}})
		})
	}
}

// gpuInUse names the powered-on VMs using GPU id of host (vGPUs or
// passthrough), for refusing a mode switch.
func (l *Lab) gpuInUse(host *simulator.HostSystem, id string) string {
	var names []string
	for _, s := range l.gpus.slots(host.Self)[strings.ToLower(id)] {
		names = append(names, s.vmName)
	}
	if holder := passthroughHolder(host.Self, id, nil); holder != "" {
		names = append(names, holder)
	}
	return strings.Join(names, ", ")
}
