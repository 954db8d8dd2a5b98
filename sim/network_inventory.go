package main

// The inventory helpers the lab's networking methods (routes.go) share:
// network_host.go, network_dvs.go, network_vm.go.
//
// All of the lab's network changes (port groups, switch members, switch and
// port group removal) hold netMu: they update lists shared between objects
// (host.network, the cluster's network, network.host) and must not
// interleave.

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var netMu sync.Mutex

func refsHas(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

// refsWith returns a new slice: refs plus ref (if missing).
func refsWith(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	out := make([]types.ManagedObjectReference, 0, len(refs)+1)
	out = append(out, refs...)
	if !refsHas(refs, ref) {
		out = append(out, ref)
	}
	return out
}

// refsWithout returns a new slice: refs without ref.
func refsWithout(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	out := make([]types.ManagedObjectReference, 0, len(refs))
	for _, r := range refs {
		if r != ref {
			out = append(out, r)
		}
	}
	return out
}

// setRefList adds ref to (add) or removes it from the reference list
// property prop of obj, whose current value get returns, through
// Map.Update (so property collector filters see the change). The new list
// is always a fresh slice: the simulator shares some lists between objects
// (a host's network list starts as its cluster's).
func setRefList(obj mo.Reference, prop string, get func() []types.ManagedObjectReference, ref types.ManagedObjectReference, add bool) {
	simulator.Map.WithLock(obj, func() {
		cur := get()
		if refsHas(cur, ref) == add {
			return
		}
		next := refsWithout(cur, ref)
		if add {
			next = refsWith(cur, ref)
		}
		simulator.Map.Update(obj, []types.PropertyChange{{Name: prop, Val: next}})
	})
}

func parentEntity(e mo.Entity) mo.Entity {
	p := e.Entity().Parent
	if p == nil {
		return nil
	}
	pe, _ := simulator.Map.Get(*p).(mo.Entity)
	return pe
}

// datacenterOf is the datacenter e is in, or nil.
func datacenterOf(e mo.Entity) *simulator.Datacenter {
	for e != nil {
		if dc, ok := e.(*simulator.Datacenter); ok {
			return dc
		}
		e = parentEntity(e)
	}
	return nil
}

// computeOf returns host's compute resource (cluster or standalone) and
// its ComputeResource part.
func computeOf(host *simulator.HostSystem) (mo.Reference, *mo.ComputeResource) {
	if host.Parent == nil {
		return nil, nil
	}
	switch p := simulator.Map.Get(*host.Parent).(type) {
	case *simulator.ClusterComputeResource:
		return p, &p.ComputeResource
	case *mo.ComputeResource:
		return p, p
	}
	return nil, nil
}

// networkPart is the Network part of a network object (standard, opaque or
// distributed port group), or nil.
func networkPart(obj mo.Reference) *mo.Network {
	switch n := obj.(type) {
	case *mo.Network:
		return n
	case *mo.OpaqueNetwork:
		return &n.Network
	case *simulator.DistributedVirtualPortgroup:
		return &n.Network
	}
	return nil
}

// attachNetwork makes network object net (a Network or a distributed port
// group) available on host: net.host, host.network and the host's compute
// resource's network.
func attachNetwork(host *simulator.HostSystem, net mo.Reference) {
	n := networkPart(net)
	if n == nil {
		return
	}
	ref := net.Reference()
	setRefList(net, "host", func() []types.ManagedObjectReference { return n.Host }, host.Self, true)
	setRefList(host, "network", func() []types.ManagedObjectReference { return host.Network }, ref, true)
	if cr, part := computeOf(host); cr != nil {
		setRefList(cr, "network", func() []types.ManagedObjectReference { return part.Network }, ref, true)
	}
}

// detachNetwork undoes attachNetwork; the compute resource keeps net while
// another of its hosts has it.
func detachNetwork(host *simulator.HostSystem, net mo.Reference) {
	ref := net.Reference()
	if n := networkPart(net); n != nil {
		setRefList(net, "host", func() []types.ManagedObjectReference { return n.Host }, host.Self, false)
	}
	setRefList(host, "network", func() []types.ManagedObjectReference { return host.Network }, ref, false)
	cr, part := computeOf(host)
	if cr == nil {
		return
	}
	for _, other := range part.Host {
		if other == host.Self {
			continue
		}
		if h, ok := simulator.Map.Get(other).(*simulator.HostSystem); ok && refsHas(h.Network, ref) {
			return
		}
	}
	setRefList(cr, "network", func() []types.ManagedObjectReference { return part.Network }, ref, false)
}

// removeEntity removes a network-folder entity (network, port group,
// switch) from the inventory: the registry, its folder and the
// datacenter's network list.
func removeEntity(e mo.Entity) {
	ref := e.Reference()
	dc := datacenterOf(e)
	var folder *simulator.Folder
	if p := e.Entity().Parent; p != nil {
		folder, _ = simulator.Map.Get(*p).(*simulator.Folder)
	}
	simulator.Map.Remove(ref)
	if folder != nil {
		setRefList(folder, "childEntity", func() []types.ManagedObjectReference { return folder.ChildEntity }, ref, false)
	}
	if dc != nil {
		setRefList(dc, "network", func() []types.ManagedObjectReference { return dc.Network }, ref, false)
	}
}

// failedNetTask returns a finished task on obj that failed with fault and
// message msg (the task's error.localizedMessage).
func failedNetTask(obj mo.Reference, name string, fault types.BaseMethodFault, msg string) types.ManagedObjectReference {
	ref := simulator.CreateTask(obj, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, fault
	}).Run()
	if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok && msg != "" {
		simulator.Map.WithLock(t, func() {
			if t.Info.Error != nil {
				e := *t.Info.Error
				e.LocalizedMessage = msg
				simulator.Map.Update(t, []types.PropertyChange{{Name: "info.error", Val: e}})
			}
		})
	}
	return ref
}
