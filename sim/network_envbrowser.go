package main

// The base of the lab's QueryConfigTarget answer (envbrowser.go adds the
// devices): CPUs, datastores and networks of one host.
//
// The stock EnvironmentBrowser.QueryConfigTarget panics on a distributed
// port group whose switch is gone; this one skips whatever a host's lists
// name that is no longer in the inventory. It also marks uplink port
// groups, and lists the distributed switches the host is a member of.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// configTargetBase returns host's CPUs, datastores and networks.
func configTargetBase(ctx *simulator.Context, ref types.ManagedObjectReference) *types.ConfigTarget {
	target := &types.ConfigTarget{SmcPresent: types.NewBool(false)}
	host, ok := ctx.Map.Get(ref).(*simulator.HostSystem)
	if !ok {
		return target
	}
	var datastores, networks []types.ManagedObjectReference
	ctx.Map.WithLock(host, func() {
		if host.Summary.Hardware != nil {
			target.NumCpus = int32(host.Summary.Hardware.NumCpuPkgs)
			target.NumCpuCores = int32(host.Summary.Hardware.NumCpuCores)
		}
		target.NumNumaNodes = 1
		datastores = append(datastores, host.Datastore...)
		networks = append(networks, host.Network...)
	})

	seen := map[types.ManagedObjectReference]bool{}
	for _, r := range datastores {
		ds, ok := ctx.Map.Get(r).(*simulator.Datastore)
		if !ok || seen[r] {
			continue
		}
		seen[r] = true
		target.Datastore = append(target.Datastore, types.VirtualMachineDatastoreInfo{
			VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: ds.Name},
			Datastore:                ds.Summary,
			Capability:               ds.Capability,
			Mode:                     string(types.HostMountModeReadWrite),
			VStorageSupport:          string(types.FileSystemMountInfoVStorageSupportStatusVStorageUnsupported),
		})
	}

	for _, r := range networks {
		if seen[r] {
			continue
		}
		seen[r] = true
		switch n := ctx.Map.Get(r).(type) {
		case *mo.Network:
			target.Network = append(target.Network, types.VirtualMachineNetworkInfo{
				VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: n.Name},
				Network:                  networkSummaryOf(n),
			})
		case *simulator.DistributedVirtualPortgroup:
			if n.Config.DistributedVirtualSwitch == nil {
				continue
			}
			s, ok := ctx.Map.Get(*n.Config.DistributedVirtualSwitch).(*simulator.DistributedVirtualSwitch)
			if !ok {
				continue // a port group whose switch is gone
			}
			target.DistributedVirtualPortgroup = append(target.DistributedVirtualPortgroup, types.DistributedVirtualPortgroupInfo{
				SwitchName:                  s.Name,
				SwitchUuid:                  s.Uuid,
				PortgroupName:               n.Name,
				PortgroupKey:                n.Key,
				PortgroupType:               n.Config.Type,
				UplinkPortgroup:             n.Config.Uplink != nil && *n.Config.Uplink,
				Portgroup:                   n.Self,
				NetworkReservationSupported: types.NewBool(false),
			})
		}
	}

	for _, e := range ctx.Map.All("DistributedVirtualSwitch") {
		s, ok := e.(*simulator.DistributedVirtualSwitch)
		if !ok {
			continue
		}
		member := false
		ctx.Map.WithLock(s, func() { member = refsHas(s.Summary.HostMember, ref) })
		if !member {
			continue
		}
		target.DistributedVirtualSwitch = append(target.DistributedVirtualSwitch, types.DistributedVirtualSwitchInfo{
			SwitchName:                  s.Name,
			SwitchUuid:                  s.Uuid,
			DistributedVirtualSwitch:    s.Self,
			NetworkReservationSupported: types.NewBool(false),
		})
	}
	return target
}

func networkSummaryOf(n *mo.Network) types.BaseNetworkSummary {
	if n.Summary != nil {
		return n.Summary
	}
	return &types.NetworkSummary{Network: &n.Self, Name: n.Name, Accessible: true}
}
