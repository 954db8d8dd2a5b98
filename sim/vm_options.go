package main

// Advanced options (extraConfig) that ESXi checks at power-on.
//
// 1 GB pages: sched.mem.lpage.enable1GPage = "TRUE" backs guest memory with
// 1 GB pages; "a virtual machine with 1GB pages enabled must have full
// memory reservation. Otherwise, the VM will not be able to power on"
// (vSphere Resource Management, "Backing Guest vRAM with 1GB Pages"). The
// lab refuses such a power-on with GenericVmConfigFault. Options the lab
// stores without a rule: numa.nodeAffinity, pciPassthru.allowP2P,
// pciPassthru.RelaxACSforP2P.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const hugePages1G = "sched.mem.lpage.enable1GPage"

// extraConfigValue is vm's advanced option key ("" if unset).
func extraConfigValue(vm *simulator.VirtualMachine, key string) string {
	for _, o := range vm.Config.ExtraConfig {
		if ov := o.GetOptionValue(); ov != nil && ov.Key == key {
			return fmt.Sprint(ov.Value)
		}
	}
	return ""
}

// checkVMOptions refuses powering on vm when an advanced option needs what
// the VM lacks.
func checkVMOptions(vm *simulator.VirtualMachine) types.BaseMethodFault {
	if strings.EqualFold(extraConfigValue(vm, hugePages1G), "true") {
		if mem := vmMemory(vm); !mem.fullyReserved() {
			return powerOnFault("hugePages1G", fmt.Sprintf(
				"VM %s has 1 GB pages enabled (%s = TRUE), which needs all guest memory reserved: "+
					"memory reservation (sched.mem.min) should be equal to memsize(%d); it has %d MB reserved.",
				vm.Name, hugePages1G, mem.sizeMB, mem.reservation))
		}
	}
	return nil
}
