package main

// PVRDMA rules (vSphere Networking, "PVRDMA Support" and "Configure an ESXi
// Host for PVRDMA"):
//
// Power-on of a VM with a PVRDMA adapter (VirtualVmxnet3Vrdma on a
// distributed port) is refused with GenericVmConfigFault unless, for the
// adapter's switch, the VM's host
//   - has a VMkernel adapter on that switch tagged for PVRDMA: the host's
//     advanced option Net.PVRDMAVmknic names it;
//   - has the firewall ruleset "pvrdma" enabled;
//   - has at most one uplink on the switch (PVRDMA does not support NIC
//     teaming: the HCA must be the switch's only uplink).
//
// Adding a PVRDMA adapter (ReconfigVM_Task, CloneVM_Task's spec.config) to
// a VM of hardware version below 13 is refused with
// DeviceUnsupportedForVmVersion.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const pvrdmaMinHWVersion = 13

// memberPnics are the uplinks host has on switch s (from the switch's
// config.host backing).
func memberPnics(s *simulator.DistributedVirtualSwitch, host types.ManagedObjectReference) []string {
	cfg := dvsConfig(s)
	if cfg == nil {
		return nil
	}
	var out []string
	for _, m := range cfg.Host {
		if m.Config.Host == nil || *m.Config.Host != host {
			continue
		}
		if b, ok := m.Config.Backing.(*types.DistributedVirtualSwitchHostMemberPnicBacking); ok {
			for _, p := range b.PnicSpec {
				out = append(out, p.PnicDevice)
			}
		}
	}
	return out
}

// hostVnic is host's VMkernel adapter device ("vmk1"), or nil.
func hostVnic(host *simulator.HostSystem, device string) *types.HostVirtualNic {
	if host.Config == nil || host.Config.Network == nil {
		return nil
	}
	for i := range host.Config.Network.Vnic {
		if host.Config.Network.Vnic[i].Device == device {
			return &host.Config.Network.Vnic[i]
		}
	}
	return nil
}

// checkPVRDMA returns the fault refusing the power-on of vm on host because
// of a PVRDMA adapter, or nil.
func checkPVRDMA(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.BaseMethodFault {
	seen := map[string]bool{}
	for _, d := range vm.Config.Hardware.Device {
		if _, ok := d.(*types.VirtualVmxnet3Vrdma); !ok {
			continue
		}
		b := dvsPort(d)
		if b == nil || seen[b.Port.SwitchUuid] {
			continue
		}
		seen[b.Port.SwitchUuid] = true
		s := dvsByUUID(b.Port.SwitchUuid)
		if s == nil {
			continue // the stock power-on reports the missing switch
		}
		refuse := func(key, why string) types.BaseMethodFault {
			return powerOnFault(key, fmt.Sprintf(
				"Failed to start the virtual machine: module DevicePowerOn power on failed for PVRDMA adapter %s of VM %s "+
					"on distributed switch %s: host %s %s.", deviceLabel(d), vm.Name, s.Name, host.Name, why))
		}
		if pnics := memberPnics(s, host.Self); len(pnics) > 1 {
			return refuse("pvrdmaTeaming", fmt.Sprintf("has %d uplinks on the switch (%s); PVRDMA does not support NIC teaming, "+
				"the HCA must be the switch's only uplink", len(pnics), strings.Join(pnics, ", ")))
		}
		tag := hostOption(host, pvrdmaOption)
		if tag == "" {
			return refuse("pvrdmaUntagged", "has no VMkernel adapter tagged for PVRDMA (advanced option "+pvrdmaOption+" is empty)")
		}
		vnic := hostVnic(host, tag)
		if vnic == nil {
			return refuse("pvrdmaNoVnic", fmt.Sprintf("has no VMkernel adapter %s (named by %s)", tag, pvrdmaOption))
		}
		if p := vnic.Spec.DistributedVirtualPort; p == nil || p.SwitchUuid != s.Uuid {
			return refuse("pvrdmaVnicElsewhere", fmt.Sprintf("has its PVRDMA VMkernel adapter %s (%s) on another switch", tag, pvrdmaOption))
		}
		if !rulesetEnabled(host, pvrdmaRuleset) {
			return refuse("pvrdmaFirewall", "has the firewall ruleset "+pvrdmaRuleset+" disabled")
		}
	}
	return nil
}

// hwVersion is the number of a vmx-NN hardware version (0 if unknown).
func hwVersion(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(v, "vmx-"))
	return n
}

// pvrdmaVersionFault refuses device change index adding a PVRDMA adapter
// to a VM of hardware version version, or returns nil.
func pvrdmaVersionFault(index int, d types.BaseVirtualDevice, version, vmName string) types.BaseMethodFault {
	if _, ok := d.(*types.VirtualVmxnet3Vrdma); !ok {
		return nil
	}
	if n := hwVersion(version); n == 0 || n >= pvrdmaMinHWVersion {
		return nil
	}
	f := &types.DeviceUnsupportedForVmVersion{
		InvalidDeviceSpec: types.InvalidDeviceSpec{
			InvalidVmConfig: types.InvalidVmConfig{Property: "virtualDeviceSpec.device"},
			DeviceIndex:     int32(index),
		},
		CurrentVersion:  version,
		ExpectedVersion: fmt.Sprintf("vmx-%d", pvrdmaMinHWVersion),
	}
	return withMessage(f, "pvrdmaVersion", fmt.Sprintf(
		"The PVRDMA adapter of VM %s needs virtual hardware version %d or later; the VM is %s.", vmName, pvrdmaMinHWVersion, version))
}
