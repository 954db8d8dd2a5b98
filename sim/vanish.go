package main

// A removed object vanishes from every view, as on vCenter. Container
// views are built by walking the inventory's lists (folder children,
// resource pools' and hosts' VMs, ...); the stock simulator leaves some
// removed objects in them (a destroyed template stayed in its resource
// pool's vm list, since MarkAsTemplate clears the VM's resourcePool but not
// the pool's list), so every later container view listed the template and
// every reader of it got ManagedObjectNotFound. The lab:
//   - takes a destroyed VM's reference off every such list (dropEverywhere,
//     after Destroy_Task, tasks.go; outside every object lock);
//   - keeps templates out of resource pools (vCenter's ResourcePool.vm
//     lists no template): MarkAsTemplate takes the VM off its pool's list,
//     MarkAsVirtualMachine puts it on the given pool's list.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// refLists are the inventory lists a walk follows that may hold ref, with
// their property names, for one object.
func refLists(obj mo.Reference) map[string]func() []types.ManagedObjectReference {
	switch o := obj.(type) {
	case *simulator.Folder:
		return map[string]func() []types.ManagedObjectReference{"childEntity": func() []types.ManagedObjectReference { return o.ChildEntity }}
	case *simulator.ResourcePool:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	case *simulator.VirtualApp:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	case *simulator.HostSystem:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	case *simulator.Datastore:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	case *mo.Network:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	case *simulator.DistributedVirtualPortgroup:
		return map[string]func() []types.ManagedObjectReference{"vm": func() []types.ManagedObjectReference { return o.Vm }}
	}
	return nil
}

// dropEverywhere takes ref off every list that holds it (poolsOnly: only
// resource pools' and vApps' vm lists).
func dropEverywhere(ref types.ManagedObjectReference, poolsOnly bool) {
	for _, e := range simulator.Map.All("") {
		if poolsOnly {
			switch e.(type) {
			case *simulator.ResourcePool, *simulator.VirtualApp:
			default:
				continue
			}
		}
		for prop, get := range refLists(e) {
			held := false
			simulator.Map.WithLock(e, func() { held = refsHas(get(), ref) })
			if held {
				setRefList(e, prop, get, ref, false)
			}
		}
	}
}

// templatesOutOfPools takes every template off resource pools' lists (for
// the inventory the lab builds).
func templatesOutOfPools() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok && vm.Config != nil && vm.Config.Template {
			dropEverywhere(vm.Self, true)
		}
	}
}
