package main

// The address of a VMkernel adapter (HostVirtualNicSpec.ip, a HostIpConfig),
// as the vSphere API reference describes it:
//
//   - dhcp true: the address comes from the fabric's DHCP server; ipAddress
//     and subnetMask "cannot be set explicitly" (InvalidArgument nic.ip). The
//     lab's fabrics have no DHCP server: such an adapter has no address.
//   - dhcp false: ipAddress and subnetMask are set by the caller: an IPv4
//     address and a netmask with contiguous bits (InvalidArgument
//     nic.ip.ipAddress / nic.ip.subnetMask), unless the adapter has an IPv6
//     configuration only.
//
// UpdateVirtualNic (the stock simulator has none) changes an adapter's
// address and MTU: NotFound for a device the host does not have; moving an
// adapter to another port group is not modelled (NotSupported).

import (
	"net"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vnicIPFault is the fault an adapter spec's address earns, nil when it is acceptable.
func vnicIPFault(ip *types.HostIpConfig) *soap.Fault {
	if ip == nil {
		return nil
	}
	if ip.Dhcp {
		if ip.IpAddress != "" || ip.SubnetMask != "" {
			return simulator.Fault("with DHCP enabled, ipAddress and subnetMask cannot be set explicitly",
				&types.InvalidArgument{InvalidProperty: "nic.ip"})
		}
		return nil
	}
	if ip.IpAddress == "" && ip.SubnetMask == "" && ip.IpV6Config != nil {
		return nil
	}
	if a := net.ParseIP(ip.IpAddress); a == nil || a.To4() == nil || a.IsUnspecified() {
		return simulator.Fault("a static address needs an IPv4 ipAddress, not "+quoteOrEmpty(ip.IpAddress),
			&types.InvalidArgument{InvalidProperty: "nic.ip.ipAddress"})
	}
	if !isNetmask(ip.SubnetMask) {
		return simulator.Fault("a static address needs a subnetMask, not "+quoteOrEmpty(ip.SubnetMask),
			&types.InvalidArgument{InvalidProperty: "nic.ip.subnetMask"})
	}
	return nil
}

func isNetmask(s string) bool {
	a := net.ParseIP(s).To4()
	if a == nil {
		return false
	}
	ones, bits := net.IPMask(a).Size()
	return bits == 32 && ones > 0
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "an empty one"
	}
	return "\"" + s + "\""
}

// UpdateVirtualNic changes the address or MTU of a VMkernel adapter.
func (h *netHostHook) UpdateVirtualNic(ctx *simulator.Context, req *types.UpdateVirtualNic) soap.HasFault {
	s, host := h.system(ctx)
	if s == nil {
		return &methods.UpdateVirtualNicBody{Fault_: h.notFound()}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var fault *soap.Fault
	simulator.Map.WithLock(s, func() {
		fault = updateVirtualNic(s, host, req)
		if fault == nil {
			syncHostConfigNetwork(s, host)
		}
	})
	if fault != nil {
		return &methods.UpdateVirtualNicBody{Fault_: fault}
	}
	return &methods.UpdateVirtualNicBody{Res: &types.UpdateVirtualNicResponse{}}
}

func updateVirtualNic(s *simulator.HostNetworkSystem, host *simulator.HostSystem, req *types.UpdateVirtualNic) *soap.Fault {
	at := -1
	for i, v := range s.NetworkInfo.Vnic {
		if v.Device == req.Device {
			at = i
		}
	}
	if at < 0 {
		return simulator.Fault("host "+host.Name+" has no VMkernel adapter "+req.Device, &types.NotFound{})
	}
	if f := vnicIPFault(req.Nic.Ip); f != nil {
		return f
	}
	vnic := s.NetworkInfo.Vnic[at]
	if (req.Nic.Portgroup != "" && req.Nic.Portgroup != vnic.Portgroup) || movesPort(req.Nic.DistributedVirtualPort, vnic.Spec.DistributedVirtualPort) {
		return simulator.Fault("the lab's UpdateVirtualNic does not move an adapter to another port group",
			&types.NotSupported{})
	}
	vnics := append([]types.HostVirtualNic(nil), s.NetworkInfo.Vnic...)
	if req.Nic.Ip != nil {
		ip := *req.Nic.Ip
		vnics[at].Spec.Ip = &ip
	}
	if req.Nic.Mtu > 0 {
		vnics[at].Spec.Mtu = req.Nic.Mtu
	}
	s.NetworkInfo.Vnic = vnics
	return nil
}

func movesPort(want, have *types.DistributedVirtualSwitchPortConnection) bool {
	if want == nil {
		return false
	}
	return have == nil || want.SwitchUuid != have.SwitchUuid || (want.PortgroupKey != "" && want.PortgroupKey != have.PortgroupKey)
}
