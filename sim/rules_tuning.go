package main

// vSphere's rules for a VM's boot and scheduling settings, checked with the
// device rules (rules.go) on ReconfigVM_Task and CloneVM_Task's spec.config
// (on the clone's host), and at power-on.
//
// Reconfigure / clone:
//   - secure boot (bootOptions.efiSecureBootEnabled) needs EFI firmware:
//     InvalidVmConfig "bootOptions.efiSecureBootEnabled"; changing secure
//     boot or firmware of a running VM: InvalidPowerState;
//   - scheduling affinity (cpuAffinity, the VMX's sched.cpu.affinity): only
//     the host's logical CPUs (hardware.cpuInfo.numCpuThreads):
//     InvalidArgument "cpuAffinity.affinitySet"; changing it while the VM
//     runs: InvalidPowerState;
//   - extraConfig numa.nodeAffinity: a comma-separated list of the host's
//     NUMA nodes (hardware.numaInfo.numNodes): InvalidArgument;
//   - numCoresPerSocket must divide the vCPUs (InvalidArgument
//     "numCoresPerSocket"), and changes only while the VM is off
//     (InvalidPowerState).
// Power-on: the affinity and NUMA nodes must exist on the VM's host (it may
// have moved): GenericVmConfigFault.
//
// Applying a spec (reconfigure): boot options change only in the fields the
// spec gives, and extraConfig keys are set as vSphere sets them (a key given
// again takes the new value, an empty value removes it); the stock
// simulator replaces the boot options and appends extraConfig entries.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const numaAffinityKey = "numa.nodeAffinity"

// vSphere's smallest VM: 4 MB of memory (BIOS), 96 MB for a VM that boots with EFI to power on.
const (
	minMemoryMB    = 4
	minEFIMemoryMB = 96
)

func isOn(b *bool) bool { return b != nil && *b }

func invalidPowerState(vm *simulator.VirtualMachine, key, what string) types.BaseMethodFault {
	return withMessage(&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff,
		ExistingState: vm.Runtime.PowerState}, key, fmt.Sprintf(
		"VM %s is powered on: power it off to change %s.", vm.Name, what))
}

// extraValue is the value of key in opts ("" and false when absent).
func extraValue(opts []types.BaseOptionValue, key string) (string, bool) {
	val, found := "", false
	for _, o := range opts {
		if v := o.GetOptionValue(); v.Key == key {
			s, _ := v.Value.(string)
			val, found = s, true
		}
	}
	return val, found
}

// parseNodes reads a numa.nodeAffinity value ("0,1"); empty means none.
func parseNodes(text string) ([]int, error) {
	var out []int
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	for _, part := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a NUMA node number", strings.TrimSpace(part))
		}
		out = append(out, n)
	}
	return out, nil
}

// checkTuning returns the fault refusing spec's boot and scheduling
// settings for base (target: the running VM, or nil for a clone) on host.
func checkTuning(host *simulator.HostSystem, base, target *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec, name string) types.BaseMethodFault {
	cur := base.Config
	running := target != nil && target.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn

	firmware := cur.Firmware
	if spec.Firmware != "" {
		firmware = spec.Firmware
	}
	secure := cur.BootOptions != nil && isOn(cur.BootOptions.EfiSecureBootEnabled)
	secureAfter := secure
	if spec.BootOptions != nil && spec.BootOptions.EfiSecureBootEnabled != nil {
		secureAfter = *spec.BootOptions.EfiSecureBootEnabled
	}
	if running && (secureAfter != secure || firmware != cur.Firmware) {
		return invalidPowerState(target, "secureBootRunning", "its firmware or secure boot")
	}
	if secureAfter && firmware != string(types.GuestOsDescriptorFirmwareTypeEfi) {
		return withMessage(&types.InvalidVmConfig{Property: "bootOptions.efiSecureBootEnabled"}, "secureBootBios",
			fmt.Sprintf("Secure boot needs EFI firmware; VM %s boots with %s firmware.", name, firmware))
	}

	if a := spec.CpuAffinity; a != nil {
		if running && !sameInts(a.AffinitySet, affinityOf(cur)) {
			return invalidPowerState(target, "affinityRunning", "its scheduling affinity")
		}
		if n := hostLogicalCPUs(host); n > 0 {
			for _, cpu := range a.AffinitySet {
				if cpu < 0 || int(cpu) >= n {
					return withMessage(&types.InvalidArgument{InvalidProperty: "cpuAffinity.affinitySet"}, "affinityCPU",
						fmt.Sprintf("Scheduling affinity of VM %s names logical CPU %d; host %s has %d (0-%d).",
							name, cpu, host.Name, n, n-1))
				}
			}
		}
	}

	if text, ok := extraValue(spec.ExtraConfig, numaAffinityKey); ok {
		nodes, err := parseNodes(text)
		if err != nil {
			return withMessage(&types.InvalidArgument{InvalidProperty: "extraConfig[\"" + numaAffinityKey + "\"]"},
				"numaSyntax", fmt.Sprintf("%s of VM %s: %v.", numaAffinityKey, name, err))
		}
		n := hostNumaNodes(host)
		for _, node := range nodes {
			if node >= n {
				return withMessage(&types.InvalidArgument{InvalidProperty: "extraConfig[\"" + numaAffinityKey + "\"]"},
					"numaNode", fmt.Sprintf("%s of VM %s names NUMA node %d; host %s has %d (0-%d).",
						numaAffinityKey, name, node, host.Name, n, n-1))
			}
		}
	}

	// vSphere: "The memory size must be a multiple of 4 MB", at least 4 MB (a 0 in the spec reads
	// as not given here: the SOAP decoding cannot tell them apart).
	if spec.MemoryMB != 0 && (spec.MemoryMB < minMemoryMB || spec.MemoryMB%4 != 0) {
		return withMessage(&types.InvalidArgument{InvalidProperty: "memoryMB"}, "memorySize",
			fmt.Sprintf("VM %s: memory of %d MB: the memory size must be a multiple of 4 MB and at least %d MB.",
				name, spec.MemoryMB, minMemoryMB))
	}

	if spec.NumCoresPerSocket != 0 || spec.NumCPUs != 0 {
		cpus, cores := cur.Hardware.NumCPU, cur.Hardware.NumCoresPerSocket
		if spec.NumCPUs != 0 {
			cpus = spec.NumCPUs
		}
		if spec.NumCoresPerSocket != 0 {
			if running && spec.NumCoresPerSocket != cores {
				return invalidPowerState(target, "coresRunning", "its cores per socket")
			}
			cores = spec.NumCoresPerSocket
		}
		if cores > 0 && cpus%cores != 0 {
			return withMessage(&types.InvalidArgument{InvalidProperty: "numCoresPerSocket"}, "coresPerSocket",
				fmt.Sprintf("VM %s: %d vCPUs cannot be split into sockets of %d cores (cores per socket must divide the vCPUs).",
					name, cpus, cores))
		}
	}
	return nil
}

func affinityOf(c *types.VirtualMachineConfigInfo) []int32 {
	if c.CpuAffinity == nil {
		return nil
	}
	return c.CpuAffinity.AffinitySet
}

func sameInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tuningPowerOnFault refuses powering on vm on host when its affinity or
// NUMA nodes are not there.
func tuningPowerOnFault(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.BaseMethodFault {
	if vm.Config.Firmware == string(types.GuestOsDescriptorFirmwareTypeEfi) && vm.Config.Hardware.MemoryMB < minEFIMemoryMB {
		return powerOnFault("efiMemory", fmt.Sprintf(
			"VM %s boots with EFI and has %d MB of memory; EFI needs at least %d MB to power on.",
			vm.Name, vm.Config.Hardware.MemoryMB, minEFIMemoryMB))
	}
	n := hostLogicalCPUs(host)
	for _, cpu := range affinityOf(vm.Config) {
		if int(cpu) >= n {
			return powerOnFault("affinityCPU", fmt.Sprintf(
				"Scheduling affinity of VM %s names logical CPU %d; host %s has %d (0-%d).", vm.Name, cpu, host.Name, n, n-1))
		}
	}
	if text, ok := extraValue(vm.Config.ExtraConfig, numaAffinityKey); ok {
		nodes, err := parseNodes(text)
		if err != nil {
			return powerOnFault("numaSyntax", fmt.Sprintf("%s of VM %s: %v.", numaAffinityKey, vm.Name, err))
		}
		for _, node := range nodes {
			if m := hostNumaNodes(host); node >= m {
				return powerOnFault("numaNode", fmt.Sprintf("%s of VM %s names NUMA node %d; host %s has %d (0-%d).",
					numaAffinityKey, vm.Name, node, host.Name, m, m-1))
			}
		}
	}
	return nil
}

// prepareConfigSpec adjusts spec for the stock reconfigure of vm (locked by
// the caller): boot options merged with the VM's, plain extraConfig keys
// taken out. The returned function sets the VM's extraConfig once the stock
// reconfigure has succeeded.
func prepareConfigSpec(vm *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) func() {
	if b := spec.BootOptions; b != nil && vm.Config.BootOptions != nil {
		merged := *vm.Config.BootOptions
		if b.BootDelay != 0 {
			merged.BootDelay = b.BootDelay
		}
		for _, f := range []struct{ src, dst **bool }{
			{&b.EnterBIOSSetup, &merged.EnterBIOSSetup}, {&b.EfiSecureBootEnabled, &merged.EfiSecureBootEnabled},
			{&b.BootRetryEnabled, &merged.BootRetryEnabled},
		} {
			if *f.src != nil {
				*f.dst = *f.src
			}
		}
		if b.BootRetryDelay != 0 {
			merged.BootRetryDelay = b.BootRetryDelay
		}
		if b.BootOrder != nil {
			merged.BootOrder = b.BootOrder
		}
		if b.NetworkBootProtocol != "" {
			merged.NetworkBootProtocol = b.NetworkBootProtocol
		}
		spec.BootOptions = &merged
	}
	var plain, aliased []types.BaseOptionValue
	for _, o := range spec.ExtraConfig {
		key := o.GetOptionValue().Key
		if strings.HasPrefix(key, "SET.") || key == "ip0" {
			aliased = append(aliased, o)
		} else {
			plain = append(plain, o)
		}
	}
	if len(plain) == 0 {
		return func() {}
	}
	spec.ExtraConfig = aliased
	return func() {
		merged := mergeExtraConfig(vm.Config.ExtraConfig, plain)
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.extraConfig", Val: merged}})
	}
}
