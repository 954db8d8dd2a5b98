package main

// The lab's vSphere rules (SPEC section 5), checked before the actions they
// guard. The hooks (hooks.go) call these with l.rulesMu held, so a check and
// the action it allows are atomic with respect to other rule-checked
// actions (e.g. two VMs claiming the same passthrough device).
//
// Planned: power-on refused for a VM with a passthrough or vGPU device
// without full memory reservation; a passthrough device powered on in only
// one VM at a time; ReconfigVM refusing unknown vGPU profiles or SR-IOV
// without a free VF.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// checkPowerOn returns the fault that refuses powering on vm, or nil.
// vm is locked by the caller.
func (l *Lab) checkPowerOn(vm *simulator.VirtualMachine, req *types.PowerOnVM_Task) types.BaseMethodFault {
	return nil
}

// checkConfigSpec returns the fault that refuses applying spec, or nil.
// base is the VM whose configuration spec modifies; target is the VM being
// reconfigured (locked by the caller), or nil when spec is the config of a
// clone of base that does not exist yet.
func (l *Lab) checkConfigSpec(base, target *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) types.BaseMethodFault {
	return nil
}
