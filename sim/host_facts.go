package main

// Host properties vCenter always fills and the stock simulator left unset,
// which third-party clients read without checking (Ansible's
// vmware_host_capability_info, vmware_host_vmnic_info, vmware_host_facts,
// govc host.info -json):
//
//   - capability (HostCapability): what an ESXi host with the lab's
//     hardware can do; the vSphere 7.0 features (assignable hardware,
//     device rebind without reboot, quick boot, PTP) only on the 7.0
//     hosts, not on vhpc-esx-01 (ESXi 6.7);
//   - the HostNetworkSystem's networkConfig (switches, port groups,
//     physical NICs, VMkernel adapters, proxy switches, DNS and routes as
//     a configuration: what HostNetworkSystem.UpdateNetworkConfig takes),
//     networkInfo.pnic, dnsConfig, ipRouteConfig, capabilities and
//     offloadCapabilities, all following host.config.network (the stock
//     network system had no networkConfig and no physical NICs).

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// setHostCapability fills host.capability.
func setHostCapability(host *simulator.HostSystem) {
	yes, no := types.NewBool(true), types.NewBool(false)
	v7 := yes
	if host.Config != nil && host.Config.Product.Version != "" && host.Config.Product.Version < "7.0" {
		v7 = no
	}
	host.Capability = &types.HostCapability{
		RecursiveResourcePoolsSupported: true, CpuMemoryResourceConfigurationSupported: true,
		RebootSupported: true, ShutdownSupported: true, VmotionSupported: true, StandbySupported: true,
		IpmiSupported: yes, MaxSupportedVMs: 1024, MaxRunningVMs: 1024, MaxSupportedVcpus: 768,
		MaxRegisteredVMs: 2048, DatastorePrincipalSupported: false, SanSupported: true, NfsSupported: true,
		IscsiSupported: true, VlanTaggingSupported: true, NicTeamingSupported: true, HighGuestMemSupported: true,
		MaintenanceModeSupported: true, SuspendedRelocateSupported: true, RestrictedSnapshotRelocateSupported: true,
		PerVmSwapFiles: true, LocalSwapDatastoreSupported: true, UnsharedSwapVMotionSupported: true,
		BackgroundSnapshotsSupported: false, PreAssignedPCIUnitNumbersSupported: true, ScreenshotSupported: true,
		ScaledScreenshotSupported: true, StorageVMotionSupported: yes, VmotionWithStorageVMotionSupported: yes,
		VmotionAcrossNetworkSupported: yes, MaxNumDisksSVMotion: 248, HbrNicSelectionSupported: yes,
		VrNfcNicSelectionSupported: yes, RecordReplaySupported: no, FtSupported: yes, SmpFtSupported: yes,
		MaxVcpusPerFtVm: 8, LoginBySSLThumbprintSupported: yes, CloneFromSnapshotSupported: yes,
		DeltaDiskBackingsSupported: yes, PerVMNetworkTrafficShapingSupported: no, TpmSupported: yes,
		TpmVersion: "2.0", TxtEnabled: no, VirtualExecUsageSupported: yes, StorageIORMSupported: yes,
		VmDirectPathGen2Supported: yes, SupportedVmfsMajorVersion: []int32{5, 6}, VStorageCapable: yes,
		SnapshotRelayoutSupported: yes, FirewallIpRulesSupported: yes, ServicePackageInfoSupported: yes,
		MaxHostRunningVms: 1024, MaxHostSupportedVcpus: 4096, VmfsDatastoreMountCapable: yes,
		EightPlusHostVmfsSharedAccessSupported: yes, NestedHVSupported: yes, VPMCSupported: yes,
		InterVMCommunicationThroughVMCISupported: no, ScheduledHardwareUpgradeSupported: yes,
		FeatureCapabilitiesSupported: yes, LatencySensitivitySupported: yes, StoragePolicySupported: yes,
		Accel3dSupported: yes, ReliableMemoryAware: yes, MultipleNetworkStackInstanceSupported: yes,
		MessageBusProxySupported: yes, VsanSupported: yes, VFlashSupported: yes, HostAccessManagerSupported: yes,
		ProvisioningNicSelectionSupported: yes, Nfs41Supported: yes, Nfs41Krb5iSupported: yes,
		TurnDiskLocatorLedSupported: yes, VirtualVolumeDatastoreSupported: yes, MarkAsSsdSupported: yes,
		MarkAsLocalSupported: yes, SmartCardAuthenticationSupported: yes, PMemSupported: yes,
		PMemSnapshotSupported: yes, CryptoSupported: yes, OneKVolumeAPIsSupported: yes, GatewayOnNicSupported: yes,
		UpitSupported: no, CpuHwMmuSupported: yes, EncryptedVMotionSupported: yes,
		EncryptionChangeOnAddRemoveSupported: yes, EncryptionHotOperationSupported: yes,
		EncryptionWithSnapshotsSupported: yes, EncryptionFaultToleranceSupported: yes,
		EncryptionMemorySaveSupported: yes, EncryptionRDMSupported: no, EncryptionVFlashSupported: no,
		EncryptionCBRCSupported: no, EncryptionHBRSupported: yes, FtEfiSupported: yes,
		UnmapMethodSupported: "dynamic", MaxMemMBPerFtVm: 131072, VirtualMmuUsageIgnored: yes,
		VirtualExecUsageIgnored: yes, VmCreateDateSupported: yes, Vmfs3EOLSupported: yes, FtVmcpSupported: yes,
		QuickBootSupported: v7, AssignableHardwareSupported: v7, UseFeatureReqsForOldHWv: no,
		MarkPerenniallyReservedSupported: yes, HppPspSupported: v7, DeviceRebindWithoutRebootSupported: v7,
		StoragePolicyChangeSupported: v7, PrecisionTimeProtocolSupported: v7, RemoteDeviceVMotionSupported: v7,
		MaxSupportedVmMemory: 25165824,
	}
	host.Summary.Config.VmotionEnabled = true
}

// syncNetworkSystem makes the network system s of host (both locked by
// the caller) show host.config.network as ESXi does: its networkConfig,
// physical NICs, DNS and routes.
func syncNetworkSystem(s *simulator.HostNetworkSystem, host *simulator.HostSystem) {
	if host.Config == nil || host.Config.Network == nil || s.NetworkInfo == nil {
		return
	}
	n := host.Config.Network
	s.NetworkInfo.Pnic = n.Pnic
	s.NetworkInfo.DnsConfig = n.DnsConfig
	s.NetworkInfo.IpRouteConfig = n.IpRouteConfig
	s.NetworkInfo.NetStackInstance = n.NetStackInstance
	s.DnsConfig, s.IpRouteConfig = n.DnsConfig, n.IpRouteConfig
	if s.Capabilities == nil {
		s.Capabilities = &types.HostNetCapabilities{CanSetPhysicalNicLinkSpeed: true, SupportsNicTeaming: true,
			NicTeamingPolicy: []string{"loadbalance_ip", "loadbalance_srcmac", "loadbalance_srcid", "failover_explicit"},
			SupportsVlan:     true, UsesServiceConsoleNic: false, SupportsNetworkHints: true, MaxPortGroupsPerVswitch: 512,
			VswitchConfigSupported: true, VnicConfigSupported: true, IpRouteConfigSupported: true,
			DnsConfigSupported: true, DhcpOnVnicSupported: true, IpV6Supported: types.NewBool(true)}
		s.OffloadCapabilities = &types.HostNetOffloadCapabilities{CsumOffload: types.NewBool(true),
			TcpSegmentation: types.NewBool(true), ZeroCopyXmit: types.NewBool(true)}
	}
	cfg := &types.HostNetworkConfig{DnsConfig: n.DnsConfig, IpRouteConfig: n.IpRouteConfig,
		IpV6Enabled: types.NewBool(false)}
	for _, vs := range s.NetworkInfo.Vswitch {
		spec := vs.Spec
		cfg.Vswitch = append(cfg.Vswitch, types.HostVirtualSwitchConfig{Name: vs.Name, Spec: &spec})
	}
	for _, pg := range s.NetworkInfo.Portgroup {
		spec := pg.Spec
		cfg.Portgroup = append(cfg.Portgroup, types.HostPortGroupConfig{Spec: &spec})
	}
	for _, p := range n.Pnic {
		cfg.Pnic = append(cfg.Pnic, types.PhysicalNicConfig{Device: p.Device, Spec: p.Spec})
	}
	for _, v := range s.NetworkInfo.Vnic {
		spec := v.Spec
		cfg.Vnic = append(cfg.Vnic, types.HostVirtualNicConfig{Device: v.Device, Portgroup: v.Portgroup, Spec: &spec})
	}
	for _, p := range s.NetworkInfo.ProxySwitch {
		spec := p.Spec
		cfg.ProxySwitch = append(cfg.ProxySwitch, types.HostProxySwitchConfig{Uuid: p.DvsUuid, Spec: &spec})
	}
	s.NetworkConfig = cfg
}

// describeOptions fills the host's OptionManager supportedOption with a
// definition of each of its settings, as ESXi lists every advanced option
// it has (Ansible's vmware_host_config_manager refuses an option that is
// not there: "Unsupported option"); the type follows the value's.
func describeOptions(host *simulator.HostSystem) {
	if host.ConfigManager.AdvancedOption == nil {
		return
	}
	om, ok := simulator.Map.Get(*host.ConfigManager.AdvancedOption).(*simulator.OptionManager)
	if !ok {
		return
	}
	known := map[string]bool{}
	for _, d := range om.SupportedOption {
		known[d.Key] = true
	}
	for _, s := range om.Setting {
		o := s.GetOptionValue()
		if known[o.Key] {
			continue
		}
		var kind types.BaseOptionType
		switch v := o.Value.(type) {
		case bool:
			kind = &types.BoolOption{Supported: true, DefaultValue: v}
		case int32:
			kind = &types.IntOption{Min: 0, Max: 1 << 30, DefaultValue: v}
		case int64:
			kind = &types.LongOption{Min: 0, Max: 1 << 62, DefaultValue: v}
		default:
			kind = &types.StringOption{DefaultValue: ""}
		}
		om.SupportedOption = append(om.SupportedOption, types.OptionDef{
			ElementDescription: types.ElementDescription{Key: o.Key, Description: types.Description{Label: o.Key, Summary: o.Key}},
			OptionType:         kind})
		known[o.Key] = true
	}
}
