package main

// Where a clone lands when the client names a resource pool and no host
// (govc vm.clone -pool, Ansible vmware_guest with cluster: or
// resource_pool: and no esxi_hostname), as the API reference describes
// VirtualMachineRelocateSpec.host:
//
//   - no pool: the source's host;
//   - a pool of a stand-alone host: that host;
//   - a pool of a DRS cluster: a host DRS selects;
//   - a pool of a cluster without DRS: InvalidArgument.
//
// The stock simulator kept the source's host whatever the pool, so a clone
// of the template (on vhpc-esx-01, HPC_Cluster) into COMPUTE_GPU_Cluster's
// pool ran on a host outside that cluster. The lab's DRS picks the usable
// host (connected, not in maintenance mode) of the pool's compute resource
// with the fewest VMs, the source's host first on a tie, then inventory
// order: placements spread as DRS's initial placement spreads load, and a
// test can tell where a clone goes. A host the client names must belong to
// the pool's compute resource.

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// placeClone decides spec.location.host for a clone of src: the host the
// client gave (checked against the pool), else what vCenter would choose.
// It sets spec.Location.Host (left nil only when no pool is given: the
// source's host).
func placeClone(src *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec) types.BaseMethodFault {
	if spec.Location.Pool == nil {
		return nil
	}
	pool := resourcePool(*spec.Location.Pool) // templates.go
	if pool == nil || pool.Owner.Value == "" {
		return nil // the stock clone refuses what is not a pool
	}
	hosts, drs := computeHosts(pool.Owner)
	if asked := spec.Location.Host; asked != nil {
		if !refsHas(hosts, *asked) {
			return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.host"}, "cloneHost",
				fmt.Sprintf("A specified parameter was not correct: spec.location.host (host %s is not in the "+
					"compute resource of resource pool %s).", entityName(*asked), pool.Name))
		}
		return nil
	}
	if len(hosts) > 1 && !drs {
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.host"}, "cloneHost",
			fmt.Sprintf("A specified parameter was not correct: spec.location.host (resource pool %s belongs to "+
				"cluster %s, which has DRS disabled: name the host).", pool.Name, entityName(pool.Owner)))
	}
	host, ok := drsPick(src, hosts)
	if !ok {
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.host"}, "cloneHost",
			fmt.Sprintf("A specified parameter was not correct: spec.location.host (no connected host out of "+
				"maintenance mode in the compute resource of resource pool %s).", pool.Name))
	}
	spec.Location.Host = &host
	return nil
}

// drsPick is the lab's DRS initial placement among hosts: the usable host
// with the fewest VMs, src's own host first on a tie, then list order.
func drsPick(src *simulator.VirtualMachine, hosts []types.ManagedObjectReference) (types.ManagedObjectReference, bool) {
	var best types.ManagedObjectReference
	bestVMs := -1
	for _, ref := range hosts {
		h, ok := simulator.Map.Get(ref).(*simulator.HostSystem)
		if !ok {
			continue
		}
		var usable bool
		var vms int
		simulator.Map.WithLock(h, func() {
			usable = !h.Runtime.InMaintenanceMode &&
				(h.Runtime.ConnectionState == "" || h.Runtime.ConnectionState == types.HostSystemConnectionStateConnected)
			vms = len(h.Vm)
		})
		if !usable {
			continue
		}
		own := src.Runtime.Host != nil && *src.Runtime.Host == ref
		if bestVMs < 0 || vms < bestVMs || (vms == bestVMs && own) {
			best, bestVMs = ref, vms
		}
	}
	return best, bestVMs >= 0
}

// entityName is the inventory name of ref, else its value.
func entityName(ref types.ManagedObjectReference) string {
	if name := objectName(ref); name != "" { // faults.go
		return name
	}
	return ref.Value
}
