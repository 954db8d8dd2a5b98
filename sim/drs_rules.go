package main

// DRS VM-VM rules of a cluster (ClusterComputeResource.configurationEx.rule),
// as vCenter keeps and enforces them:
//
//   - ReconfigureComputeResource_Task with spec.rulesSpec adds, edits and
//     removes rules (ClusterAntiAffinityRuleSpec: keep the VMs on different
//     hosts; ClusterAffinityRuleSpec: keep them together; other rule kinds
//     are stored as given). An added rule gets a key and a ruleUuid from
//     vCenter; an edit names its rule by info.key (the key and uuid stay); a
//     remove by removeKey. Refused with InvalidArgument (the whole
//     reconfigure, nothing applied): an add without a name or with the name
//     of an existing rule, an edit or remove of an unknown key, a VM that is
//     not in the cluster. The stock simulator matched edits by name and
//     dropped the key and uuid on edit.
//   - Each VM-VM rule's inCompliance and status (green, red; gray when the
//     rule is disabled) say whether its powered-on VMs are where the rule
//     wants them; they change as VMs power on and off.
//   - With DRS enabled (the lab's clusters), powering on a VM of an enabled
//     rule where it would break it (an anti-affinity partner powered on on
//     that host; an affinity partner powered on on another host) fails with
//     RuleViolation, "This operation would violate a virtual machine
//     affinity/anti-affinity rule." (vCenter's text).
//   - A VM that is removed from the inventory leaves the rules that list it.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// clusterHook receives the routed methods of one cluster.
type clusterHook struct{ labHook }

// ReconfigureComputeResourceTask applies spec.rulesSpec the way vCenter
// does and leaves the rest of the spec (groups, overrides) to the stock
// implementation.
func (h *clusterHook) ReconfigureComputeResourceTask(ctx *simulator.Context, req *types.ReconfigureComputeResource_Task) soap.HasFault {
	c, ok := h.target(ctx).(*simulator.ClusterComputeResource)
	if !ok {
		return &methods.ReconfigureComputeResource_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = c.Self
	spec, ok := req.Spec.(*types.ClusterConfigSpecEx)
	if !ok || len(spec.RulesSpec) == 0 {
		res := c.ReconfigureComputeResourceTask(req)
		if _, fault := taskOutcome(res); fault == nil && ok {
			simulator.Map.WithLock(c, func() { publishClusterConfig(c, spec, req.Modify) }) // cluster_config.go
		}
		return res
	}
	l := h.lab
	l.rulesMu.Lock()
	defer l.rulesMu.Unlock()
	var res soap.HasFault
	simulator.Map.WithLock(c, func() {
		rules, fault := l.applyRuleSpecs(c, spec.RulesSpec)
		if fault != nil {
			res = &methods.ReconfigureComputeResource_TaskBody{Res: &types.ReconfigureComputeResource_TaskResponse{
				Returnval: failedTask(c, "reconfigureCluster", fault)}}
			return
		}
		rest := *spec
		rest.RulesSpec = nil
		res = c.ReconfigureComputeResourceTask(&types.ReconfigureComputeResource_Task{This: c.Self, Spec: &rest, Modify: req.Modify})
		if _, fault := taskOutcome(res); fault == nil {
			setClusterRules(c, rules)
			publishClusterConfig(c, spec, req.Modify) // cluster_config.go
		}
	})
	return res
}

func ruleFault(property, msg string) types.BaseMethodFault {
	return withMessage(&types.InvalidArgument{InvalidProperty: property}, "drsRule", msg)
}

// ruleVMs is the VM list of a VM-VM rule (nil for other kinds).
func ruleVMs(r types.BaseClusterRuleInfo) []types.ManagedObjectReference {
	switch v := r.(type) {
	case *types.ClusterAntiAffinityRuleSpec:
		return v.Vm
	case *types.ClusterAffinityRuleSpec:
		return v.Vm
	}
	return nil
}

func setRuleVMs(r types.BaseClusterRuleInfo, vms []types.ManagedObjectReference) {
	switch v := r.(type) {
	case *types.ClusterAntiAffinityRuleSpec:
		v.Vm = vms
	case *types.ClusterAffinityRuleSpec:
		v.Vm = vms
	}
}

// copyRule is a copy of r that the lab may change.
func copyRule(r types.BaseClusterRuleInfo) types.BaseClusterRuleInfo {
	switch v := r.(type) {
	case *types.ClusterAntiAffinityRuleSpec:
		c := *v
		c.Vm = append([]types.ManagedObjectReference(nil), v.Vm...)
		return &c
	case *types.ClusterAffinityRuleSpec:
		c := *v
		c.Vm = append([]types.ManagedObjectReference(nil), v.Vm...)
		return &c
	}
	return r
}

func clusterRules(c *simulator.ClusterComputeResource) []types.BaseClusterRuleInfo {
	if cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
		return cfg.Rule
	}
	return nil
}

// keyOf reads an ArrayUpdateSpec removeKey however the client typed it.
func keyOf(v types.AnyType) (int32, bool) {
	switch k := v.(type) {
	case int32:
		return k, true
	case int64:
		return int32(k), true
	case int:
		return int32(k), true
	case int16:
		return int32(k), true
	case string:
		n, err := strconv.Atoi(k)
		return int32(n), err == nil
	}
	return 0, false
}

// applyRuleSpecs returns c's rules after specs, or the fault refusing them
// all. c is locked by the caller.
func (l *Lab) applyRuleSpecs(c *simulator.ClusterComputeResource, specs []types.ClusterRuleSpec) ([]types.BaseClusterRuleInfo, types.BaseMethodFault) {
	var rules []types.BaseClusterRuleInfo
	nextKey := int32(0)
	for _, r := range clusterRules(c) {
		rules = append(rules, copyRule(r))
		if k := r.GetClusterRuleInfo().Key; k > nextKey {
			nextKey = k
		}
	}
	find := func(key int32) int {
		for i, r := range rules {
			if r.GetClusterRuleInfo().Key == key {
				return i
			}
		}
		return -1
	}
	hosts := map[types.ManagedObjectReference]bool{}
	for _, h := range c.Host {
		hosts[h] = true
	}
	checkVMs := func(r types.BaseClusterRuleInfo) types.BaseMethodFault {
		for _, ref := range ruleVMs(r) {
			vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
			if !ok || vm.Runtime.Host == nil || !hosts[*vm.Runtime.Host] {
				name := ref.Value
				if ok {
					name = vm.Name
				}
				return ruleFault("rulesSpec.info.vm", fmt.Sprintf("VM %s of rule %q is not in cluster %s.",
					name, r.GetClusterRuleInfo().Name, c.Name))
			}
		}
		return nil
	}
	for _, s := range specs {
		switch s.Operation {
		case types.ArrayUpdateOperationAdd:
			if s.Info == nil || s.Info.GetClusterRuleInfo().Name == "" {
				return nil, ruleFault("rulesSpec.info.name", "A rule needs a name.")
			}
			info := copyRule(s.Info)
			ri := info.GetClusterRuleInfo()
			for _, r := range rules {
				if r.GetClusterRuleInfo().Name == ri.Name {
					return nil, ruleFault("rulesSpec.info.name", fmt.Sprintf("Cluster %s already has a rule named %q.", c.Name, ri.Name))
				}
			}
			if fault := checkVMs(info); fault != nil {
				return nil, fault
			}
			nextKey++
			ri.Key, ri.RuleUuid = nextKey, uuid.New().String()
			if ri.Enabled == nil {
				ri.Enabled = types.NewBool(true)
			}
			ri.UserCreated = types.NewBool(true)
			rules = append(rules, info)
		case types.ArrayUpdateOperationEdit:
			if s.Info == nil {
				return nil, ruleFault("rulesSpec.info", "An edit needs the rule.")
			}
			i := find(s.Info.GetClusterRuleInfo().Key)
			if i < 0 {
				return nil, ruleFault("rulesSpec.info.key", fmt.Sprintf("Cluster %s has no rule with key %d.", c.Name, s.Info.GetClusterRuleInfo().Key))
			}
			info := copyRule(s.Info)
			if fault := checkVMs(info); fault != nil {
				return nil, fault
			}
			old, ri := rules[i].GetClusterRuleInfo(), info.GetClusterRuleInfo()
			ri.RuleUuid, ri.UserCreated = old.RuleUuid, old.UserCreated
			if ri.Name == "" {
				ri.Name = old.Name
			}
			if ri.Enabled == nil {
				ri.Enabled = old.Enabled
			}
			rules[i] = info
		case types.ArrayUpdateOperationRemove:
			key, ok := keyOf(s.RemoveKey)
			i := find(key)
			if !ok || i < 0 {
				return nil, ruleFault("rulesSpec.removeKey", fmt.Sprintf("Cluster %s has no rule with key %v.", c.Name, s.RemoveKey))
			}
			rules = append(rules[:i], rules[i+1:]...)
		default:
			return nil, ruleFault("rulesSpec.operation", fmt.Sprintf("Unknown operation %q.", s.Operation))
		}
	}
	for _, r := range rules {
		setCompliance(r)
	}
	return rules, nil
}

// setClusterRules stores rules in c's configurationEx (through the
// property collector).
func setClusterRules(c *simulator.ClusterComputeResource, rules []types.BaseClusterRuleInfo) {
	cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if !ok {
		return
	}
	next := *cfg
	next.Rule = rules
	simulator.Map.Update(c, []types.PropertyChange{{Name: "configurationEx", Val: &next}})
}

// ruleHosts are the hosts of a rule's powered-on VMs (VM name -> host),
// leaving out except.
func ruleHosts(r types.BaseClusterRuleInfo, except *types.ManagedObjectReference) map[string]types.ManagedObjectReference {
	out := map[string]types.ManagedObjectReference{}
	for _, ref := range ruleVMs(r) {
		if except != nil && ref == *except {
			continue
		}
		vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok || vm.Runtime.Host == nil || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			continue
		}
		out[vm.Name] = *vm.Runtime.Host
	}
	return out
}

// setCompliance sets a VM-VM rule's inCompliance and status from where its
// powered-on VMs run.
func setCompliance(r types.BaseClusterRuleInfo) {
	if ruleVMs(r) == nil {
		return
	}
	ri := r.GetClusterRuleInfo()
	ok := true
	hosts := ruleHosts(r, nil)
	seen := map[types.ManagedObjectReference]bool{}
	for _, h := range hosts {
		seen[h] = true
	}
	switch r.(type) {
	case *types.ClusterAntiAffinityRuleSpec:
		ok = len(seen) == len(hosts)
	case *types.ClusterAffinityRuleSpec:
		ok = len(seen) <= 1
	}
	ri.InCompliance = types.NewBool(ok)
	switch {
	case ri.Enabled != nil && !*ri.Enabled:
		ri.Status = types.ManagedEntityStatusGray
	case ok:
		ri.Status = types.ManagedEntityStatusGreen
	default:
		ri.Status = types.ManagedEntityStatusRed
	}
}

// vmClusters are the clusters whose rules list vm.
func vmRuleClusters(vm types.ManagedObjectReference) []*simulator.ClusterComputeResource {
	var out []*simulator.ClusterComputeResource
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c, ok := e.(*simulator.ClusterComputeResource)
		if !ok {
			continue
		}
		for _, r := range clusterRules(c) {
			if containsRef(ruleVMs(r), vm) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func containsRef(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

// drsEnabled tells whether c has DRS on.
func drsEnabled(c *simulator.ClusterComputeResource) bool {
	cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	return ok && cfg.DrsConfig.Enabled != nil && *cfg.DrsConfig.Enabled
}

// checkVMRules refuses powering on vm on host where it would break an
// enabled VM-VM rule of a DRS cluster.
func (l *Lab) checkVMRules(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.BaseMethodFault {
	for _, c := range vmRuleClusters(vm.Self) {
		if !drsEnabled(c) {
			continue
		}
		for _, r := range clusterRules(c) {
			ri := r.GetClusterRuleInfo()
			if (ri.Enabled != nil && !*ri.Enabled) || !containsRef(ruleVMs(r), vm.Self) {
				continue
			}
			var clash []string
			for name, h := range ruleHosts(r, &vm.Self) {
				_, anti := r.(*types.ClusterAntiAffinityRuleSpec)
				if (anti && h == host.Self) || (!anti && h != host.Self) {
					clash = append(clash, name)
				}
			}
			if len(clash) == 0 {
				continue
			}
			sort.Strings(clash)
			kind, where := "anti-affinity", "on host "+host.Name
			if _, anti := r.(*types.ClusterAntiAffinityRuleSpec); !anti {
				kind, where = "affinity", "on another host than "+host.Name
			}
			msg := fmt.Sprintf("This operation would violate a virtual machine affinity/anti-affinity rule. "+
				"VM %s is in %s rule %q of cluster %s with %s, powered on %s.",
				vm.Name, kind, ri.Name, c.Name, strings.Join(clash, ", "), where)
			f := &types.RuleViolation{Host: &host.Self, Rule: r}
			return withMessage(f, "ruleViolation", msg)
		}
	}
	return nil
}

// refreshRules recomputes the compliance of the rules that list vm.
func refreshRules(vm types.ManagedObjectReference) {
	for _, c := range vmRuleClusters(vm) {
		var rules []types.BaseClusterRuleInfo
		for _, r := range clusterRules(c) {
			r = copyRule(r)
			setCompliance(r)
			rules = append(rules, r)
		}
		setClusterRules(c, rules)
	}
}

// dropFromRules takes a removed VM out of every rule that lists it.
func dropFromRules(vm types.ManagedObjectReference) {
	for _, c := range vmRuleClusters(vm) {
		var rules []types.BaseClusterRuleInfo
		for _, r := range clusterRules(c) {
			r = copyRule(r)
			if vms := ruleVMs(r); vms != nil {
				var kept []types.ManagedObjectReference
				for _, ref := range vms {
					if ref != vm {
						kept = append(kept, ref)
					}
				}
				setRuleVMs(r, kept)
				setCompliance(r)
			}
			rules = append(rules, r)
		}
		setClusterRules(c, rules)
	}
}
