package main

// HostFirewallSystem.EnableRuleset / DisableRuleset: the stock methods
// change only the firewall system's firewallInfo, in place (no property
// update); the lab changes the host's own rulesets (host_setup.go) and
// shows them in both firewallInfo and the host's config.firewall, through
// the property collector. NotFound for an unknown ruleset, as ESXi answers.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// firewallHook receives the routed methods of one HostFirewallSystem.
type firewallHook struct{ labHook }

// firewallHost is the host whose firewall system is ref.
func firewallHost(ref types.ManagedObjectReference) *simulator.HostSystem {
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok && h.ConfigManager.FirewallSystem != nil && *h.ConfigManager.FirewallSystem == ref {
			return h
		}
	}
	return nil
}

// setRuleset enables or disables ruleset id; false when there is none.
func (h *firewallHook) setRuleset(ctx *simulator.Context, id string, enabled bool) (bool, bool) {
	fs, ok := h.target(ctx).(*simulator.HostFirewallSystem)
	if !ok {
		return false, false
	}
	host := firewallHost(fs.Self)
	found := false
	simulator.Map.WithLock(fs, func() {
		if fs.FirewallInfo == nil {
			return
		}
		info := copyFirewall(fs.FirewallInfo)
		for i := range info.Ruleset {
			if info.Ruleset[i].Key == id {
				info.Ruleset[i].Enabled, found = enabled, true
			}
		}
		if !found {
			return
		}
		simulator.Map.Update(fs, []types.PropertyChange{{Name: "firewallInfo", Val: info}})
		if host != nil {
			simulator.Map.WithLock(host, func() {
				simulator.Map.Update(host, []types.PropertyChange{{Name: "config.firewall", Val: copyFirewall(info)}})
			})
		}
	})
	return true, found
}

func rulesetNotFound(id string) *soap.Fault {
	return simulator.Fault("no firewall ruleset "+id, &types.NotFound{})
}

// EnableRuleset enables a firewall ruleset of the host.
func (h *firewallHook) EnableRuleset(ctx *simulator.Context, req *types.EnableRuleset) soap.HasFault {
	exists, found := h.setRuleset(ctx, req.Id, true)
	switch {
	case !exists:
		return &methods.EnableRulesetBody{Fault_: notFound(h.real)}
	case !found:
		return &methods.EnableRulesetBody{Fault_: rulesetNotFound(req.Id)}
	}
	return &methods.EnableRulesetBody{Res: &types.EnableRulesetResponse{}}
}

// DisableRuleset disables a firewall ruleset of the host.
func (h *firewallHook) DisableRuleset(ctx *simulator.Context, req *types.DisableRuleset) soap.HasFault {
	exists, found := h.setRuleset(ctx, req.Id, false)
	switch {
	case !exists:
		return &methods.DisableRulesetBody{Fault_: notFound(h.real)}
	case !found:
		return &methods.DisableRulesetBody{Fault_: rulesetNotFound(req.Id)}
	}
	return &methods.DisableRulesetBody{Res: &types.DisableRulesetResponse{}}
}
