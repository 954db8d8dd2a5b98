package main

// A DirectPath I/O device names its host: the backing's systemId is the
// host's hardware.systemInfo.uuid, from QueryConfigTarget on that host. A VM
// moved powered off to another host keeps the old host's systemId, and
// ESXi refuses to power it on there until the device is chosen again on
// the new host ("The systemId does not match the current system or the
// deviceId, and the vendorId does not match the device currently at
// 3b:0.0.", ESXi's power-on error, as PowerCLI users meet it). The lab
// refuses such a power-on with GenericVmConfigFault; a reconfigure that
// edits the backing with the destination's config-target entry fixes it.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// systemIdFault refuses powering on vm on host with DirectPath device d
// chosen on another host, or nil.
func systemIdFault(vm *simulator.VirtualMachine, host *simulator.HostSystem, d types.BaseVirtualDevice) types.BaseMethodFault {
	p, ok := d.(*types.VirtualPCIPassthrough)
	if !ok {
		return nil
	}
	b, ok := p.Backing.(*types.VirtualPCIPassthroughDeviceBackingInfo)
	if !ok || strings.EqualFold(b.SystemId, host.Hardware.SystemInfo.Uuid) {
		return nil
	}
	bus, slot, fn := parsePCIId(b.Id)
	return powerOnFault("passthroughSystemId", fmt.Sprintf(
		"The systemId does not match the current system or the deviceId, and the vendorId does not match the "+
			"device currently at %x:%x.%x. Device %s of VM %s was chosen on another host (systemId %s); host %s "+
			"is %s: choose the device again on this host (its QueryConfigTarget entry).",
		bus, slot, fn, b.Id, vm.Name, b.SystemId, host.Name, host.Hardware.SystemInfo.Uuid))
}
