package main

// What vCenter fills in a distributed switch and its port groups when the
// client leaves it out (API reference: VMwareDVSConfigInfo,
// VMwareDVSPortSetting, DVPortgroupConfigInfo; the values are vCenter 7.0's
// defaults for a new switch): Ansible's vmware_dvswitch_info,
// vmware_dvs_portgroup_info and vmware_dvswitch_uplink_pg read them without
// checking, and crashed on the stock simulator's unset policies.
//
//   - The switch: four uplinks (uplinkPortPolicy: dvUplink1 ... dvUplink4),
//     CDP in listen mode, no NetFlow collector (active/idle flow timeouts
//     60/15 s), legacy multicast filtering, LACP API multipleLag, network
//     I/O control on (version3), the VLAN/MTU and teaming health checks off,
//     and a default port policy: not blocked, no traffic shaping, VLAN 0,
//     route based on the originating port ID (loadbalance_srcid) with
//     failback and switch notification, every uplink active, security
//     (promiscuous mode, MAC address changes, forged transmits) rejected,
//     MAC management alike with MAC learning off, LACP off, NetFlow off.
//   - A port group: the switch's policies, marked inherited, where its own
//     spec left them out; no override of port policies allowed except
//     blocking (config.policy); configVersion counts its reconfigurations.
//
// A client's own settings stay; only what is unset is filled. Called after
// every change of a switch or its port groups (network_dvs.go,
// dvs_portgroups.go).

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const dvsUplinks = 4

func boolPolicy(v, inherited bool) *types.BoolPolicy {
	return &types.BoolPolicy{InheritablePolicy: types.InheritablePolicy{Inherited: inherited}, Value: types.NewBool(v)}
}

func stringPolicy(v string, inherited bool) *types.StringPolicy {
	return &types.StringPolicy{InheritablePolicy: types.InheritablePolicy{Inherited: inherited}, Value: v}
}

// fillDVSDefaults fills switch s (locked by the caller) and its port groups.
func fillDVSDefaults(s *simulator.DistributedVirtualSwitch) {
	cfg, ok := s.Config.(*types.VMwareDVSConfigInfo)
	if !ok {
		return
	}
	if cfg.UplinkPortPolicy == nil {
		names := make([]string, dvsUplinks)
		for i := range names {
			names[i] = fmt.Sprintf("dvUplink%d", i+1)
		}
		cfg.UplinkPortPolicy = &types.DVSNameArrayUplinkPortPolicy{UplinkPortName: names}
	}
	uplinks := uplinkNames(cfg)
	setting, _ := cfg.DefaultPortConfig.(*types.VMwareDVSPortSetting)
	if setting == nil {
		setting = &types.VMwareDVSPortSetting{}
		cfg.DefaultPortConfig = setting
	}
	fillPortSetting(setting, switchDefaults(uplinks), false)
	fillSwitchSettings(cfg)
	for _, ref := range s.Portgroup {
		if pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok {
			fillPortgroupDefaults(pg, setting)
		}
	}
	syncPortKeys(s) // dvs_portgroups.go
}

// fillSwitchSettings sets the switch-wide settings cfg leaves unset.
func fillSwitchSettings(cfg *types.VMwareDVSConfigInfo) {
	if cfg.LinkDiscoveryProtocolConfig == nil {
		cfg.LinkDiscoveryProtocolConfig = &types.LinkDiscoveryProtocolConfig{Protocol: "cdp", Operation: "listen"}
	}
	if cfg.IpfixConfig == nil {
		cfg.IpfixConfig = &types.VMwareIpfixConfig{ActiveFlowTimeout: 60, IdleFlowTimeout: 15}
	}
	if cfg.MulticastFilteringMode == "" {
		cfg.MulticastFilteringMode = "legacyFiltering"
	}
	if cfg.LacpApiVersion == "" {
		cfg.LacpApiVersion = "multipleLag"
	}
	if cfg.NetworkResourceManagementEnabled == nil {
		cfg.NetworkResourceManagementEnabled = types.NewBool(true)
		cfg.NetworkResourceControlVersion = "version3"
	}
	if cfg.HealthCheckConfig == nil {
		off := types.DVSHealthCheckConfig{Enable: types.NewBool(false), Interval: 1}
		cfg.HealthCheckConfig = []types.BaseDVSHealthCheckConfig{
			&types.VMwareDVSVlanMtuHealthCheckConfig{VMwareDVSHealthCheckConfig: types.VMwareDVSHealthCheckConfig{DVSHealthCheckConfig: off}},
			&types.VMwareDVSTeamingHealthCheckConfig{VMwareDVSHealthCheckConfig: types.VMwareDVSHealthCheckConfig{DVSHealthCheckConfig: off}},
		}
	}
	if cfg.Policy == nil {
		cfg.Policy = &types.DVSPolicy{AutoPreInstallAllowed: types.NewBool(false), AutoUpgradeAllowed: types.NewBool(false),
			PartialUpgradeAllowed: types.NewBool(false)}
	}
	if cfg.DefaultProxySwitchMaxNumPorts == 0 {
		cfg.DefaultProxySwitchMaxNumPorts = 512
	}
	if cfg.CreateTime.IsZero() {
		cfg.CreateTime = time.Now().UTC()
	}
}

// uplinkNames are the switch's uplink names.
func uplinkNames(cfg *types.VMwareDVSConfigInfo) []string {
	if p, ok := cfg.UplinkPortPolicy.(*types.DVSNameArrayUplinkPortPolicy); ok {
		return p.UplinkPortName
	}
	return nil
}

// switchDefaults is vCenter's default port setting of a new switch.
func switchDefaults(uplinks []string) *types.VMwareDVSPortSetting {
	shaping := func() *types.DVSTrafficShapingPolicy {
		return &types.DVSTrafficShapingPolicy{Enabled: boolPolicy(false, false),
			AverageBandwidth: &types.LongPolicy{Value: 100000000}, PeakBandwidth: &types.LongPolicy{Value: 100000000},
			BurstSize: &types.LongPolicy{Value: 104857600}}
	}
	return &types.VMwareDVSPortSetting{
		DVPortSetting: types.DVPortSetting{
			Blocked: boolPolicy(false, false), VmDirectPathGen2Allowed: boolPolicy(false, false),
			InShapingPolicy: shaping(), OutShapingPolicy: shaping(),
			VendorSpecificConfig:   &types.DVSVendorSpecificConfig{},
			NetworkResourcePoolKey: stringPolicy("-1", false),
			FilterPolicy:           &types.DvsFilterPolicy{},
		},
		Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 0},
		UplinkTeamingPolicy: &types.VmwareUplinkPortTeamingPolicy{
			Policy: stringPolicy("loadbalance_srcid", false), ReversePolicy: boolPolicy(true, false),
			NotifySwitches: boolPolicy(true, false), RollingOrder: boolPolicy(false, false),
			FailureCriteria: &types.DVSFailureCriteria{CheckSpeed: stringPolicy("minimum", false),
				Speed: &types.IntPolicy{Value: 10}, CheckDuplex: boolPolicy(false, false),
				FullDuplex: boolPolicy(false, false), CheckErrorPercent: boolPolicy(false, false),
				Percentage: &types.IntPolicy{Value: 0}, CheckBeacon: boolPolicy(false, false)},
			UplinkPortOrder: &types.VMwareUplinkPortOrderPolicy{ActiveUplinkPort: uplinks},
		},
		SecurityPolicy: &types.DVSSecurityPolicy{AllowPromiscuous: boolPolicy(false, false),
			MacChanges: boolPolicy(false, false), ForgedTransmits: boolPolicy(false, false)},
		IpfixEnabled: boolPolicy(false, false),
		TxUplink:     boolPolicy(false, false),
		LacpPolicy:   &types.VMwareUplinkLacpPolicy{Enable: boolPolicy(false, false), Mode: stringPolicy("passive", false)},
		MacManagementPolicy: &types.DVSMacManagementPolicy{AllowPromiscuous: types.NewBool(false),
			MacChanges: types.NewBool(false), ForgedTransmits: types.NewBool(false),
			MacLearningPolicy: &types.DVSMacLearningPolicy{Enabled: false, AllowUnicastFlooding: types.NewBool(true),
				Limit: new(int32), LimitPolicy: "DROP"}},
	}
}

// fillPortSetting sets each unset policy of s, and each unset part of a
// policy s has, from def, as vCenter completes a port group's settings
// from its switch's; inherited marks what comes from def as inherited.
func fillPortSetting(s, def *types.VMwareDVSPortSetting, inherited bool) {
	fillUnset(reflect.ValueOf(s).Elem(), reflect.ValueOf(def).Elem(), inherited)
}

// fillUnset fills the nil fields of struct dst from src (copies), and the
// unset fields of the structures both have.
func fillUnset(dst, src reflect.Value, inherited bool) {
	for i := 0; i < dst.NumField(); i++ {
		d, from := dst.Field(i), src.Field(i)
		switch d.Kind() {
		case reflect.Struct:
			fillUnset(d, from, inherited) // embedded: DVPortSetting, InheritablePolicy
		case reflect.Ptr:
			switch {
			case from.IsNil():
			case d.IsNil():
				cp := deepCopy(from) // deepcopy.go
				if inherited {
					markInherited(cp)
				}
				d.Set(cp)
			case d.Elem().Kind() == reflect.Struct:
				fillUnset(d.Elem(), from.Elem(), inherited)
			}
		case reflect.Interface, reflect.Slice:
			if d.IsNil() && !from.IsNil() {
				d.Set(deepCopy(from))
			}
		}
	}
}

// markInherited sets Inherited in the policies of v, a copy.
func markInherited(v reflect.Value) {
	for v.Kind() == reflect.Ptr {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	if f := v.FieldByName("Inherited"); f.IsValid() && f.Kind() == reflect.Bool && f.CanSet() {
		f.SetBool(true)
	}
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Ptr {
			markInherited(f)
		}
	}
}

// fillPortgroupDefaults fills pg's unset policies from the switch's
// setting, its policy and its configVersion.
func fillPortgroupDefaults(pg *simulator.DistributedVirtualPortgroup, def *types.VMwareDVSPortSetting) {
	simulator.Map.WithLock(pg, func() {
		setting, _ := pg.Config.DefaultPortConfig.(*types.VMwareDVSPortSetting)
		if setting == nil {
			setting = &types.VMwareDVSPortSetting{}
			pg.Config.DefaultPortConfig = setting
		}
		fillPortSetting(setting, def, true)
		if pg.Config.Policy == nil {
			no := types.NewBool(false)
			pg.Config.Policy = &types.VMwareDVSPortgroupPolicy{
				DVPortgroupPolicy: types.DVPortgroupPolicy{BlockOverrideAllowed: true, PortConfigResetAtDisconnect: true,
					NetworkResourcePoolOverrideAllowed: no, TrafficFilterOverrideAllowed: no},
				IpfixOverrideAllowed: no, MacManagementOverrideAllowed: no,
			}
		}
		if pg.Config.ConfigVersion == "" {
			pg.Config.ConfigVersion = "0"
		}
		if _, err := strconv.Atoi(pg.Config.ConfigVersion); err != nil {
			pg.Config.ConfigVersion = "0"
		}
	})
}
