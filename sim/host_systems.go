package main

// Each host's HostPowerSystem and HostPciPassthruSystem (the stock
// simulator names one shared reference for each and registers neither), and
// the CPU/NUMA topology and power policies they and the VM rules
// (rules_tuning.go) read.
//
// HostPowerSystem.ConfigurePowerPolicy(key): the key must be one of
// capability.availablePolicy (InvalidArgument "key" otherwise); the policy
// becomes info.currentPolicy, host.config.powerSystemInfo.currentPolicy and
// hardware.cpuPowerManagementInfo.currentPolicy.
//
// HostPciPassthruSystem.UpdatePassthruConfig(config[]): checked whole
// before any change (HostConfigFault, the fault vSphere declares), then
// applied at once (as ESXi does for devices that rebind without a reboot):
//   - the id must be a passthrough-capable device of the host;
//   - passthrough is not switched off for a device in a powered-on VM;
//   - an SR-IOV physical function cannot be passed through itself while
//     SR-IOV is enabled on it;
//   - HostSriovConfig only for an SR-IOV capable PF; enabling needs 1 to
//     maxVirtualFunctionSupported virtual functions; disabling SR-IOV, or
//     fewer VFs than powered-on VMs' adapters hold, is refused.
// pciPassthruInfo mirrors host.config.pciPassthruInfo, whoever changes it
// (a registry handler follows the host's updates).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The lab hosts' processors: two sockets of 20 cores with two threads
// each (80 logical CPUs), one NUMA node per socket.
const (
	cpuPackages      = 2
	coresPerPackage  = 20
	threadsPerCore   = 2
	logicalCPUs      = cpuPackages * coresPerPackage * threadsPerCore
	threadsPerSocket = coresPerPackage * threadsPerCore
)

// powerPolicies are the policies an ESXi host offers, in ESXi's order.
var powerPolicies = []types.HostPowerPolicy{
	{Key: 1, Name: "High performance", ShortName: "static",
		Description: "Do not use any power management features."},
	{Key: 2, Name: "Balanced", ShortName: "dynamic",
		Description: "Reduce energy consumption with minimal performance compromise."},
	{Key: 3, Name: "Low power", ShortName: "low",
		Description: "Reduce energy consumption at the risk of lower performance."},
	{Key: 4, Name: "Custom", ShortName: "custom",
		Description: "User-defined power management policy."},
}

const defaultPowerPolicy = 2 // Balanced, ESXi's default

// applyHostTopology gives host its processors, NUMA nodes, memory and power
// policies. Call before the lab serves.
func applyHostTopology(host *simulator.HostSystem) {
	hw := host.Hardware
	hz := int64(host.Summary.Hardware.CpuMhz) * 1000000
	hw.CpuInfo = types.HostCpuInfo{NumCpuPackages: cpuPackages, NumCpuCores: cpuPackages * coresPerPackage,
		NumCpuThreads: logicalCPUs, Hz: hz}
	base := types.HostCpuPackage{Vendor: "intel", Hz: hz, BusHz: 100000000,
		Description: "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"}
	if len(hw.CpuPkg) > 0 {
		base = hw.CpuPkg[0]
		base.Hz = hz
	}
	hw.CpuPkg = nil
	for p := 0; p < cpuPackages; p++ {
		var threads []int16
		for t := p * threadsPerSocket; t < (p+1)*threadsPerSocket; t++ {
			threads = append(threads, int16(t))
		}
		pkg := base
		pkg.Index, pkg.ThreadId = int16(p), threads
		hw.CpuPkg = append(hw.CpuPkg, pkg)
	}
	// NUMA nodes (one per package) and memory: applyHostNUMA (host_numa.go), called after this.
	sum := host.Summary.Hardware
	sum.NumCpuPkgs, sum.NumCpuCores, sum.NumCpuThreads = cpuPackages, cpuPackages*coresPerPackage, logicalCPUs

	current := powerPolicies[defaultPowerPolicy-1]
	host.Config.PowerSystemCapability = &types.PowerSystemCapability{
		AvailablePolicy: append([]types.HostPowerPolicy(nil), powerPolicies...)}
	host.Config.PowerSystemInfo = &types.PowerSystemInfo{CurrentPolicy: current}
	hw.CpuPowerManagementInfo = &types.HostCpuPowerManagementInfo{CurrentPolicy: current.Name,
		HardwareSupport: "ACPI P-states, ACPI C-states"}
}

// hostNumaNodes and hostLogicalCPUs are what the affinity rules check against.
func hostNumaNodes(host *simulator.HostSystem) int {
	if host.Hardware == nil || host.Hardware.NumaInfo == nil {
		return 1
	}
	return int(host.Hardware.NumaInfo.NumNodes)
}

func hostLogicalCPUs(host *simulator.HostSystem) int {
	if host.Hardware == nil {
		return 1
	}
	return int(host.Hardware.CpuInfo.NumCpuThreads)
}

// LabHostPowerSystem is one host's HostPowerSystem.
type LabHostPowerSystem struct {
	mo.HostPowerSystem
	host types.ManagedObjectReference
}

// LabHostPciPassthruSystem is one host's HostPciPassthruSystem.
type LabHostPciPassthruSystem struct {
	mo.HostPciPassthruSystem
	lab  *Lab
	host types.ManagedObjectReference
}

// installHostSystems registers every host's power and passthrough systems
// under references of their own and points the host's configManager at
// them.
func (l *Lab) installHostSystems(hosts []*simulator.HostSystem) {
	l.passthruSystems = map[string]types.ManagedObjectReference{}
	for _, h := range hosts {
		ps := &LabHostPowerSystem{host: h.Self}
		ps.Self = types.ManagedObjectReference{Type: "HostPowerSystem", Value: "powerSystem-" + h.Self.Value}
		ps.Capability = *h.Config.PowerSystemCapability
		ps.Info = *h.Config.PowerSystemInfo
		simulator.Map.Put(ps)
		pps := &LabHostPciPassthruSystem{lab: l, host: h.Self}
		pps.Self = types.ManagedObjectReference{Type: "HostPciPassthruSystem", Value: "pciPassthruSystem-" + h.Self.Value}
		pps.PciPassthruInfo = append([]types.BaseHostPciPassthruInfo(nil), h.Config.PciPassthruInfo...)
		simulator.Map.Put(pps)
		psRef, ppsRef := ps.Self, pps.Self
		h.ConfigManager.PowerSystem, h.ConfigManager.PciPassthruSystem = &psRef, &ppsRef
		l.passthruSystems[h.Self.Value] = ppsRef
	}
	simulator.Map.AddHandler(&passthruMirror{lab: l})
}

// ConfigurePowerPolicy implements HostPowerSystem.ConfigurePowerPolicy.
func (s *LabHostPowerSystem) ConfigurePowerPolicy(ctx *simulator.Context, req *types.ConfigurePowerPolicy) soap.HasFault {
	host, ok := ctx.Map.Get(s.host).(*simulator.HostSystem)
	if !ok {
		return &methods.ConfigurePowerPolicyBody{Fault_: notFound(s.host)}
	}
	var chosen *types.HostPowerPolicy
	var keys []string
	for i, p := range s.Capability.AvailablePolicy {
		keys = append(keys, fmt.Sprintf("%d (%s)", p.Key, p.Name))
		if p.Key == req.Key {
			chosen = &s.Capability.AvailablePolicy[i]
		}
	}
	if chosen == nil {
		f := withMessage(&types.InvalidArgument{InvalidProperty: "key"}, "powerPolicyUnknown", fmt.Sprintf(
			"Host %s has no power policy with key %d (it offers %s).", host.Name, req.Key, strings.Join(keys, ", ")))
		return &methods.ConfigurePowerPolicyBody{Fault_: simulator.Fault(faultText(f), f)}
	}
	policy := *chosen
	ctx.Map.Update(s, []types.PropertyChange{{Name: "info.currentPolicy", Val: policy}})
	ctx.Map.WithLock(host, func() {
		ctx.Map.Update(host, []types.PropertyChange{
			{Name: "config.powerSystemInfo.currentPolicy", Val: policy},
			{Name: "hardware.cpuPowerManagementInfo.currentPolicy", Val: policy.Name},
		})
	})
	return &methods.ConfigurePowerPolicyBody{Res: &types.ConfigurePowerPolicyResponse{}}
}

// Refresh implements HostPciPassthruSystem.Refresh (the lab's state is
// always current).
func (s *LabHostPciPassthruSystem) Refresh(ctx *simulator.Context, req *types.Refresh) soap.HasFault {
	return &methods.RefreshBody{Res: &types.RefreshResponse{}}
}

// UpdatePassthruConfig implements HostPciPassthruSystem.UpdatePassthruConfig.
func (s *LabHostPciPassthruSystem) UpdatePassthruConfig(ctx *simulator.Context, req *types.UpdatePassthruConfig) soap.HasFault {
	host, ok := simulator.Map.Get(s.host).(*simulator.HostSystem)
	if !ok {
		return &methods.UpdatePassthruConfigBody{Fault_: notFound(s.host)}
	}
	l := s.lab
	l.rulesMu.Lock() // atomic with power-on checks of the devices' users
	defer l.rulesMu.Unlock()
	var fault types.BaseMethodFault
	simulator.Map.WithLock(host, func() {
		infos := append([]types.BaseHostPciPassthruInfo(nil), host.Config.PciPassthruInfo...)
		for _, bc := range req.Config {
			if fault = applyPassthruConfig(host, infos, bc); fault != nil {
				return
			}
		}
		if fault != nil {
			return
		}
		pending := false
		for _, bi := range infos {
			if s, ok := bi.(*types.HostSriovInfo); ok && sriovPending(s) { // host_state.go
				pending = true
			}
		}
		simulator.Map.Update(host, []types.PropertyChange{{Name: "config.pciPassthruInfo", Val: infos},
			{Name: "summary.rebootRequired", Val: pending}})
	})
	if fault != nil {
		return &methods.UpdatePassthruConfigBody{Fault_: simulator.Fault(faultText(fault), fault)}
	}
	return &methods.UpdatePassthruConfigBody{Res: &types.UpdatePassthruConfigResponse{}}
}

// hostConfigFault is how UpdatePassthruConfig refuses a configuration.
func hostConfigFault(key, msg string) types.BaseMethodFault {
	return withMessage(&types.HostConfigFault{}, key, msg)
}

// applyPassthruConfig checks one entry of an UpdatePassthruConfig call and
// applies it to infos (a copy of host's list), or returns the refusal.
func applyPassthruConfig(host *simulator.HostSystem, infos []types.BaseHostPciPassthruInfo, bc types.BaseHostPciPassthruConfig) types.BaseMethodFault {
	c := bc.GetHostPciPassthruConfig()
	idx := -1
	for i, bi := range infos {
		if strings.EqualFold(bi.GetHostPciPassthruInfo().Id, c.Id) {
			idx = i
		}
	}
	if idx < 0 {
		return hostConfigFault("passthruUnknownDevice", fmt.Sprintf(
			"Host %s has no passthrough-capable PCI device %s.", host.Name, c.Id))
	}
	id := infos[idx].GetHostPciPassthruInfo().Id
	if sc, ok := bc.(*types.HostSriovConfig); ok {
		s, ok := infos[idx].(*types.HostSriovInfo)
		if !ok || !s.SriovCapable {
			return hostConfigFault("sriovNotCapable", fmt.Sprintf(
				"PCI device %s of host %s is not an SR-IOV capable physical function.", id, host.Name))
		}
		next := *s
		if sc.SriovEnabled {
			if sc.NumVirtualFunction < 1 || sc.NumVirtualFunction > s.MaxVirtualFunctionSupported {
				return hostConfigFault("sriovVFCount", fmt.Sprintf(
					"Physical function %s of host %s supports 1 to %d virtual functions; %d were asked for.",
					id, host.Name, s.MaxVirtualFunctionSupported, sc.NumVirtualFunction))
			}
			if sc.PassthruEnabled {
				return hostConfigFault("sriovPassthru", fmt.Sprintf(
					"Physical function %s of host %s cannot be passed through while SR-IOV is enabled on it.", id, host.Name))
			}
			next.NumVirtualFunctionRequested = sc.NumVirtualFunction
		} else {
			next.NumVirtualFunctionRequested = 0
		}
		if used, holders := vfsInUse(host.Self, id, nil); used > int(next.NumVirtualFunctionRequested) {
			return hostConfigFault("sriovInUse", fmt.Sprintf(
				"%d virtual function(s) of %s on host %s are in use by powered-on VMs %s; power them off first "+
					"(asked for %d).", used, id, host.Name, strings.Join(holders, ", "), next.NumVirtualFunctionRequested))
		}
		// The request waits for the host's next boot (host_state.go): numVirtualFunction and
		// sriovActive stay as they are until then.
		next.SriovEnabled = sc.SriovEnabled
		infos[idx] = &next
		return nil
	}
	p := infos[idx].GetHostPciPassthruInfo()
	if !p.PassthruCapable {
		return hostConfigFault("passthruNotCapable", fmt.Sprintf(
			"PCI device %s of host %s is not passthrough capable.", id, host.Name))
	}
	if s, ok := infos[idx].(*types.HostSriovInfo); ok {
		if c.PassthruEnabled && s.SriovEnabled {
			return hostConfigFault("sriovPassthru", fmt.Sprintf(
				"Physical function %s of host %s cannot be passed through while SR-IOV is enabled on it.", id, host.Name))
		}
		next := *s
		next.PassthruEnabled, next.PassthruActive = c.PassthruEnabled, c.PassthruEnabled
		infos[idx] = &next
		return nil
	}
	if !c.PassthruEnabled {
		if holder := passthroughHolder(host.Self, id, nil); holder != "" {
			return hostConfigFault("passthruInUse", fmt.Sprintf(
				"Device %s of host %s is in use by powered-on VM %s; passthrough stays enabled.", id, host.Name, holder))
		}
	}
	next := *p
	next.PassthruEnabled, next.PassthruActive = c.PassthruEnabled, c.PassthruEnabled
	infos[idx] = &next
	return nil
}

// passthruMirror keeps each HostPciPassthruSystem's pciPassthruInfo equal
// to its host's config.pciPassthruInfo (a simulator.RegisterObject).
type passthruMirror struct{ lab *Lab }

func (m *passthruMirror) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "LabPassthruMirror", Value: "lab-passthru-mirror"}
}
func (m *passthruMirror) PutObject(mo.Reference)                    {}
func (m *passthruMirror) RemoveObject(types.ManagedObjectReference) {}

func (m *passthruMirror) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	h, ok := obj.(*mo.HostSystem)
	if !ok {
		return
	}
	for _, c := range changes {
		if c.Name != "config.pciPassthruInfo" && c.Name != "config" {
			continue
		}
		ref, ok := m.lab.passthruSystems[h.Self.Value]
		if !ok || h.Config == nil {
			return
		}
		if s, ok := simulator.Map.Get(ref).(*LabHostPciPassthruSystem); ok {
			infos := append([]types.BaseHostPciPassthruInfo(nil), h.Config.PciPassthruInfo...)
			simulator.Map.Update(s, []types.PropertyChange{{Name: "pciPassthruInfo", Val: infos}})
		}
		return
	}
}

// sortedKeys lists a map's keys in order (for messages).
func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
