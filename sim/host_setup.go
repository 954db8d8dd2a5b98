package main

// Per-host software state the stock simulator shares between hosts: the
// ESXi version, the advanced options (OptionManager) and the firewall.
//
//   - Every host runs ESXi 7.0.0 except vhpc-esx-01, which runs 6.7.0
//     (config.product and summary.config.product): a distributed switch
//     must be created at a version all its members support
//     (network_dvs_rules.go).
//   - Each host's OptionManager has its own settings, with
//     Net.PVRDMAVmknic empty: no VMkernel adapter is tagged for PVRDMA.
//   - Each host's firewall has its own rulesets (the stock ones share one
//     list between hosts), the "pvrdma" ruleset disabled; the firewall
//     system's firewallInfo and the host's config.firewall are the same
//     information (EnableRuleset/DisableRuleset keep both, firewall.go).

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	pvrdmaOption  = "Net.PVRDMAVmknic"
	pvrdmaRuleset = "pvrdma"
	oldHostIndex  = 1 // vhpc-esx-01 runs an older ESXi
)

// hostProduct is what host number index runs.
func hostProduct(index int) types.AboutInfo {
	p := types.AboutInfo{
		Name: "VMware ESXi", Vendor: "VMware, Inc.", LocaleVersion: "INTL", LocaleBuild: "000",
		OsType: "vmnix-x86", ProductLineId: "embeddedEsx", ApiType: "HostAgent",
		LicenseProductName: "VMware ESX Server",
	}
	if index == oldHostIndex {
		p.Version, p.Build, p.ApiVersion, p.LicenseProductVersion = "6.7.0", "14320388", "6.7.3", "6.0"
	} else {
		p.Version, p.Build, p.ApiVersion, p.LicenseProductVersion = "7.0.0", "15843807", "7.0.0.0", "7.0"
	}
	p.FullName = "VMware ESXi " + p.Version + " build-" + p.Build
	return p
}

// applyHostServices gives host number index its own version, options and
// firewall. Call before the lab serves.
func applyHostServices(host *simulator.HostSystem, index int) {
	product := hostProduct(index)
	host.Config.Product = product
	p := product
	host.Summary.Config.Product = &p

	if om, ok := simulator.Map.Get(*host.ConfigManager.AdvancedOption).(*simulator.OptionManager); ok {
		var settings []types.BaseOptionValue
		for _, o := range om.Setting {
			v := *o.GetOptionValue()
			settings = append(settings, &v)
		}
		settings = append(settings, &types.OptionValue{Key: pvrdmaOption, Value: ""})
		om.Setting = settings
	}

	if fs, ok := simulator.Map.Get(*host.ConfigManager.FirewallSystem).(*simulator.HostFirewallSystem); ok && fs.FirewallInfo != nil {
		info := copyFirewall(fs.FirewallInfo)
		for i := range info.Ruleset {
			if info.Ruleset[i].Key == pvrdmaRuleset {
				info.Ruleset[i].Enabled = false
			}
		}
		fs.FirewallInfo = info
		host.Config.Firewall = copyFirewall(info)
	}
}

// copyFirewall is a deep copy of the rulesets (what EnableRuleset changes).
func copyFirewall(in *types.HostFirewallInfo) *types.HostFirewallInfo {
	out := *in
	out.Ruleset = make([]types.HostFirewallRuleset, len(in.Ruleset))
	for i, rs := range in.Ruleset {
		rs.Rule = append([]types.HostFirewallRule(nil), rs.Rule...)
		if rs.AllowedHosts != nil {
			ah := *rs.AllowedHosts
			rs.AllowedHosts = &ah
		}
		out.Ruleset[i] = rs
	}
	return &out
}

// hostOption is host's advanced option key ("" when unset).
func hostOption(host *simulator.HostSystem, key string) string {
	om, ok := simulator.Map.Get(*host.ConfigManager.AdvancedOption).(*simulator.OptionManager)
	if !ok {
		return ""
	}
	value := ""
	simulator.Map.WithLock(om, func() {
		for _, o := range om.Setting {
			if v := o.GetOptionValue(); v.Key == key && v.Value != nil {
				value, _ = v.Value.(string)
			}
		}
	})
	return value
}

// rulesetEnabled tells whether host's firewall ruleset key is enabled.
func rulesetEnabled(host *simulator.HostSystem, key string) bool {
	fs, ok := simulator.Map.Get(*host.ConfigManager.FirewallSystem).(*simulator.HostFirewallSystem)
	if !ok {
		return false
	}
	enabled := false
	simulator.Map.WithLock(fs, func() {
		if fs.FirewallInfo == nil {
			return
		}
		for _, rs := range fs.FirewallInfo.Ruleset {
			if rs.Key == key {
				enabled = rs.Enabled
			}
		}
	})
	return enabled
}
