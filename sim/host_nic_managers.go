package main

// Host managers whose content is the host's own (host_managers.go makes one
// per host); they read the host when asked (the simulator's Get hook), so
// they always agree with host.config:
//
//   - HostVirtualNicManager: info.netConfig has every service type of ESXi
//     7.0 (management, vmotion, vSphereProvisioning, faultToleranceLogging,
//     vSphereReplication, vSphereReplicationNFC, vsan, vsanWitness,
//     vSphereBackupNFC, ptp), each with every VMkernel adapter as a
//     candidate; the selection is the host's config.virtualNicManagerInfo
//     (vmk0 for management). QueryNetConfig(nicType) answers one
//     (InvalidArgument for another type); SelectVnicForNicType and
//     DeselectVnicForNicType change the selection (the host's
//     config.virtualNicManagerInfo with it).
//   - HostVMotionSystem: netConfig's candidates are the VMkernel adapters,
//     the selected one the vmotion selection.
//   - HostGraphicsManager: graphicsInfo, graphicsConfig,
//     sharedPassthruGpuTypes and sharedGpuCapabilities are the host's
//     (gpu_host.go); IsSharedGraphicsActive tells whether a GPU is in
//     shared direct mode.
//   - HostVsanSystem: vSAN not enabled on the host (the lab's datastore is
//     of type vsan, but no vSAN cluster runs); QueryHostStatus answers
//     health unknown, node state disabled, as such a host does.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vnicServiceTypes are ESXi 7.0's VMkernel service types.
var vnicServiceTypes = []string{"management", "vmotion", "vSphereProvisioning", "faultToleranceLogging",
	"vSphereReplication", "vSphereReplicationNFC", "vsan", "vsanWitness", "vSphereBackupNFC", "ptp"}

// hostNetConfigs is the host's netConfig for every service type: the
// host's selection, every VMkernel adapter a candidate.
func hostNetConfigs(host *simulator.HostSystem) []types.VirtualNicManagerNetConfig {
	selected := map[string][]string{}
	if host.Config != nil && host.Config.VirtualNicManagerInfo != nil {
		for _, nc := range host.Config.VirtualNicManagerInfo.NetConfig {
			selected[nc.NicType] = nc.SelectedVnic
		}
	}
	var vnics []types.HostVirtualNic
	if host.Config != nil && host.Config.Network != nil {
		vnics = host.Config.Network.Vnic
	}
	out := make([]types.VirtualNicManagerNetConfig, 0, len(vnicServiceTypes))
	for _, kind := range vnicServiceTypes {
		nc := types.VirtualNicManagerNetConfig{NicType: kind, MultiSelectAllowed: true}
		for _, v := range vnics {
			c := v
			c.Key = kind + ".key-vim.host.VirtualNic-" + v.Device
			nc.CandidateVnic = append(nc.CandidateVnic, c)
			for _, s := range selected[kind] {
				if s == c.Key {
					nc.SelectedVnic = append(nc.SelectedVnic, c.Key)
				}
			}
		}
		out = append(out, nc)
	}
	return out
}

// managerOf is embedded by a host's managers: the host they belong to.
type managerOf struct {
	host types.ManagedObjectReference
}

// hostSystem is the manager's host, nil when it is gone.
func (m managerOf) hostSystem() *simulator.HostSystem {
	h, _ := simulator.Map.Get(m.host).(*simulator.HostSystem)
	return h
}

// labVnicManager is one host's HostVirtualNicManager.
type labVnicManager struct {
	mo.HostVirtualNicManager
	managerOf
}

func newVnicManager(_ *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	m := &labVnicManager{managerOf: managerOf{host.Self}}
	m.Self = ref
	return m
}

// Get is what the property collector reads: the host's netConfig now.
func (m *labVnicManager) Get() mo.Reference {
	out := m.HostVirtualNicManager
	if h := m.hostSystem(); h != nil {
		out.Info = types.HostVirtualNicManagerInfo{NetConfig: hostNetConfigs(h)}
	}
	return &out
}

func badNicType(kind string) *soap.Fault {
	return simulator.Fault("A specified parameter was not correct: nicType "+kind, &types.InvalidArgument{InvalidProperty: "nicType"})
}

func (m *labVnicManager) QueryNetConfig(req *types.QueryNetConfig) soap.HasFault {
	body := &methods.QueryNetConfigBody{}
	h := m.hostSystem()
	if h == nil {
		body.Fault_ = notFound(m.host)
		return body
	}
	for _, nc := range hostNetConfigs(h) {
		if nc.NicType == req.NicType {
			nc := nc
			body.Res = &types.QueryNetConfigResponse{Returnval: &nc}
			return body
		}
	}
	body.Fault_ = badNicType(req.NicType)
	return body
}

func (m *labVnicManager) SelectVnicForNicType(req *types.SelectVnicForNicType) soap.HasFault {
	return &methods.SelectVnicForNicTypeBody{Fault_: m.selectVnic(req.NicType, req.Device, true),
		Res: &types.SelectVnicForNicTypeResponse{}}
}

func (m *labVnicManager) DeselectVnicForNicType(req *types.DeselectVnicForNicType) soap.HasFault {
	return &methods.DeselectVnicForNicTypeBody{Fault_: m.selectVnic(req.NicType, req.Device, false),
		Res: &types.DeselectVnicForNicTypeResponse{}}
}

// selectVnic adds (or removes) VMkernel adapter device to the selection of
// nicType, in the host's config.virtualNicManagerInfo.
func (m *labVnicManager) selectVnic(kind, device string, on bool) *soap.Fault {
	h := m.hostSystem()
	if h == nil {
		return notFound(m.host)
	}
	var fault *soap.Fault
	simulator.Map.WithLock(h, func() {
		configs := hostNetConfigs(h)
		i := -1
		for k, nc := range configs {
			if nc.NicType == kind {
				i = k
			}
		}
		if i < 0 {
			fault = badNicType(kind)
			return
		}
		key := kind + ".key-vim.host.VirtualNic-" + device
		found := false
		for _, c := range configs[i].CandidateVnic {
			found = found || c.Key == key
		}
		if !found {
			fault = simulator.Fault("The object or item referred to could not be found: "+device, &types.NotFound{})
			return
		}
		var sel []string
		for _, s := range configs[i].SelectedVnic {
			if s != key {
				sel = append(sel, s)
			}
		}
		if on {
			sel = append(sel, key)
		}
		configs[i].SelectedVnic = sel
		simulator.Map.Update(h, []types.PropertyChange{{Name: "config.virtualNicManagerInfo",
			Val: &types.HostVirtualNicManagerInfo{NetConfig: configs}}})
	})
	return fault
}

// labVMotionSystem is one host's HostVMotionSystem.
type labVMotionSystem struct {
	mo.HostVMotionSystem
	managerOf
}

func newVMotionSystem(_ *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	m := &labVMotionSystem{managerOf: managerOf{host.Self}}
	m.Self = ref
	return m
}

func (m *labVMotionSystem) Get() mo.Reference {
	out := m.HostVMotionSystem
	h := m.hostSystem()
	if h == nil {
		return &out
	}
	cfg := &types.HostVMotionNetConfig{}
	for _, nc := range hostNetConfigs(h) {
		if nc.NicType == "vmotion" {
			cfg.CandidateVnic = nc.CandidateVnic
			if len(nc.SelectedVnic) != 0 {
				cfg.SelectedVnic = nc.SelectedVnic[0]
			}
		}
	}
	out.NetConfig = cfg
	return &out
}

// labGraphicsManager is one host's HostGraphicsManager.
type labGraphicsManager struct {
	mo.HostGraphicsManager
	managerOf
}

func newGraphicsManager(_ *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	m := &labGraphicsManager{managerOf: managerOf{host.Self}}
	m.Self = ref
	return m
}

func (m *labGraphicsManager) Get() mo.Reference {
	out := m.HostGraphicsManager
	if h := m.hostSystem(); h != nil && h.Config != nil {
		out.GraphicsInfo = h.Config.GraphicsInfo
		out.GraphicsConfig = h.Config.GraphicsConfig
		out.SharedPassthruGpuTypes = h.Config.SharedPassthruGpuTypes
		out.SharedGpuCapabilities = h.Config.SharedGpuCapabilities
	}
	return &out
}

func (m *labGraphicsManager) IsSharedGraphicsActive(req *types.IsSharedGraphicsActive) soap.HasFault {
	active := false
	for _, g := range m.Get().(*mo.HostGraphicsManager).GraphicsInfo {
		active = active || g.GraphicsType == "sharedDirect" || g.GraphicsType == "shared"
	}
	return &methods.IsSharedGraphicsActiveBody{Res: &types.IsSharedGraphicsActiveResponse{Returnval: active}}
}

func (m *labGraphicsManager) RefreshGraphicsManager(req *types.RefreshGraphicsManager) soap.HasFault {
	return &methods.RefreshGraphicsManagerBody{Res: &types.RefreshGraphicsManagerResponse{}}
}

// labVsanSystem is one host's HostVsanSystem: vSAN not enabled.
type labVsanSystem struct {
	mo.HostVsanSystem
}

func newVsanSystem(_ *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	m := &labVsanSystem{}
	m.Self = ref
	hostRef := host.Self
	m.Config = types.VsanHostConfigInfo{Enabled: types.NewBool(false), HostSystem: &hostRef}
	return m
}

func (m *labVsanSystem) QueryHostStatus(req *types.QueryHostStatus) soap.HasFault {
	return &methods.QueryHostStatusBody{Res: &types.QueryHostStatusResponse{Returnval: types.VsanHostClusterStatus{
		Health: "unknown", NodeState: types.VsanHostClusterStatusState{State: "disabled"}}}}
}
