package main

// Adapters on distributed ports need only the VM's own host to be a member
// of the switch.
//
// The stock simulator refuses an adapter with a DistributedVirtualPort
// backing (InvalidArgument spec.deviceChange.device.port.switchUuid) unless
// EVERY host of the VM's cluster is a member of the switch; vSphere needs
// only the VM's host. The check is deep inside the stock device
// configuration, so the lab checks the right host first and then lets the
// stock code run with the switch's member list widened to every host,
// restoring it afterwards. The switch stays locked meanwhile, so nobody
// (the property collector included) sees the widened list.
//
// The host checked: ReconfigVM_Task — the VM's host; CloneVM_Task — the
// destination (spec.location.host), else the source's host, for the
// adapters of spec.config / spec.location device changes and those the
// clone copies from its source.
//
// The VM's hook (vmHook, hooks.go) runs its CloneVM_Task and
// ReconfigVM_Task through cloneWithDVSPorts and reconfigWithDVSPorts.

import (
	"sort"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// dvsByUUID finds the distributed switch with uuid.
func dvsByUUID(uuid string) *simulator.DistributedVirtualSwitch {
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		if s, ok := e.(*simulator.DistributedVirtualSwitch); ok && s.Uuid == uuid {
			return s
		}
	}
	return nil
}

// dvsPort returns the DVS port backing of an Ethernet adapter, or nil.
func dvsPort(d types.BaseVirtualDevice) *types.VirtualEthernetCardDistributedVirtualPortBackingInfo {
	card, ok := d.(types.BaseVirtualEthernetCard)
	if !ok {
		return nil
	}
	b, _ := card.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo)
	return b
}

// dvsSwitchesFor returns the switches of the DVS-port adapters devs, or
// the fault refusing them on host: the switch must exist and host must be
// a member.
func dvsSwitchesFor(host *types.ManagedObjectReference, devs []types.BaseVirtualDevice) ([]*simulator.DistributedVirtualSwitch, types.BaseMethodFault, string) {
	var out []*simulator.DistributedVirtualSwitch
	seen := map[string]bool{}
	for _, d := range devs {
		b := dvsPort(d)
		if b == nil || seen[b.Port.SwitchUuid] {
			continue
		}
		seen[b.Port.SwitchUuid] = true
		s := dvsByUUID(b.Port.SwitchUuid)
		if s == nil {
			return nil, &types.NotFound{}, "no distributed switch has uuid " + b.Port.SwitchUuid
		}
		if host != nil && !refsHas(s.Summary.HostMember, *host) {
			name := host.Value
			if h, ok := simulator.Map.Get(*host).(*simulator.HostSystem); ok {
				name = h.Name
			}
			return nil, &types.InvalidArgument{InvalidProperty: "spec.deviceChange.device.port.switchUuid"},
				"host " + name + " is not a member of distributed switch " + s.Name
		}
		out = append(out, s)
	}
	return out, nil, ""
}

// changedDevices are the devices added or edited by changes.
func changedDevices(changes []types.BaseVirtualDeviceConfigSpec) []types.BaseVirtualDevice {
	var out []types.BaseVirtualDevice
	for _, c := range changes {
		s := c.GetVirtualDeviceConfigSpec()
		if s.Device != nil && s.Operation != types.VirtualDeviceConfigSpecOperationRemove {
			out = append(out, s.Device)
		}
	}
	return out
}

// withAllHostsMembers runs f with every host of the inventory in the member
// lists of switches, each locked meanwhile, then restores the lists.
func withAllHostsMembers(switches []*simulator.DistributedVirtualSwitch, f func()) {
	if len(switches) == 0 {
		f()
		return
	}
	sort.Slice(switches, func(i, j int) bool { return switches[i].Self.Value < switches[j].Self.Value })
	s := switches[0]
	simulator.Map.WithLock(s, func() {
		saved := s.Summary.HostMember
		widened := append([]types.ManagedObjectReference(nil), saved...)
		for _, e := range simulator.Map.All("HostSystem") {
			widened = refsWith(widened, e.Reference())
		}
		s.Summary.HostMember = widened
		defer func() { s.Summary.HostMember = saved }()
		withAllHostsMembers(switches[1:], f)
	})
}

// reconfigWithDVSPorts runs reconfig (the rules and the stock method) on
// vm if the VM's host is a member of the switches of its new DVS ports.
func reconfigWithDVSPorts(vm *simulator.VirtualMachine, req *types.ReconfigVM_Task, reconfig func() soap.HasFault) soap.HasFault {
	touched := changedDevices(req.Spec.DeviceChange)
	switches, fault, msg := dvsSwitchesFor(vm.Runtime.Host, touched)
	if fault != nil {
		return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{
			Returnval: failedNetTask(vm, "reconfigVm", fault, "VM "+vm.Name+": "+msg)}}
	}
	portsMu.Lock() // network_ports.go
	defer portsMu.Unlock()
	var devs []types.BaseVirtualDevice
	if vm.Config != nil {
		devs = applyDeviceChanges(vm.Config.Hardware.Device, req.Spec.DeviceChange)
	}
	if fault := claimPorts(touched, devs, &vm.Self, vm.Name); fault != nil {
		return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: failedTask(vm, "reconfigVm", fault)}}
	}
	var res soap.HasFault
	withAllHostsMembers(switches, func() { res = reconfig() })
	return res
}

// cloneWithDVSPorts runs clone (the rules and the stock method) of vm if
// the clone's host is a member of the switches of its DVS ports.
func cloneWithDVSPorts(vm *simulator.VirtualMachine, req *types.CloneVM_Task, clone func() soap.HasFault) soap.HasFault {
	host := vm.Runtime.Host
	if req.Spec.Location.Host != nil {
		host = req.Spec.Location.Host
	}
	var devs []types.BaseVirtualDevice
	if vm.Config != nil {
		devs = append(devs, vm.Config.Hardware.Device...)
	}
	devs = append(devs, changedDevices(req.Spec.Location.DeviceChange)...)
	if req.Spec.Config != nil {
		devs = append(devs, changedDevices(req.Spec.Config.DeviceChange)...)
	}
	switches, fault, msg := dvsSwitchesFor(host, devs)
	if fault != nil {
		return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{
			Returnval: failedNetTask(vm, "cloneVm", fault, "clone "+req.Name+" of "+vm.Name+": "+msg)}}
	}
	portsMu.Lock() // network_ports.go
	defer portsMu.Unlock()
	var final []types.BaseVirtualDevice
	if vm.Config != nil {
		changes := append([]types.BaseVirtualDeviceConfigSpec(nil), req.Spec.Location.DeviceChange...)
		if req.Spec.Config != nil {
			changes = append(changes, req.Spec.Config.DeviceChange...)
		}
		final = applyDeviceChanges(vm.Config.Hardware.Device, changes)
	}
	if fault := claimPorts(final, final, nil, req.Name); fault != nil {
		return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: failedTask(vm, "cloneVm", fault)}}
	}
	var res soap.HasFault
	withAllHostsMembers(switches, func() { res = clone() })
	return res
}
