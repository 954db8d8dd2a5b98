package main

// ESXi's refusals to remove standard networking that adapters still use:
// RemovePortGroup fails with ResourceInUse "if there are virtual network
// adapters associated with it", RemoveVirtualSwitch "if there are virtual
// network adapters associated with the virtual switch". Adapters are the
// host's VMkernel adapters (config.network.vnic[].portgroup) and the
// network adapters of the host's VMs (powered on or not) on the port group.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// portGroupUsers names the adapters on port group pg of host (whose
// network system s the caller holds).
func portGroupUsers(s *simulator.HostNetworkSystem, host *simulator.HostSystem, pg string) []string {
	var users []string
	var vnics []types.HostVirtualNic
	if s.NetworkInfo != nil {
		vnics = append(vnics, s.NetworkInfo.Vnic...)
	}
	if host.Config != nil && host.Config.Network != nil && len(vnics) == 0 {
		vnics = host.Config.Network.Vnic // the stock network system does not list them
	}
	for _, v := range vnics {
		if v.Portgroup == pg {
			users = append(users, "VMkernel adapter "+v.Device)
		}
	}
	for _, ref := range host.Vm {
		vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok || vm.Config == nil {
			continue
		}
		for _, d := range vm.Config.Hardware.Device {
			nic, ok := d.(types.BaseVirtualEthernetCard)
			if !ok {
				continue
			}
			if b, ok := nic.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok && b.DeviceName == pg {
				users = append(users, "VM "+vm.Name)
				break
			}
		}
	}
	return users
}

// inUseFault refuses removing what users hold.
func inUseFault(host *simulator.HostSystem, what string, users []string) *soap.Fault {
	msg := fmt.Sprintf("The resource '%s' is in use on host %s: %s", what, host.Name, strings.Join(users, ", "))
	return simulator.Fault(msg, withMessage(&types.ResourceInUse{Type: "Network", Name: what}, "resourceInUse", msg))
}

// switchUsers names the adapters on every port group of switch name.
func switchUsers(s *simulator.HostNetworkSystem, host *simulator.HostSystem, name string) []string {
	var users []string
	if s.NetworkInfo == nil {
		return nil
	}
	for _, pg := range s.NetworkInfo.Portgroup {
		if pg.Spec.VswitchName == name {
			users = append(users, portGroupUsers(s, host, pg.Spec.Name)...)
		}
	}
	return users
}
