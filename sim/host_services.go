package main

// A host's services, clock and software image (host_managers.go makes one
// of each per host), as an ESXi 7.0 host reports them (API reference:
// HostServiceSystem, HostDateTimeSystem, HostImageConfigManager):
//
//   - serviceInfo lists ESXi's services with their label, policy (on, off,
//     automatic), running state, firewall rulesets and source package;
//     StartService / StopService / RestartService / UpdateServicePolicy
//     change them (NotFound for an unknown key, InvalidArgument for an
//     unknown policy); RefreshServices does nothing.
//   - dateTimeInfo: time zone UTC and no NTP server; UpdateDateTimeConfig
//     sets the NTP servers (and the zone); QueryDateTime is the lab's clock.
//   - HostImageConfigGetAcceptance: partner; HostImageConfigGetProfile: the
//     host's standard image; FetchSoftwarePackages: the base system and the
//     drivers the lab's hardware needs (Mellanox, NVIDIA); InstallDate.

import (
	"fmt"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// esxiServices are an ESXi 7.0 host's services: key, label, policy,
// running, firewall rulesets.
var esxiServices = []struct {
	key, label, policy string
	running, required  bool
	rulesets           []string
}{
	{"DCUI", "Direct Console UI", "on", true, false, nil},
	{"TSM", "ESXi Shell", "off", false, false, nil},
	{"TSM-SSH", "SSH", "off", false, false, []string{"sshServer"}},
	{"lbtd", "Load-Based Teaming Daemon", "on", true, false, nil},
	{"lwsmd", "Active Directory Service", "off", false, false, nil},
	{"ntpd", "NTP Daemon", "off", false, false, []string{"ntpClient"}},
	{"pcscd", "PC/SC Smart Card Daemon", "off", false, false, nil},
	{"ptpd", "PTP Daemon", "off", false, false, []string{"ptpd"}},
	{"sfcbd-watchdog", "CIM Server", "on", false, false, []string{"CIMHttpServer", "CIMHttpsServer"}},
	{"snmpd", "SNMP Server", "on", false, false, []string{"snmp"}},
	{"vmsyslogd", "Syslog Server", "on", true, true, nil},
	{"vpxa", "VMware vCenter Agent", "on", true, true, []string{"vpxHeartbeats"}},
	{"xorg", "X.Org Server", "on", false, false, nil},
}

// labServiceSystem is one host's HostServiceSystem.
type labServiceSystem struct {
	mo.HostServiceSystem
}

func newServiceSystem(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	s := &labServiceSystem{}
	s.Self = ref
	for _, svc := range esxiServices {
		s.ServiceInfo.Service = append(s.ServiceInfo.Service, types.HostService{
			Key: svc.key, Label: svc.label, Required: svc.required, Uninstallable: false,
			Running: svc.running, Ruleset: svc.rulesets, Policy: svc.policy,
			SourcePackage: &types.HostServiceSourcePackage{SourcePackageName: "esx-base",
				Description: "This VIB contains all of the base functionality of vSphere ESXi."},
		})
	}
	return s
}

// service finds key (NotFound when there is none).
func (s *labServiceSystem) service(key string) (int, *soap.Fault) {
	for i, svc := range s.ServiceInfo.Service {
		if svc.Key == key {
			return i, nil
		}
	}
	return -1, simulator.Fault(fmt.Sprintf("The object or item referred to could not be found: service %s", key),
		&types.NotFound{})
}

// change applies f to service key through the property collector.
func (s *labServiceSystem) change(key string, f func(*types.HostService)) *soap.Fault {
	i, fault := s.service(key)
	if fault != nil {
		return fault
	}
	info := types.HostServiceInfo{Service: append([]types.HostService(nil), s.ServiceInfo.Service...)}
	f(&info.Service[i])
	simulator.Map.Update(s, []types.PropertyChange{{Name: "serviceInfo", Val: info}})
	return nil
}

func (s *labServiceSystem) StartService(req *types.StartService) soap.HasFault {
	return &methods.StartServiceBody{Fault_: s.change(req.Id, func(h *types.HostService) { h.Running = true }),
		Res: &types.StartServiceResponse{}}
}

func (s *labServiceSystem) StopService(req *types.StopService) soap.HasFault {
	return &methods.StopServiceBody{Fault_: s.change(req.Id, func(h *types.HostService) { h.Running = false }),
		Res: &types.StopServiceResponse{}}
}

func (s *labServiceSystem) RestartService(req *types.RestartService) soap.HasFault {
	return &methods.RestartServiceBody{Fault_: s.change(req.Id, func(h *types.HostService) { h.Running = true }),
		Res: &types.RestartServiceResponse{}}
}

func (s *labServiceSystem) UpdateServicePolicy(req *types.UpdateServicePolicy) soap.HasFault {
	switch req.Policy {
	case "on", "off", "automatic":
	default:
		return &methods.UpdateServicePolicyBody{Fault_: simulator.Fault("A specified parameter was not correct: policy",
			&types.InvalidArgument{InvalidProperty: "policy"})}
	}
	return &methods.UpdateServicePolicyBody{Fault_: s.change(req.Id, func(h *types.HostService) { h.Policy = req.Policy }),
		Res: &types.UpdateServicePolicyResponse{}}
}

func (s *labServiceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	return &methods.RefreshServicesBody{Res: &types.RefreshServicesResponse{}}
}

// labDateTimeSystem is one host's HostDateTimeSystem.
type labDateTimeSystem struct {
	mo.HostDateTimeSystem
}

func newDateTimeSystem(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	s := &labDateTimeSystem{}
	s.Self = ref
	s.DateTimeInfo = types.HostDateTimeInfo{
		TimeZone:  types.HostDateTimeSystemTimeZone{Key: "UTC", Name: "UTC", Description: "UTC", GmtOffset: 0},
		NtpConfig: &types.HostNtpConfig{},
	}
	return s
}

func (s *labDateTimeSystem) QueryDateTime(req *types.QueryDateTime) soap.HasFault {
	return &methods.QueryDateTimeBody{Res: &types.QueryDateTimeResponse{Returnval: time.Now().UTC()}}
}

func (s *labDateTimeSystem) UpdateDateTimeConfig(req *types.UpdateDateTimeConfig) soap.HasFault {
	info := s.DateTimeInfo
	if req.Config.NtpConfig != nil {
		ntp := *req.Config.NtpConfig
		info.NtpConfig = &ntp
	}
	if req.Config.TimeZone != "" {
		info.TimeZone = types.HostDateTimeSystemTimeZone{Key: req.Config.TimeZone, Name: req.Config.TimeZone,
			Description: req.Config.TimeZone}
	}
	simulator.Map.Update(s, []types.PropertyChange{{Name: "dateTimeInfo", Val: info}})
	return &methods.UpdateDateTimeConfigBody{Res: &types.UpdateDateTimeConfigResponse{}}
}

func (s *labDateTimeSystem) UpdateDateTime(req *types.UpdateDateTime) soap.HasFault {
	return &methods.UpdateDateTimeBody{Res: &types.UpdateDateTimeResponse{}}
}

func (s *labDateTimeSystem) RefreshDateTimeSystem(req *types.RefreshDateTimeSystem) soap.HasFault {
	return &methods.RefreshDateTimeSystemBody{Res: &types.RefreshDateTimeSystemResponse{}}
}

// labImageConfig is one host's HostImageConfigManager.
type labImageConfig struct {
	mo.HostImageConfigManager
	version, build string
	installed      time.Time
}

func newImageConfig(_ *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	m := &labImageConfig{version: "7.0.0", build: "15843807", installed: time.Date(2020, 4, 2, 0, 0, 0, 0, time.UTC)}
	m.Self = ref
	if host.Config != nil && host.Config.Product.Version != "" {
		m.version, m.build = host.Config.Product.Version, host.Config.Product.Build
	}
	return m
}

func (m *labImageConfig) HostImageConfigGetAcceptance(req *types.HostImageConfigGetAcceptance) soap.HasFault {
	return &methods.HostImageConfigGetAcceptanceBody{Res: &types.HostImageConfigGetAcceptanceResponse{Returnval: "partner"}}
}

func (m *labImageConfig) HostImageConfigGetProfile(req *types.HostImageConfigGetProfile) soap.HasFault {
	return &methods.HostImageConfigGetProfileBody{Res: &types.HostImageConfigGetProfileResponse{
		Returnval: types.HostImageProfileSummary{Name: fmt.Sprintf("ESXi-%s-%s-standard", m.version, m.build),
			Vendor: "VMware, Inc."}}}
}

func (m *labImageConfig) FetchSoftwarePackages(req *types.FetchSoftwarePackages) soap.HasFault {
	created := m.installed
	pkg := func(name, version, vendor, level, summary string) types.SoftwarePackage {
		return types.SoftwarePackage{Name: name, Version: version, Type: "bootbank", Vendor: vendor,
			AcceptanceLevel: level, Summary: summary, Description: summary, CreationDate: &created,
			MaintenanceModeRequired: types.NewBool(true)}
	}
	return &methods.FetchSoftwarePackagesBody{Res: &types.FetchSoftwarePackagesResponse{Returnval: []types.SoftwarePackage{
		pkg("esx-base", m.version+"-0.0."+m.build, "VMware", "VMwareCertified", "ESXi: The base system"),
		pkg("nmlx5-core", "4.19.16.8-1OEM", "MEL", "VMwareCertified", "Mellanox ConnectX-4/5 Ethernet driver"),
		pkg("nmlx5-rdma", "4.19.16.8-1OEM", "MEL", "VMwareCertified", "Mellanox ConnectX-4/5 RDMA driver"),
		pkg("NVIDIA-VMware_ESXi_7.0_Host_Driver", "470.63-1OEM", "NVIDIA", "VMwareAccepted", "NVIDIA vGPU manager"),
	}}}
}

func (m *labImageConfig) InstallDate(req *types.InstallDate) soap.HasFault {
	return &methods.InstallDateBody{Res: &types.InstallDateResponse{Returnval: m.installed}}
}
