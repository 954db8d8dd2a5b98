package main

// What third-party clients (govc, Ansible's community.vmware, pyVmomi
// scripts) read from vCenter without checking, filled in once the
// inventory is built (buildInventory): each host's configManager objects
// (host_managers.go), capability and network configuration (host_facts.go),
// every VM's Tools configuration (vm_tools.go), the clusters'
// configuration, totals and root pools (cluster_config.go), vSphere's
// device keys and labels (device_keys.go), and tasks and events as
// vCenter reports them (task_entities.go, events_query.go).

import "github.com/vmware/govmomi/simulator"

func (l *Lab) fillForClients(hosts []*simulator.HostSystem) {
	numberInventoryDevices() // before the lab gives the adapters MAC addresses and slots
	l.installHostManagers(hosts)
	for _, h := range hosts {
		setHostCapability(h)
		describeOptions(h)
		if ns := hostNetworkSystem(h); ns != nil {
			syncNetworkSystem(ns, h)
		}
	}
	installToolsConfig()
	installClusterFacts()
	installTaskEntities()
}
