package main

// Physical NICs as uplinks, and what host.config.network shows of them.
//
// A physical NIC is the uplink of at most one switch of its host: one
// standard switch (its spec.bridge) or one distributed switch (the host's
// member backing pnicSpec). AddVirtualSwitch refuses a NIC in use with
// ResourceInUse ("The resource 'vmnic4' is in use."); CreateDVS_Task and
// ReconfigureDvs_Task refuse a member NIC in use with
// DvsOperationBulkFault whose hostFault is that ResourceInUse (vCenter's
// "Cannot complete a vSphere Distributed Switch operation for one or more
// host members"). A NIC the host does not have is NotFound.
//
// The host's network configuration is one piece of information, shown the
// same in the network system's networkInfo and in host.config.network:
// standard switches with their uplinks (pnic keys), MTU and spec, port
// groups, VMkernel adapters (vnic) and the host's part of each distributed
// switch it is a member of (proxySwitch: the switch, its uplinks).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const pnicKeyPrefix = "key-vim.host.PhysicalNic-"

// hostNetworkSystem is host's network system.
func hostNetworkSystem(host *simulator.HostSystem) *simulator.HostNetworkSystem {
	if host.ConfigManager.NetworkSystem == nil {
		return nil
	}
	s, _ := simulator.Map.Get(*host.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
	return s
}

// bridgeNics are the physical NICs a standard switch spec bridges to.
func bridgeNics(b types.BaseHostVirtualSwitchBridge) []string {
	switch br := b.(type) {
	case *types.HostVirtualSwitchBondBridge:
		return append([]string(nil), br.NicDevice...)
	case *types.HostVirtualSwitchSimpleBridge:
		if br.NicDevice != "" {
			return []string{br.NicDevice}
		}
	}
	return nil
}

// vswitchNics are the uplinks of a standard switch entry.
func vswitchNics(vs types.HostVirtualSwitch) []string {
	var out []string
	for _, k := range vs.Pnic {
		out = append(out, strings.TrimPrefix(k, pnicKeyPrefix))
	}
	if len(out) == 0 && vs.Spec.Bridge != nil {
		out = bridgeNics(vs.Spec.Bridge)
	}
	return out
}

// hostHasPnic tells whether host has physical NIC name.
func hostHasPnic(host *simulator.HostSystem, name string) bool {
	if host.Config == nil || host.Config.Network == nil {
		return false
	}
	for _, p := range host.Config.Network.Pnic {
		if p.Device == name {
			return true
		}
	}
	return false
}

func hostPnicNames(host *simulator.HostSystem) string {
	var names []string
	if host.Config != nil && host.Config.Network != nil {
		for _, p := range host.Config.Network.Pnic {
			names = append(names, p.Device)
		}
	}
	return strings.Join(names, ", ")
}

// pnicHolder describes the switch of host whose uplink pnic is ("standard
// switch X" / "distributed switch Y"), ignoring distributed switch except
// (nil: none), or "". netMu is held by the caller.
func pnicHolder(host *simulator.HostSystem, pnic string, except *types.ManagedObjectReference) string {
	if ns := hostNetworkSystem(host); ns != nil && ns.NetworkInfo != nil {
		for _, vs := range ns.NetworkInfo.Vswitch {
			for _, n := range vswitchNics(vs) {
				if n == pnic {
					return "standard switch " + vs.Name
				}
			}
		}
	}
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		s, ok := e.(*simulator.DistributedVirtualSwitch)
		if !ok || (except != nil && s.Self == *except) {
			continue
		}
		for _, n := range memberPnics(s, host.Self) {
			if n == pnic {
				return "distributed switch " + s.Name
			}
		}
	}
	return ""
}

// pnicInUse is ESXi's refusal of a NIC that is already an uplink.
func pnicInUse(pnic, holder string) types.BaseMethodFault {
	return withMessage(&types.ResourceInUse{Type: "PhysicalNic", Name: pnic}, "pnicInUse",
		fmt.Sprintf("The resource '%s' is in use: it is the uplink of %s.", pnic, holder))
}

// memberBulkFault wraps a fault of one host member as vCenter reports a
// switch operation that failed on a host.
func memberBulkFault(host *simulator.HostSystem, f types.BaseMethodFault) (types.BaseMethodFault, string) {
	msg := "Cannot complete a vSphere Distributed Switch operation for one or more host members. " +
		"vDS operation failed on host " + host.Name + ": " + faultText(f)
	bulk := &types.DvsOperationBulkFault{HostFault: []types.DvsOperationBulkFaultFaultOnHost{{
		Host: host.Self, Fault: types.LocalizedMethodFault{Fault: f, LocalizedMessage: faultText(f)},
	}}}
	return withMessage(bulk, "dvsHostFault", msg), msg
}

// checkMemberPnics refuses member uplinks host does not have or that are
// in use by another switch of host (s: the switch being changed, nil when
// being created).
func checkMemberPnics(host *simulator.HostSystem, backing types.BaseDistributedVirtualSwitchHostMemberBacking,
	s *types.ManagedObjectReference) (types.BaseMethodFault, string) {
	b, ok := backing.(*types.DistributedVirtualSwitchHostMemberPnicBacking)
	if !ok {
		return nil, ""
	}
	seen := map[string]bool{}
	for _, p := range b.PnicSpec {
		var f types.BaseMethodFault
		switch holder := pnicHolder(host, p.PnicDevice, s); {
		case !hostHasPnic(host, p.PnicDevice):
			f = withMessage(&types.NotFound{}, "pnicNotFound", fmt.Sprintf(
				"Host %s has no physical NIC %s (it has %s).", host.Name, p.PnicDevice, hostPnicNames(host)))
		case seen[p.PnicDevice]:
			f = pnicInUse(p.PnicDevice, "this switch (named twice)")
		case holder != "":
			f = pnicInUse(p.PnicDevice, holder+" on host "+host.Name)
		}
		if f != nil {
			return memberBulkFault(host, f)
		}
		seen[p.PnicDevice] = true
	}
	return nil, ""
}

// proxySwitches is host's part of every distributed switch it is a member
// of, as ESXi reports it in config.network.proxySwitch.
func proxySwitches(host *simulator.HostSystem) []types.HostProxySwitch {
	var out []types.HostProxySwitch
	for _, e := range simulator.Map.All("DistributedVirtualSwitch") {
		s, ok := e.(*simulator.DistributedVirtualSwitch)
		if !ok || !refsHas(s.Summary.HostMember, host.Self) {
			continue
		}
		cfg := dvsConfig(s)
		if cfg == nil {
			continue
		}
		for _, m := range cfg.Host {
			if m.Config.Host == nil || *m.Config.Host != host.Self {
				continue
			}
			var keys []string
			for _, p := range memberPnics(s, host.Self) {
				keys = append(keys, pnicKeyPrefix+p)
			}
			out = append(out, types.HostProxySwitch{
				DvsUuid: s.Uuid, DvsName: s.Name, Key: s.Uuid,
				NumPorts: m.Config.MaxProxySwitchPorts, NumPortsAvailable: m.Config.MaxProxySwitchPorts - int32(len(keys)),
				Mtu: 1500, Pnic: keys,
				Spec: types.HostProxySwitchSpec{Backing: m.Config.Backing},
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DvsName < out[j].DvsName })
	return out
}

// syncProxySwitches refreshes host's proxy switches in networkInfo and
// host.config.network. netMu is held by the caller; the network system
// must not be locked by it.
func syncProxySwitches(host *simulator.HostSystem) {
	ns := hostNetworkSystem(host)
	if ns == nil {
		return
	}
	proxies := proxySwitches(host)
	simulator.Map.WithLock(ns, func() {
		ns.NetworkInfo.ProxySwitch = proxies
		syncHostConfigNetwork(ns, host)
	})
}

// vnicsOn lists the VMkernel adapters ("host: vmk1") on distributed switch
// uuid (and port group key pgKey unless ""), of host (nil: any host).
func vnicsOn(host *simulator.HostSystem, uuid, pgKey string) []string {
	var out []string
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok || (host != nil && h.Self != host.Self) || h.Config == nil || h.Config.Network == nil {
			continue
		}
		for _, v := range h.Config.Network.Vnic {
			p := v.Spec.DistributedVirtualPort
			if p != nil && p.SwitchUuid == uuid && (pgKey == "" || p.PortgroupKey == pgKey) {
				out = append(out, h.Name+": "+v.Device)
			}
		}
	}
	return out
}

// vnicInUse refuses removing a switch, port group or member that VMkernel
// adapters use.
func vnicInUse(what string, vnics []string) (types.BaseMethodFault, string) {
	msg := fmt.Sprintf("The resource '%s' is in use by VMkernel adapter(s) %s; remove them first.", what, strings.Join(vnics, ", "))
	return withMessage(&types.ResourceInUse{Type: "HostVirtualNic", Name: what}, "vnicInUse", msg), msg
}
