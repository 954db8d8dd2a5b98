package main

// SearchIndex: finding VMs and hosts by attribute, as vCenter does (routed
// here by routes.go; FindByInventoryPath and FindChild are the stock ones).
//
//   - FindByUuid / FindAllByUuid: VMs by BIOS UUID (config.uuid), or by
//     instance UUID (config.instanceUuid) when instanceUuid is true; hosts
//     by hardware.systemInfo.uuid. UUIDs compare in any case.
//   - FindByIp / FindAllByIp: VMs by any address VMware Tools reports
//     (guest.ipAddress, guest.net[].ipAddress); hosts by the addresses of
//     their VMkernel adapters (config.network.vnic[].spec.ip).
//   - FindByDnsName / FindAllByDnsName: VMs by guest.hostName; hosts by
//     their DNS host name, alone or with its domain
//     (config.network.dnsConfig). Names compare in any case.
//   - FindByDatastorePath: the VM whose config.files.vmPathName is path.
//   - datacenter, when given, restricts a search to that datacenter
//     (ManagedObjectNotFound if there is no such datacenter).
//   - FindAll* return every match, Find* the first (in moref order); no
//     match is an empty answer, not a fault.
//
// The stock methods lack FindAllByUuid, ignore datacenter, read one guest
// address only, and walk the simulator's whole registry unlocked (a VM
// being created has no config yet). These read each VM and host under its
// lock.

import (
	"net"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// searchHook receives the routed SearchIndex methods.
type searchHook struct{ labHook }

// searchScope returns the datacenter a search is restricted to (nil: the
// whole inventory), or the fault for an unknown one.
func searchScope(dc *types.ManagedObjectReference) (*simulator.Datacenter, *soap.Fault) {
	if dc == nil {
		return nil, nil
	}
	d, ok := simulator.Map.Get(*dc).(*simulator.Datacenter)
	if !ok {
		return nil, notFound(*dc)
	}
	return d, nil
}

// findVMs returns the VMs in dc (nil: all) that match, in moref order.
func findVMs(dc *simulator.Datacenter, match func(*simulator.VirtualMachine) bool) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || (dc != nil && datacenterOf(vm) != dc) {
			continue
		}
		hit := false
		simulator.Map.WithLock(vm, func() { hit = vm.Config != nil && match(vm) })
		if hit {
			out = append(out, vm.Self)
		}
	}
	return sortedRefs(out)
}

// findHosts returns the hosts in dc (nil: all) that match, in moref order.
func findHosts(dc *simulator.Datacenter, match func(*simulator.HostSystem) bool) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok || (dc != nil && datacenterOf(h) != dc) {
			continue
		}
		hit := false
		simulator.Map.WithLock(h, func() { hit = match(h) })
		if hit {
			out = append(out, h.Self)
		}
	}
	return sortedRefs(out)
}

// sortedRefs sorts refs of one type by the number in their value.
func sortedRefs(refs []types.ManagedObjectReference) []types.ManagedObjectReference {
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i].Value, refs[j].Value
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	return refs
}

// searchFor runs the VM or host search and returns its matches or fault.
func searchFor(dc *types.ManagedObjectReference, vmSearch bool, vm func(*simulator.VirtualMachine) bool,
	host func(*simulator.HostSystem) bool) ([]types.ManagedObjectReference, *soap.Fault) {
	scope, fault := searchScope(dc)
	if fault != nil {
		return nil, fault
	}
	if vmSearch {
		return findVMs(scope, vm), nil
	}
	return findHosts(scope, host), nil
}

func first(refs []types.ManagedObjectReference) *types.ManagedObjectReference {
	if len(refs) == 0 {
		return nil
	}
	return &refs[0]
}

// --- matching ---------------------------------------------------------------

func byUUID(uuid string, instance *bool) (func(*simulator.VirtualMachine) bool, func(*simulator.HostSystem) bool) {
	same := func(s string) bool { return uuid != "" && strings.EqualFold(s, uuid) }
	vm := func(vm *simulator.VirtualMachine) bool {
		if instance != nil && *instance {
			return same(vm.Config.InstanceUuid)
		}
		return same(vm.Config.Uuid)
	}
	host := func(h *simulator.HostSystem) bool { return h.Hardware != nil && same(h.Hardware.SystemInfo.Uuid) }
	return vm, host
}

// sameIP compares addresses as IPs when both parse (IPv6 has many
// spellings), else as text.
func sameIP(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if x, y := net.ParseIP(a), net.ParseIP(b); x != nil && y != nil {
		return x.Equal(y)
	}
	return a == b
}

func byIP(ip string) (func(*simulator.VirtualMachine) bool, func(*simulator.HostSystem) bool) {
	vm := func(vm *simulator.VirtualMachine) bool {
		if vm.Guest == nil {
			return false
		}
		if sameIP(vm.Guest.IpAddress, ip) {
			return true
		}
		for _, nic := range vm.Guest.Net {
			for _, a := range nic.IpAddress {
				if sameIP(a, ip) {
					return true
				}
			}
		}
		return false
	}
	host := func(h *simulator.HostSystem) bool {
		if h.Config == nil || h.Config.Network == nil {
			return false
		}
		for _, vnic := range h.Config.Network.Vnic {
			if vnic.Spec.Ip != nil && sameIP(vnic.Spec.Ip.IpAddress, ip) {
				return true
			}
		}
		return false
	}
	return vm, host
}

func byDNSName(name string) (func(*simulator.VirtualMachine) bool, func(*simulator.HostSystem) bool) {
	same := func(s string) bool { return name != "" && strings.EqualFold(s, name) }
	vm := func(vm *simulator.VirtualMachine) bool { return vm.Guest != nil && same(vm.Guest.HostName) }
	host := func(h *simulator.HostSystem) bool {
		if h.Config == nil || h.Config.Network == nil || h.Config.Network.DnsConfig == nil {
			return false
		}
		dns := h.Config.Network.DnsConfig.GetHostDnsConfig()
		return same(dns.HostName) || (dns.DomainName != "" && same(dns.HostName+"."+dns.DomainName))
	}
	return vm, host
}

// --- the methods ------------------------------------------------------------

func (h *searchHook) FindAllByUuid(ctx *simulator.Context, req *types.FindAllByUuid) soap.HasFault {
	h.target(ctx)
	vm, host := byUUID(req.Uuid, req.InstanceUuid)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindAllByUuidBody{Fault_: fault}
	}
	return &methods.FindAllByUuidBody{Res: &types.FindAllByUuidResponse{Returnval: refs}}
}

func (h *searchHook) FindByUuid(ctx *simulator.Context, req *types.FindByUuid) soap.HasFault {
	h.target(ctx)
	vm, host := byUUID(req.Uuid, req.InstanceUuid)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindByUuidBody{Fault_: fault}
	}
	return &methods.FindByUuidBody{Res: &types.FindByUuidResponse{Returnval: first(refs)}}
}

func (h *searchHook) FindAllByIp(ctx *simulator.Context, req *types.FindAllByIp) soap.HasFault {
	h.target(ctx)
	vm, host := byIP(req.Ip)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindAllByIpBody{Fault_: fault}
	}
	return &methods.FindAllByIpBody{Res: &types.FindAllByIpResponse{Returnval: refs}}
}

func (h *searchHook) FindByIp(ctx *simulator.Context, req *types.FindByIp) soap.HasFault {
	h.target(ctx)
	vm, host := byIP(req.Ip)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindByIpBody{Fault_: fault}
	}
	return &methods.FindByIpBody{Res: &types.FindByIpResponse{Returnval: first(refs)}}
}

func (h *searchHook) FindAllByDnsName(ctx *simulator.Context, req *types.FindAllByDnsName) soap.HasFault {
	h.target(ctx)
	vm, host := byDNSName(req.DnsName)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindAllByDnsNameBody{Fault_: fault}
	}
	return &methods.FindAllByDnsNameBody{Res: &types.FindAllByDnsNameResponse{Returnval: refs}}
}

func (h *searchHook) FindByDnsName(ctx *simulator.Context, req *types.FindByDnsName) soap.HasFault {
	h.target(ctx)
	vm, host := byDNSName(req.DnsName)
	refs, fault := searchFor(req.Datacenter, req.VmSearch, vm, host)
	if fault != nil {
		return &methods.FindByDnsNameBody{Fault_: fault}
	}
	return &methods.FindByDnsNameBody{Res: &types.FindByDnsNameResponse{Returnval: first(refs)}}
}

func (h *searchHook) FindByDatastorePath(ctx *simulator.Context, req *types.FindByDatastorePath) soap.HasFault {
	h.target(ctx)
	byPath := func(vm *simulator.VirtualMachine) bool {
		return req.Path != "" && vm.Config.Files.VmPathName == req.Path
	}
	refs, fault := searchFor(&req.Datacenter, true, byPath, nil)
	if fault != nil {
		return &methods.FindByDatastorePathBody{Fault_: fault}
	}
	return &methods.FindByDatastorePathBody{Res: &types.FindByDatastorePathResponse{Returnval: first(refs)}}
}
