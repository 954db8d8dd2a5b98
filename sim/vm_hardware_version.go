package main

// Virtual hardware versions, as vSphere keeps them:
//
//   - A VM's version (config.version, "vmx-N") is set when it is created
//     (CreateVM_Task's spec.version) and changed by UpgradeVM_Task only:
//     "This is used only while creating a new virtual machine, and can be
//     updated by invoking UpgradeVM_Task" (API reference,
//     VirtualMachineConfigSpec.version). ReconfigVM_Task and CloneVM_Task
//     ignore spec.version; a clone has its source's version (the stock
//     simulator gave every clone vmx-13 and applied spec.version on a
//     reconfigure).
//   - UpgradeVM_Task(version) on a powered-off VM (else InvalidPowerState;
//     a template: NotSupported) upgrades to version, or to the newest its
//     host's ESXi runs; a version string that is not "vmx-N" or newer than
//     the host runs is InvalidState, as is a host in maintenance mode; a VM
//     already at (or above) it is AlreadyUpgraded (the API reference's
//     faults).
//   - Dynamic DirectPath I/O needs hardware version 17 (vSphere 7.0's VMware
//     Host Client documentation, "Add a PCI Device to a Virtual Machine": "If
//     you want to add a dynamic PCI device to a virtual machine, verify that
//     the virtual hardware version is 17"): adding a
//     VirtualPCIPassthroughDynamicBackingInfo device to an older VM (a
//     reconfigure, a clone's spec.config) is DeviceUnsupportedForVmVersion.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const dynamicMinHWVersion = 17

// esxiHardware is the newest virtual hardware version each ESXi release
// runs (VMware KB 1003746, "Virtual machine hardware versions").
var esxiHardware = []struct {
	esxi    string
	version int
}{{"8.0.2", 21}, {"8.0.1", 20}, {"8.0.0", 20}, {"7.0.2", 19}, {"7.0.1", 18}, {"7.0.0", 17},
	{"6.7.2", 15}, {"6.7.0", 14}, {"6.5.0", 13}, {"6.0.0", 11}}

// hostMaxHardware is the newest hardware version host runs.
func hostMaxHardware(host *simulator.HostSystem) int {
	v := ""
	if host.Config != nil && host.Config.Product.Version != "" {
		v = host.Config.Product.Version
	} else if host.Summary.Config.Product != nil {
		v = host.Summary.Config.Product.Version
	}
	for _, e := range esxiHardware {
		if !versionLess(v, e.esxi) {
			return e.version
		}
	}
	return 0
}

// parseHWVersion reads "vmx-N" (0 and false when it is not that).
func parseHWVersion(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "vmx-"))
	if err != nil || !strings.HasPrefix(s, "vmx-") || n <= 0 {
		return 0, false
	}
	return n, true
}

// dynamicVersionFault refuses a Dynamic DirectPath device (change index i)
// on a VM of hardware version version below 17.
func dynamicVersionFault(index int, d types.BaseVirtualDevice, version, vmName string) types.BaseMethodFault {
	p, ok := d.(*types.VirtualPCIPassthrough)
	if !ok {
		return nil
	}
	if _, dynamic := p.Backing.(*types.VirtualPCIPassthroughDynamicBackingInfo); !dynamic {
		return nil
	}
	if n, ok := parseHWVersion(version); !ok || n >= dynamicMinHWVersion {
		return nil
	}
	f := &types.DeviceUnsupportedForVmVersion{
		InvalidDeviceSpec: types.InvalidDeviceSpec{
			InvalidVmConfig: types.InvalidVmConfig{Property: "virtualDeviceSpec.device.backing"},
			DeviceIndex:     int32(index),
		},
		CurrentVersion:  version,
		ExpectedVersion: fmt.Sprintf("vmx-%d", dynamicMinHWVersion),
	}
	return withMessage(f, "dynamicDirectPathVersion", fmt.Sprintf(
		"Dynamic DirectPath I/O device '%s' of VM %s needs virtual hardware version %d or later; the VM is %s "+
			"(upgrade it with UpgradeVM_Task).", deviceLabel(d), vmName, dynamicMinHWVersion, version))
}

// UpgradeVMTask implements VirtualMachine.UpgradeVM_Task.
func (h *vmHook) UpgradeVMTask(ctx *simulator.Context, req *types.UpgradeVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.UpgradeVM_TaskBody{Fault_: notFound(h.real)}
	}
	var ref types.ManagedObjectReference
	withVM(ctx, vm, func() {
		ref = simulator.CreateTask(vm, "upgradeVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			to, fault := upgradeTarget(vm, req.Version)
			if fault != nil {
				return nil, fault
			}
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.version", Val: to}})
			return nil, nil
		}).Run()
		setTaskFaultMessage(ref)
	})
	return &methods.UpgradeVM_TaskBody{Res: &types.UpgradeVM_TaskResponse{Returnval: ref}}
}

// upgradeTarget is the version vm (locked by the caller) upgrades to, or
// the refusal.
func upgradeTarget(vm *simulator.VirtualMachine, asked string) (string, types.BaseMethodFault) {
	if vm.Config.Template {
		return "", withMessage(&types.NotSupported{}, "upgradeTemplate", fmt.Sprintf(
			"The operation is not supported on the object. VM %s is a template (mark it as a virtual machine first).", vm.Name))
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		return "", withMessage(&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff,
			ExistingState: vm.Runtime.PowerState}, "upgradePower", fmt.Sprintf(
			"VM %s is %s: its virtual hardware is upgraded powered off.", vm.Name, vm.Runtime.PowerState))
	}
	host := vmHost(vm)
	if fault := hostAdmitsFault(host, "upgrade VM "+vm.Name); fault != nil { // host_state.go
		return "", fault
	}
	max := 0
	if host != nil {
		max = hostMaxHardware(host)
	}
	n, ok := max, true
	if asked != "" {
		n, ok = parseHWVersion(asked)
	}
	if !ok || n > max {
		return "", withMessage(&types.InvalidState{}, "upgradeVersion", fmt.Sprintf(
			"Invalid version %q for VM %s: its host runs virtual hardware up to vmx-%d.", asked, vm.Name, max))
	}
	if have, _ := parseHWVersion(vm.Config.Version); have >= n {
		return "", withMessage(&types.AlreadyUpgraded{}, "alreadyUpgraded", fmt.Sprintf(
			"VM %s is already %s (asked vmx-%d).", vm.Name, vm.Config.Version, n))
	}
	return fmt.Sprintf("vmx-%d", n), nil
}
