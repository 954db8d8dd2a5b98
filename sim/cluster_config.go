package main

// A cluster's configuration and totals as vCenter keeps them (API
// reference: ClusterComputeResource, ClusterConfigInfoEx,
// ComputeResourceSummary, ResourcePool):
//
//   - configurationEx has the HA, DRS, DPM and vSAN settings vCenter always
//     fills (HA off with its default admission control and VM monitoring
//     settings, DRS as configured, DPM off, vSAN off); the stock simulator
//     left vsanConfigInfo unset (Ansible's vmware_cluster_info crashed on
//     it) and HA empty.
//   - ReconfigureComputeResource_Task with modify true applies
//     spec.drsConfig, dasConfig, dpmConfig and vsanConfig field by field (an
//     unset field keeps its value); with modify false the four sections
//     become the spec's, unset fields and left-out sections taking the
//     defaults above (vCenter: "the configuration of the cluster matches
//     the specification exactly"). The stock one ignored them. Group and override changes (done
//     in place by the stock code) reach the property collector.
//   - configuration (the deprecated ClusterConfigInfo, still read by
//     clients such as Ansible's vmware_cluster_info with schema vsphere)
//     mirrors configurationEx: dasConfig, dasVmConfig, drsConfig,
//     drsVmConfig, rule.
//   - A destroyed VM leaves every VM group (ClusterVmGroup.vm) and loses its
//     DRS and HA overrides (drs_rules.go takes it off the rules); the stock
//     groups kept it, so every later reader of the groups met
//     ManagedObjectNotFound.
//   - summary: numHosts, numEffectiveHosts, totalCpu (MHz: each host's
//     cores times their MHz), totalMemory (bytes), numCpuCores,
//     numCpuThreads, effectiveCpu (MHz), effectiveMemory (MB) are the sums
//     over the connected hosts (the stock summary added one core's MHz and
//     one thread per host, and was computed before the lab gave the hosts
//     their hardware). The lab keeps no capacity for the hypervisor:
//     effective equals total.
//   - The root resource pool's config (reservation and limit of CPU in MHz
//     and memory in MB, its own reference as entity) and runtime
//     (maxUsage, unreservedForPool, unreservedForVm) are the cluster's
//     effective capacity; the stock root pool carried a stand-alone ESXi's
//     figures and its ha-root-pool reference.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// clusterWatcher mirrors configurationEx into configuration and takes
// destroyed VMs out of the clusters' groups and overrides.
type clusterWatcher struct {
	mo.ExtensibleManagedObject
}

// installClusterFacts fills every cluster's configuration, totals and root
// pool, and keeps them as vCenter does from then on.
func installClusterFacts() {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c, ok := e.(*simulator.ClusterComputeResource)
		if !ok {
			continue
		}
		if cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
			fillClusterDefaults(cfg)
			c.Configuration = legacyConfig(cfg)
		}
		sumClusterHosts(c)
	}
	w := &clusterWatcher{}
	w.Self = types.ManagedObjectReference{Type: "LabClusterWatcher", Value: "lab-cluster-watcher"}
	simulator.Map.AddHandler(w)
}

// fillClusterDefaults sets what vCenter always reports and cfg lacks.
func fillClusterDefaults(cfg *types.ClusterConfigInfoEx) {
	das := &cfg.DasConfig
	if das.Enabled == nil {
		das.Enabled = types.NewBool(false)
	}
	if das.VmMonitoring == "" {
		das.VmMonitoring = string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled)
	}
	if das.HostMonitoring == "" {
		das.HostMonitoring = string(types.ClusterDasConfigInfoServiceStateEnabled)
	}
	if das.VmComponentProtecting == "" {
		das.VmComponentProtecting = string(types.ClusterDasConfigInfoServiceStateDisabled)
	}
	if das.AdmissionControlEnabled == nil {
		das.AdmissionControlEnabled = types.NewBool(true)
	}
	if das.AdmissionControlPolicy == nil {
		if das.FailoverLevel == 0 {
			das.FailoverLevel = 1
		}
		das.AdmissionControlPolicy = &types.ClusterFailoverLevelAdmissionControlPolicy{FailoverLevel: das.FailoverLevel}
	}
	if das.DefaultVmSettings == nil {
		das.DefaultVmSettings = &types.ClusterDasVmSettings{
			RestartPriority: string(types.ClusterDasVmSettingsRestartPriorityMedium), IsolationResponse: "none",
			VmToolsMonitoringSettings: &types.ClusterVmToolsMonitoringSettings{Enabled: types.NewBool(false),
				VmMonitoring:    string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
				ClusterSettings: types.NewBool(true), FailureInterval: 30, MinUpTime: 120, MaxFailures: 3,
				MaxFailureWindow: 3600}}
	}
	if das.HBDatastoreCandidatePolicy == "" {
		das.HBDatastoreCandidatePolicy = string(types.ClusterDasConfigInfoHBDatastoreCandidateAllFeasibleDsWithUserPreference)
	}
	drs := &cfg.DrsConfig
	if drs.Enabled == nil {
		drs.Enabled = types.NewBool(false)
	}
	if drs.EnableVmBehaviorOverrides == nil {
		drs.EnableVmBehaviorOverrides = types.NewBool(true)
	}
	if drs.DefaultVmBehavior == "" {
		drs.DefaultVmBehavior = types.DrsBehaviorFullyAutomated
	}
	if drs.VmotionRate == 0 {
		drs.VmotionRate = 3
	}
	dpm := types.ClusterDpmConfigInfo{}
	if cfg.DpmConfigInfo != nil {
		dpm = *cfg.DpmConfigInfo
	}
	if dpm.Enabled == nil {
		dpm.Enabled = types.NewBool(false)
	}
	if dpm.DefaultDpmBehavior == "" {
		dpm.DefaultDpmBehavior = types.DpmBehaviorAutomated
	}
	if dpm.HostPowerActionRate == 0 {
		dpm.HostPowerActionRate = 3
	}
	cfg.DpmConfigInfo = &dpm
	vsan := types.VsanClusterConfigInfo{}
	if cfg.VsanConfigInfo != nil {
		vsan = *cfg.VsanConfigInfo
	}
	if vsan.Enabled == nil {
		vsan.Enabled = types.NewBool(false)
	}
	if vsan.DefaultConfig == nil {
		vsan.DefaultConfig = &types.VsanClusterConfigInfoHostDefaultInfo{AutoClaimStorage: types.NewBool(false)}
	}
	cfg.VsanConfigInfo = &vsan
}

// legacyConfig is configuration: the part of configurationEx that the
// deprecated ClusterConfigInfo has.
func legacyConfig(cfg *types.ClusterConfigInfoEx) types.ClusterConfigInfo {
	return types.ClusterConfigInfo{DasConfig: cfg.DasConfig, DasVmConfig: cfg.DasVmConfig, DrsConfig: cfg.DrsConfig,
		DrsVmConfig: cfg.DrsVmConfig, Rule: cfg.Rule}
}

// publishClusterConfig hands c's configurationEx (changed in place) to the
// property collector, after applying spec's HA/DRS/DPM/vSAN settings:
// merged into the current ones when modify, else replacing them (see
// replaceClusterSpec).
func publishClusterConfig(c *simulator.ClusterComputeResource, spec *types.ClusterConfigSpecEx, modify bool) {
	cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if !ok {
		return
	}
	next := *cfg
	switch {
	case spec == nil:
	case modify:
		mergeClusterSpec(&next, spec)
	default:
		replaceClusterSpec(&next, spec)
	}
	simulator.Map.Update(c, []types.PropertyChange{{Name: "configurationEx", Val: &next}})
}

// replaceClusterSpec is ReconfigureComputeResource_Task with modify false:
// vCenter reverts the configuration to its defaults and applies the spec,
// so each HA, DRS, DPM and vSAN section becomes the spec's (unset fields,
// and sections the spec leaves out, take the defaults).
func replaceClusterSpec(cfg *types.ClusterConfigInfoEx, spec *types.ClusterConfigSpecEx) {
	cfg.DasConfig, cfg.DrsConfig = types.ClusterDasConfigInfo{}, types.ClusterDrsConfigInfo{}
	cfg.DpmConfigInfo, cfg.VsanConfigInfo = nil, nil
	if d := spec.DasConfig; d != nil {
		cfg.DasConfig = *d
	}
	if d := spec.DrsConfig; d != nil {
		cfg.DrsConfig = *d
	}
	if d := spec.DpmConfig; d != nil {
		v := *d
		cfg.DpmConfigInfo = &v
	}
	if d := spec.VsanConfig; d != nil {
		v := *d
		cfg.VsanConfigInfo = &v
	}
	fillClusterDefaults(cfg)
}

// mergeClusterSpec applies the set fields of spec's HA, DRS, DPM and vSAN
// settings to cfg.
func mergeClusterSpec(cfg *types.ClusterConfigInfoEx, spec *types.ClusterConfigSpecEx) {
	if d := spec.DrsConfig; d != nil {
		mergeDrs(&cfg.DrsConfig, d)
	}
	if d := spec.DasConfig; d != nil {
		mergeDas(&cfg.DasConfig, d)
	}
	if d := spec.DpmConfig; d != nil && cfg.DpmConfigInfo != nil {
		dpm := *cfg.DpmConfigInfo
		if d.Enabled != nil {
			dpm.Enabled = d.Enabled
		}
		if d.DefaultDpmBehavior != "" {
			dpm.DefaultDpmBehavior = d.DefaultDpmBehavior
		}
		if d.HostPowerActionRate != 0 {
			dpm.HostPowerActionRate = d.HostPowerActionRate
		}
		cfg.DpmConfigInfo = &dpm
	}
	if d := spec.VsanConfig; d != nil && cfg.VsanConfigInfo != nil {
		vsan := *cfg.VsanConfigInfo
		if d.Enabled != nil {
			vsan.Enabled = d.Enabled
		}
		if d.DefaultConfig != nil {
			vsan.DefaultConfig = d.DefaultConfig
		}
		cfg.VsanConfigInfo = &vsan
	}
}

func mergeDrs(drs, d *types.ClusterDrsConfigInfo) {
	if d.Enabled != nil {
		drs.Enabled = d.Enabled
	}
	if d.EnableVmBehaviorOverrides != nil {
		drs.EnableVmBehaviorOverrides = d.EnableVmBehaviorOverrides
	}
	if d.DefaultVmBehavior != "" {
		drs.DefaultVmBehavior = d.DefaultVmBehavior
	}
	if d.VmotionRate != 0 {
		drs.VmotionRate = d.VmotionRate
	}
	if d.Option != nil {
		drs.Option = d.Option
	}
}

func mergeDas(das, d *types.ClusterDasConfigInfo) {
	if d.Enabled != nil {
		das.Enabled = d.Enabled
	}
	if d.VmMonitoring != "" {
		das.VmMonitoring = d.VmMonitoring
	}
	if d.HostMonitoring != "" {
		das.HostMonitoring = d.HostMonitoring
	}
	if d.VmComponentProtecting != "" {
		das.VmComponentProtecting = d.VmComponentProtecting
	}
	if d.HBDatastoreCandidatePolicy != "" {
		das.HBDatastoreCandidatePolicy = d.HBDatastoreCandidatePolicy
	}
	if d.HeartbeatDatastore != nil {
		das.HeartbeatDatastore = d.HeartbeatDatastore
	}
	if d.AdmissionControlEnabled != nil {
		das.AdmissionControlEnabled = d.AdmissionControlEnabled
	}
	if d.AdmissionControlPolicy != nil {
		das.AdmissionControlPolicy = d.AdmissionControlPolicy
	}
	if d.FailoverLevel != 0 {
		das.FailoverLevel = d.FailoverLevel
	}
	if d.DefaultVmSettings != nil {
		das.DefaultVmSettings = d.DefaultVmSettings
	}
	if d.Option != nil {
		das.Option = d.Option
	}
}

func (w *clusterWatcher) PutObject(mo.Reference) {}

// UpdateObject mirrors a cluster's new configurationEx into configuration.
func (w *clusterWatcher) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	if o.Reference().Type != "ClusterComputeResource" {
		return
	}
	// The registry hands handlers the embedded mo object: find the cluster.
	c, ok := simulator.Map.Get(o.Reference()).(*simulator.ClusterComputeResource)
	if !ok {
		return
	}
	for _, ch := range changes {
		if cfg, ok := ch.Val.(*types.ClusterConfigInfoEx); ok && ch.Name == "configurationEx" {
			simulator.Map.Update(c, []types.PropertyChange{{Name: "configuration", Val: legacyConfig(cfg)}})
		}
	}
}

// RemoveObject takes a destroyed VM out of every cluster's VM groups and
// overrides.
func (w *clusterWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c, ok := e.(*simulator.ClusterComputeResource)
		if !ok {
			continue
		}
		simulator.Map.WithLock(c, func() {
			cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
			if !ok || !clusterMentions(cfg, ref) {
				return
			}
			next := *cfg
			next.Group = nil
			for _, g := range cfg.Group {
				if vg, ok := g.(*types.ClusterVmGroup); ok && refsHas(vg.Vm, ref) {
					cp := *vg
					cp.Vm = refsWithout(vg.Vm, ref)
					g = &cp
				}
				next.Group = append(next.Group, g)
			}
			next.DrsVmConfig, next.DasVmConfig = nil, nil
			for _, v := range cfg.DrsVmConfig {
				if v.Key != ref {
					next.DrsVmConfig = append(next.DrsVmConfig, v)
				}
			}
			for _, v := range cfg.DasVmConfig {
				if v.Key != ref {
					next.DasVmConfig = append(next.DasVmConfig, v)
				}
			}
			simulator.Map.Update(c, []types.PropertyChange{{Name: "configurationEx", Val: &next}})
		})
	}
}

// clusterMentions tells whether a group or override of cfg names vm.
func clusterMentions(cfg *types.ClusterConfigInfoEx, vm types.ManagedObjectReference) bool {
	for _, g := range cfg.Group {
		if vg, ok := g.(*types.ClusterVmGroup); ok && refsHas(vg.Vm, vm) {
			return true
		}
	}
	for _, v := range cfg.DrsVmConfig {
		if v.Key == vm {
			return true
		}
	}
	for _, v := range cfg.DasVmConfig {
		if v.Key == vm {
			return true
		}
	}
	return false
}

// sumClusterHosts sets c's totals and its root pool's capacity from its
// connected hosts.
func sumClusterHosts(c *simulator.ClusterComputeResource) {
	s, ok := c.Summary.(*types.ClusterComputeResourceSummary)
	if !ok {
		return
	}
	var sum types.ComputeResourceSummary
	for _, ref := range c.Host {
		h, ok := simulator.Map.Get(ref).(*simulator.HostSystem)
		if !ok || h.Summary.Hardware == nil {
			continue
		}
		sum.NumHosts++
		if h.Runtime.ConnectionState != "" && h.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
			continue
		}
		hw := h.Summary.Hardware
		sum.NumEffectiveHosts++
		sum.TotalCpu += hw.CpuMhz * int32(hw.NumCpuCores)
		sum.TotalMemory += hw.MemorySize
		sum.NumCpuCores += hw.NumCpuCores
		sum.NumCpuThreads += hw.NumCpuThreads
	}
	sum.EffectiveCpu = sum.TotalCpu
	sum.EffectiveMemory = sum.TotalMemory / (1 << 20)
	sum.OverallStatus = s.OverallStatus
	s.ComputeResourceSummary = sum
	if c.ResourcePool == nil {
		return
	}
	pool, ok := simulator.Map.Get(*c.ResourcePool).(*simulator.ResourcePool)
	if !ok {
		return
	}
	cpu, memMB := int64(sum.EffectiveCpu), sum.EffectiveMemory
	self := pool.Self
	pool.Config.Entity = &self
	pool.Config.CpuAllocation.Reservation, pool.Config.CpuAllocation.Limit = &cpu, &cpu
	pool.Config.MemoryAllocation.Reservation, pool.Config.MemoryAllocation.Limit = &memMB, &memMB
	pool.Runtime.Cpu = types.ResourcePoolResourceUsage{MaxUsage: cpu, UnreservedForPool: cpu, UnreservedForVm: cpu}
	mem := sum.TotalMemory
	pool.Runtime.Memory = types.ResourcePoolResourceUsage{MaxUsage: mem, UnreservedForPool: mem, UnreservedForVm: mem}
	if ps, ok := pool.Summary.(*types.ResourcePoolSummary); ok {
		ps.Config = pool.Config
		ps.Runtime = pool.Runtime
	}
}

// GetResourceUsage (vSphere 6.0+) answers the cluster's capacity and what
// its powered-on VMs take: CPU capacity in MHz and memory in MB as in the
// summary, memory used the powered-on VMs' configured memory (the lab
// models no CPU load: 0 MHz used), storage its hosts' datastores.
func (h *clusterHook) GetResourceUsage(ctx *simulator.Context, req *types.GetResourceUsage) soap.HasFault {
	c, ok := h.target(ctx).(*simulator.ClusterComputeResource)
	if !ok {
		return &methods.GetResourceUsageBody{Fault_: notFound(h.real)}
	}
	var out types.ClusterResourceUsageSummary
	simulator.Map.WithLock(c, func() {
		s := c.Summary.GetComputeResourceSummary()
		out.CpuCapacityMHz, out.MemCapacityMB = s.EffectiveCpu, int32(s.EffectiveMemory)
		seen := map[types.ManagedObjectReference]bool{}
		for _, ref := range c.Host {
			host, ok := simulator.Map.Get(ref).(*simulator.HostSystem)
			if !ok {
				continue
			}
			for _, dsRef := range host.Datastore {
				if ds, ok := simulator.Map.Get(dsRef).(*simulator.Datastore); ok && !seen[dsRef] {
					seen[dsRef] = true
					out.StorageCapacityMB += ds.Summary.Capacity >> 20
					out.StorageUsedMB += (ds.Summary.Capacity - ds.Summary.FreeSpace) >> 20
				}
			}
			for _, vmRef := range host.Vm {
				vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
				if ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Config != nil {
					out.MemUsedMB += vm.Config.Hardware.MemoryMB
				}
			}
		}
	})
	return &methods.GetResourceUsageBody{Res: &types.GetResourceUsageResponse{Returnval: out}}
}
