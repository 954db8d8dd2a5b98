package main

// HostNetworkSystem methods the lab implements itself: standard port groups
// with the same name on many hosts.
//
// vSphere allows a standard port group name on any number of hosts; the
// datacenter then has one Network object of that name whose `host` list
// holds those hosts. The stock AddPortGroup refuses a name another host
// already has (DuplicateName), and the stock RemovePortGroup deletes the
// Network object even while other hosts still have the port group.
//
//   - AddPortGroup: AlreadyExists if this host has a port group of that
//     name, NotFound without the switch; otherwise the port group is added
//     to the host's switch, and the host joins the datacenter's Network of
//     that name (created by the first host; DuplicateName if that name is
//     taken by something that is not a standard network, e.g. a
//     distributed port group).
//   - RemovePortGroup: the host leaves the Network; the Network object goes
//     when no host has it any more.
//   - RemoveVirtualSwitch: removes the switch's port groups from the host
//     the same way, then the switch.
//   - AddVirtualSwitch keeps the spec's uplinks (bridge) and MTU
//     (network_uplinks.go has the rule for uplinks in use).
//   - AddVirtualNic / RemoveVirtualNic: VMkernel adapters on a standard
//     port group or a distributed port (network_vnic.go).
//   - After each change host.config.network shows the same switches, port
//     groups, VMkernel adapters and proxy switches as the network system's
//     networkInfo.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// netHostHook receives the routed methods of one HostNetworkSystem.
type netHostHook struct{ labHook }

// system returns the real HostNetworkSystem and its host (see
// labHook.target).
func (h *netHostHook) system(ctx *simulator.Context) (*simulator.HostNetworkSystem, *simulator.HostSystem) {
	s, _ := h.target(ctx).(*simulator.HostNetworkSystem)
	if s == nil || s.Host == nil {
		return nil, nil
	}
	host, _ := simulator.Map.Get(s.Host.Self).(*simulator.HostSystem)
	if host == nil {
		return nil, nil
	}
	return s, host
}

func (h *netHostHook) notFound() *soap.Fault {
	return notFound(h.real)
}

// standardNetwork returns the datacenter's network entity named name.
func standardNetwork(dc *simulator.Datacenter, name string) mo.Entity {
	if dc == nil {
		return nil
	}
	return simulator.Map.FindByName(name, dc.Network)
}

func hostPortGroupIndex(info *types.HostNetworkInfo, name string) int {
	for i, pg := range info.Portgroup {
		if pg.Spec.Name == name {
			return i
		}
	}
	return -1
}

func vswitchIndex(info *types.HostNetworkInfo, name string) int {
	for i, vs := range info.Vswitch {
		if vs.Name == name {
			return i
		}
	}
	return -1
}

// AddPortGroup adds a standard port group to this host.
func (h *netHostHook) AddPortGroup(ctx *simulator.Context, req *types.AddPortGroup) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.AddPortGroupBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		if fault = addHostPortGroup(ctx, s, host, req); fault == nil {
			syncHostConfigNetwork(s, host)
		}
	})
	if fault != nil {
		return &methods.AddPortGroupBody{Fault_: fault}
	}
	return &methods.AddPortGroupBody{Res: &types.AddPortGroupResponse{}}
}

func addHostPortGroup(ctx *simulator.Context, s *simulator.HostNetworkSystem, host *simulator.HostSystem, req *types.AddPortGroup) *soap.Fault {
	spec := req.Portgrp
	if spec.Name == "" {
		return simulator.Fault("port group name is empty", &types.InvalidArgument{InvalidProperty: "portgrp.name"})
	}
	info := s.NetworkInfo
	vs := vswitchIndex(info, spec.VswitchName)
	if vs < 0 {
		return simulator.Fault("host "+host.Name+" has no virtual switch "+spec.VswitchName, &types.NotFound{})
	}
	if hostPortGroupIndex(info, spec.Name) >= 0 {
		return simulator.Fault("host "+host.Name+" already has port group "+spec.Name, &types.AlreadyExists{Name: spec.Name})
	}
	dc := datacenterOf(host)
	existing := standardNetwork(dc, spec.Name)
	if existing != nil {
		if _, ok := existing.(*mo.Network); !ok {
			return simulator.Fault("the name "+spec.Name+" is taken by "+existing.Reference().String(),
				&types.DuplicateName{Name: spec.Name, Object: existing.Reference()})
		}
		info.Vswitch[vs].Portgroup = append(append([]string(nil), info.Vswitch[vs].Portgroup...), spec.Name)
		info.Portgroup = append(append([]types.HostPortGroup(nil), info.Portgroup...), types.HostPortGroup{
			Key:  "key-vim.host.PortGroup-" + spec.Name,
			Spec: spec,
		})
	} else {
		// The first host with this name: the stock method creates the
		// datacenter's Network object and the host's port group.
		res := s.AddPortGroup(ctx, req)
		if f := res.Fault(); f != nil {
			return f
		}
		existing = standardNetwork(dc, spec.Name)
	}
	if i := hostPortGroupIndex(info, spec.Name); i >= 0 {
		info.Portgroup[i].Vswitch = "key-vim.host.VirtualSwitch-" + spec.VswitchName
	}
	if existing != nil {
		attachNetwork(host, existing)
	}
	return nil
}

// RemovePortGroup removes a standard port group from this host.
func (h *netHostHook) RemovePortGroup(ctx *simulator.Context, req *types.RemovePortGroup) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.RemovePortGroupBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		if users := portGroupUsers(s, host, req.PgName); len(users) > 0 { // network_inuse.go
			fault = inUseFault(host, req.PgName, users)
			return
		}
		if fault = removeHostPortGroup(s, host, req.PgName); fault == nil {
			syncHostConfigNetwork(s, host)
		}
	})
	if fault != nil {
		return &methods.RemovePortGroupBody{Fault_: fault}
	}
	return &methods.RemovePortGroupBody{Res: &types.RemovePortGroupResponse{}}
}

// removeHostPortGroup removes port group name from host (whose network
// system s is locked by the caller), and its Network object once no host
// has it.
func removeHostPortGroup(s *simulator.HostNetworkSystem, host *simulator.HostSystem, name string) *soap.Fault {
	info := s.NetworkInfo
	i := hostPortGroupIndex(info, name)
	if i < 0 {
		return simulator.Fault("host "+host.Name+" has no port group "+name, &types.NotFound{})
	}
	pgs := make([]types.HostPortGroup, 0, len(info.Portgroup))
	pgs = append(pgs, info.Portgroup[:i]...)
	info.Portgroup = append(pgs, info.Portgroup[i+1:]...)
	for v := range info.Vswitch {
		var kept []string
		for _, pg := range info.Vswitch[v].Portgroup {
			if pg != name {
				kept = append(kept, pg)
			}
		}
		info.Vswitch[v].Portgroup = kept
	}

	network, ok := standardNetwork(datacenterOf(host), name).(*mo.Network)
	if !ok {
		return nil
	}
	detachNetwork(host, network)
	if len(network.Host) == 0 {
		removeEntity(network)
	}
	return nil
}

// RemoveVirtualSwitch removes a standard switch and its port groups from
// this host.
func (h *netHostHook) RemoveVirtualSwitch(ctx *simulator.Context, req *types.RemoveVirtualSwitch) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.RemoveVirtualSwitchBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		info := s.NetworkInfo
		i := vswitchIndex(info, req.VswitchName)
		if i < 0 {
			fault = simulator.Fault("host "+host.Name+" has no virtual switch "+req.VswitchName, &types.NotFound{})
			return
		}
		if users := switchUsers(s, host, req.VswitchName); len(users) > 0 { // network_inuse.go
			fault = inUseFault(host, req.VswitchName, users)
			return
		}
		var names []string
		for _, pg := range info.Portgroup {
			if pg.Spec.VswitchName == req.VswitchName {
				names = append(names, pg.Spec.Name)
			}
		}
		for _, name := range names {
			_ = removeHostPortGroup(s, host, name)
		}
		i = vswitchIndex(info, req.VswitchName)
		vs := make([]types.HostVirtualSwitch, 0, len(info.Vswitch))
		vs = append(vs, info.Vswitch[:i]...)
		info.Vswitch = append(vs, info.Vswitch[i+1:]...)
		syncHostConfigNetwork(s, host)
	})
	if fault != nil {
		return &methods.RemoveVirtualSwitchBody{Fault_: fault}
	}
	return &methods.RemoveVirtualSwitchBody{Res: &types.RemoveVirtualSwitchResponse{}}
}

// AddVirtualSwitch adds a standard switch with the spec's uplinks (bridge)
// and MTU; a physical NIC that is already an uplink is ResourceInUse.
func (h *netHostHook) AddVirtualSwitch(ctx *simulator.Context, req *types.AddVirtualSwitch) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.AddVirtualSwitchBody{Fault_: h.notFound()}
	}
	if f := mtuFault(req.Spec.Mtu, "spec.mtu"); f != nil { // network_mtu.go
		return &methods.AddVirtualSwitchBody{Fault_: simulator.Fault(faultText(f), f)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		if fault = addVirtualSwitch(s, host, req); fault == nil {
			syncHostConfigNetwork(s, host)
		}
	})
	if fault != nil {
		return &methods.AddVirtualSwitchBody{Fault_: fault}
	}
	return &methods.AddVirtualSwitchBody{Res: &types.AddVirtualSwitchResponse{}}
}

func addVirtualSwitch(s *simulator.HostNetworkSystem, host *simulator.HostSystem, req *types.AddVirtualSwitch) *soap.Fault {
	name := req.VswitchName
	if name == "" || len(name) > 32 {
		return simulator.Fault("a standard switch name has 1 to 32 characters", &types.InvalidArgument{InvalidProperty: "vswitchName"})
	}
	if vswitchIndex(s.NetworkInfo, name) >= 0 {
		return simulator.Fault("host "+host.Name+" already has virtual switch "+name, &types.AlreadyExists{Name: name})
	}
	spec := types.HostVirtualSwitchSpec{NumPorts: 128}
	if req.Spec != nil {
		spec = *req.Spec
	}
	if spec.Mtu == 0 {
		spec.Mtu = 1500
	}
	if spec.Mtu < 1280 || spec.Mtu > 9000 {
		return simulator.Fault(fmt.Sprintf("MTU %d is out of range (1280-9000)", spec.Mtu), &types.InvalidArgument{InvalidProperty: "spec.mtu"})
	}
	var keys []string
	for _, nic := range bridgeNics(spec.Bridge) {
		if !hostHasPnic(host, nic) {
			return simulator.Fault("host "+host.Name+" has no physical NIC "+nic+" (it has "+hostPnicNames(host)+")", &types.NotFound{})
		}
		if holder := pnicHolder(host, nic, nil); holder != "" {
			f := pnicInUse(nic, holder+" on host "+host.Name)
			return simulator.Fault(faultText(f), f)
		}
		keys = append(keys, pnicKeyPrefix+nic)
	}
	s.NetworkInfo.Vswitch = append(append([]types.HostVirtualSwitch(nil), s.NetworkInfo.Vswitch...), types.HostVirtualSwitch{
		Name:              name,
		Key:               "key-vim.host.VirtualSwitch-" + name,
		NumPorts:          spec.NumPorts,
		NumPortsAvailable: spec.NumPorts - int32(len(keys)),
		Mtu:               spec.Mtu,
		Pnic:              keys,
		Spec:              spec,
	})
	return nil
}

// initHostNetworkInfo makes host's network system start from what
// host.config.network says (the stock one knows vSwitch0 without its
// uplink, and no VMkernel adapter). Call before the lab serves.
func initHostNetworkInfo(host *simulator.HostSystem) {
	s := hostNetworkSystem(host)
	if s == nil || host.Config == nil || host.Config.Network == nil {
		return
	}
	var switches []types.HostVirtualSwitch
	for _, vs := range host.Config.Network.Vswitch {
		entry := vs
		entry.Portgroup = nil
		for _, pg := range vs.Portgroup {
			entry.Portgroup = append(entry.Portgroup, strings.TrimPrefix(pg, "key-vim.host.PortGroup-"))
		}
		switches = append(switches, entry)
	}
	s.NetworkInfo.Vswitch = switches
	s.NetworkInfo.Vnic = append([]types.HostVirtualNic(nil), host.Config.Network.Vnic...)
}

// syncHostConfigNetwork makes host.config.network's switches, port groups,
// VMkernel adapters and proxy switches those of the host's network system
// (s, locked by the caller), as on ESXi, where both are the same
// information. Switches list port group keys there.
func syncHostConfigNetwork(s *simulator.HostNetworkSystem, host *simulator.HostSystem) {
	simulator.Map.WithLock(host, func() {
		if host.Config == nil || host.Config.Network == nil {
			return
		}
		next := *host.Config.Network
		next.Vswitch = nil
		for _, vs := range s.NetworkInfo.Vswitch {
			entry := vs
			if entry.Key == "" {
				entry.Key = "key-vim.host.VirtualSwitch-" + vs.Name
			}
			entry.Portgroup = nil
			for _, pg := range s.NetworkInfo.Portgroup {
				if pg.Spec.VswitchName == vs.Name {
					entry.Portgroup = append(entry.Portgroup, "key-vim.host.PortGroup-"+pg.Spec.Name)
				}
			}
			next.Vswitch = append(next.Vswitch, entry)
		}
		next.Portgroup = append([]types.HostPortGroup(nil), s.NetworkInfo.Portgroup...)
		next.Vnic = append([]types.HostVirtualNic(nil), s.NetworkInfo.Vnic...)
		next.ProxySwitch = append([]types.HostProxySwitch(nil), s.NetworkInfo.ProxySwitch...)
		simulator.Map.Update(host, []types.PropertyChange{{Name: "config.network", Val: &next}})
		syncNetworkSystem(s, host) // host_facts.go
	})
}
