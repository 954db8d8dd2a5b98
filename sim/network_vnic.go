package main

// VMkernel adapters: HostNetworkSystem.AddVirtualNic and RemoveVirtualNic
// (the stock simulator has neither).
//
//   - AddVirtualNic on a standard port group (portgroup) or a distributed
//     port (nic.distributedVirtualPort: the switch's uuid and a port group
//     key of it; portgroup ""). The port group must exist on the host
//     (NotFound), a standard port group takes one VMkernel adapter
//     (AlreadyExists); for a distributed port the switch must exist and the
//     host be a member (NotFound / InvalidArgument). The adapter gets the
//     next free name vmkN, which the method returns, a MAC address and MTU
//     1500 unless the spec says otherwise.
//   - RemoveVirtualNic: NotFound for a device the host does not have.
//   - A distributed switch, one of its port groups, or a host's membership
//     cannot be removed while a VMkernel adapter is on it (ResourceInUse,
//     network_dvs.go).

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// AddVirtualNic adds a VMkernel adapter to the host.
func (h *netHostHook) AddVirtualNic(ctx *simulator.Context, req *types.AddVirtualNic) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.AddVirtualNicBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var device string
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		if device, fault = addVirtualNic(s, host, req); fault == nil {
			syncHostConfigNetwork(s, host)
		}
	})
	if fault != nil {
		return &methods.AddVirtualNicBody{Fault_: fault}
	}
	return &methods.AddVirtualNicBody{Res: &types.AddVirtualNicResponse{Returnval: device}}
}

func addVirtualNic(s *simulator.HostNetworkSystem, host *simulator.HostSystem, req *types.AddVirtualNic) (string, *soap.Fault) {
	spec := req.Nic
	if f := vnicIPFault(spec.Ip); f != nil { // network_vnic_ip.go
		return "", f
	}
	if p := spec.DistributedVirtualPort; p != nil {
		if req.Portgroup != "" {
			return "", simulator.Fault("give a port group or a distributed port, not both", &types.InvalidArgument{InvalidProperty: "portgroup"})
		}
		sw := dvsByUUID(p.SwitchUuid)
		if sw == nil {
			return "", simulator.Fault("no distributed switch has uuid "+p.SwitchUuid, &types.NotFound{})
		}
		if !refsHas(sw.Summary.HostMember, host.Self) {
			return "", simulator.Fault("host "+host.Name+" is not a member of distributed switch "+sw.Name,
				&types.InvalidArgument{InvalidProperty: "nic.distributedVirtualPort.switchUuid"})
		}
		if p.PortgroupKey != "" && !switchHasPortgroup(sw, p.PortgroupKey) {
			return "", simulator.Fault("distributed switch "+sw.Name+" has no port group "+p.PortgroupKey, &types.NotFound{})
		}
		if f := claimVmkernelPort(p.PortgroupKey, host.Name); f != nil { // network_ports.go
			return "", simulator.Fault(faultText(f), f)
		}
	} else {
		if hostPortGroupIndex(s.NetworkInfo, req.Portgroup) < 0 {
			return "", simulator.Fault("host "+host.Name+" has no port group "+req.Portgroup, &types.NotFound{})
		}
		for _, v := range s.NetworkInfo.Vnic {
			if v.Portgroup == req.Portgroup {
				return "", simulator.Fault("port group "+req.Portgroup+" already has VMkernel adapter "+v.Device,
					&types.AlreadyExists{Name: req.Portgroup})
			}
		}
		spec.Portgroup = req.Portgroup
	}
	used := map[string]bool{}
	for _, v := range s.NetworkInfo.Vnic {
		used[v.Device] = true
	}
	device := ""
	for n := 0; device == ""; n++ {
		if name := fmt.Sprintf("vmk%d", n); !used[name] {
			device = name
		}
	}
	if spec.Mac == "" {
		spec.Mac = fmt.Sprintf("00:50:56:%02x:%02x:%02x", len(host.Name)&0xff, hostIndexByte(host), len(s.NetworkInfo.Vnic)&0xff)
	}
	if spec.Mtu == 0 {
		spec.Mtu = 1500
	}
	if spec.NetStackInstanceKey == "" {
		spec.NetStackInstanceKey = "defaultTcpipStack"
	}
	if spec.Ip == nil {
		spec.Ip = &types.HostIpConfig{Dhcp: true}
	}
	s.NetworkInfo.Vnic = append(append([]types.HostVirtualNic(nil), s.NetworkInfo.Vnic...), types.HostVirtualNic{
		Device:    device,
		Key:       "key-vim.host.VirtualNic-" + device,
		Portgroup: req.Portgroup,
		Spec:      spec,
	})
	return device, nil
}

// hostIndexByte is a byte that differs between the lab's hosts.
func hostIndexByte(host *simulator.HostSystem) int {
	n := 0
	for _, c := range host.Self.Value {
		n = n*31 + int(c)
	}
	return n & 0xff
}

func switchHasPortgroup(sw *simulator.DistributedVirtualSwitch, key string) bool {
	for _, ref := range sw.Portgroup {
		if pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok && pg.Key == key {
			return true
		}
	}
	return false
}

// RemoveVirtualNic removes a VMkernel adapter of the host.
func (h *netHostHook) RemoveVirtualNic(ctx *simulator.Context, req *types.RemoveVirtualNic) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.RemoveVirtualNicBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		var kept []types.HostVirtualNic
		for _, v := range s.NetworkInfo.Vnic {
			if v.Device != req.Device {
				kept = append(kept, v)
			}
		}
		if len(kept) == len(s.NetworkInfo.Vnic) {
			fault = simulator.Fault("host "+host.Name+" has no VMkernel adapter "+req.Device, &types.NotFound{})
			return
		}
		s.NetworkInfo.Vnic = kept
		syncHostConfigNetwork(s, host)
	})
	if fault != nil {
		return &methods.RemoveVirtualNicBody{Fault_: fault}
	}
	return &methods.RemoveVirtualNicBody{Res: &types.RemoveVirtualNicResponse{}}
}
