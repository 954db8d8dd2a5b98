package main

// Ports of distributed port groups with static binding (earlyBinding): a
// VM adapter takes a port when it is connected to the port group (at
// reconfigure or clone), whatever the VM's power state, and keeps it until
// the adapter is removed or moved; a VMkernel adapter on the port group
// (AddVirtualNic on a distributed port) takes one as well. config.numPorts
// is how many there are.
//
//   - autoExpand (elastic port allocation): when all ports are taken, the
//     port group grows by sets of 8 ports (config.numPorts goes up);
//   - fixed allocation: an adapter beyond numPorts is refused with
//     InvalidDeviceSpec, "No free port is available in distributed port
//     group PG" (the vSphere Client's words).
//
// Ephemeral and late binding port groups are not counted.

import (
	"fmt"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// portsMu serializes a port check with the reconfigure or clone it allows.
var portsMu sync.Mutex

const portSetSize = 8

func portgroupByKey(key string) *simulator.DistributedVirtualPortgroup {
	for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
		if pg, ok := e.(*simulator.DistributedVirtualPortgroup); ok && pg.Key == key {
			return pg
		}
	}
	return nil
}

// adaptersOn counts the adapters on port group key of VMs other than
// except (templates included: their adapters hold ports too) and the
// hosts' VMkernel adapters on it.
func adaptersOn(key string, except *types.ManagedObjectReference) int {
	n := vmkernelPortsOn(key)
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || vm.Config == nil || (except != nil && vm.Self == *except) {
			continue
		}
		for _, d := range vm.Config.Hardware.Device {
			if b := dvsPort(d); b != nil && b.Port.PortgroupKey == key {
				n++
			}
		}
	}
	return n
}

// claimPorts checks that the port groups of touched (adapters added or
// moved) have a port for every adapter of final (the VM's adapters after
// the change; except: the VM itself, nil for a clone), growing elastic
// port groups. It returns the fault refusing the change, or nil.
func claimPorts(touched, final []types.BaseVirtualDevice, except *types.ManagedObjectReference, vmName string) types.BaseMethodFault {
	keys := map[string]bool{}
	for _, d := range touched {
		if b := dvsPort(d); b != nil && b.Port.PortgroupKey != "" {
			keys[b.Port.PortgroupKey] = true
		}
	}
	for key := range keys {
		pg := portgroupByKey(key)
		if pg == nil || pg.Config.Type != string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding) {
			continue
		}
		mine := 0
		for _, d := range final {
			if b := dvsPort(d); b != nil && b.Port.PortgroupKey == key {
				mine++
			}
		}
		need := adaptersOn(key, except) + mine
		if need <= int(pg.Config.NumPorts) {
			continue
		}
		if pg.Config.AutoExpand == nil || !*pg.Config.AutoExpand {
			msg := fmt.Sprintf("No free port is available in distributed port group %s: its %d ports are taken "+
				"(fixed port allocation; VM %s needs %d more).", pg.Name, pg.Config.NumPorts, vmName, need-int(pg.Config.NumPorts))
			return withMessage(&types.InvalidDeviceSpec{InvalidVmConfig: types.InvalidVmConfig{
				Property: "virtualDeviceSpec.device.backing.port"}}, "noFreePort", msg)
		}
		growPorts(pg, need)
	}
	return nil
}

// vmkernelPortsOn counts the hosts' VMkernel adapters on port group key.
func vmkernelPortsOn(key string) int {
	n := 0
	for _, e := range simulator.Map.All("HostSystem") {
		host, ok := e.(*simulator.HostSystem)
		if !ok || host.ConfigManager.NetworkSystem == nil {
			continue
		}
		if s := hostNetworkSystem(host); s != nil && s.NetworkInfo != nil { // network_uplinks.go
			for _, v := range s.NetworkInfo.Vnic {
				if p := v.Spec.DistributedVirtualPort; p != nil && p.PortgroupKey == key {
					n++
				}
			}
		}
	}
	return n
}

// claimVmkernelPort checks that port group key has a port for one more
// VMkernel adapter (of host), growing an elastic one; the refusal or nil.
func claimVmkernelPort(key, host string) types.BaseMethodFault {
	pg := portgroupByKey(key)
	if pg == nil || pg.Config.Type != string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding) {
		return nil
	}
	need := adaptersOn(key, nil) + 1
	if need <= int(pg.Config.NumPorts) {
		return nil
	}
	if pg.Config.AutoExpand == nil || !*pg.Config.AutoExpand {
		return withMessage(&types.InvalidArgument{InvalidProperty: "nic.distributedVirtualPort.portgroupKey"}, "noFreePort",
			fmt.Sprintf("No free port is available in distributed port group %s: its %d ports are taken (fixed port "+
				"allocation; a VMkernel adapter of host %s needs one).", pg.Name, pg.Config.NumPorts, host))
	}
	growPorts(pg, need)
	return nil
}

// growPorts grows an elastic port group by sets of 8 ports to need ports.
func growPorts(pg *simulator.DistributedVirtualPortgroup, need int) {
	n := pg.Config.NumPorts
	for int(n) < need {
		n += portSetSize
	}
	simulator.Map.WithLock(pg, func() {
		cfg := pg.Config
		keys := pgPortKeys(pg, int(n)) // dvs_portgroups.go: unique in the switch
		cfg.NumPorts = n
		simulator.Map.Update(pg, []types.PropertyChange{{Name: "config", Val: cfg}, {Name: "portKeys", Val: keys}})
	})
}
