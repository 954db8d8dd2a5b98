package main

// Distributed port groups reconfigured and ports listed as vCenter does
// (API reference: DistributedVirtualPortgroup.ReconfigureDVPortgroup_Task,
// DVPortgroupConfigSpec, DistributedVirtualSwitch.FetchDVPorts,
// DistributedVirtualSwitchPortCriteria):
//
//   - ReconfigureDVPortgroup_Task changes what the spec sets and keeps what
//     it leaves unset ("unset means unchanged"): name (the port group's
//     name and the switch's summary.portgroupName too; DuplicateName when
//     another distributed port group of the switch or of its folder has
//     it), description, numPorts, type, autoExpand, policy,
//     portNameFormat, scope, vendorSpecificConfig; defaultPortConfig policy
//     by policy (an unset policy keeps its value). configVersion, when
//     given, must be the current one (ConcurrentAccess otherwise: someone
//     changed the port group meanwhile) and counts up. The stock one copied
//     the whole spec, so a reconfigure without numPorts left a port group
//     of 0 ports and one without defaultPortConfig lost its policies.
//   - FetchDVPorts answers the switch's ports: each port group's ports
//     (numPorts for static binding, one per connected adapter otherwise)
//     with keys unique in the switch and stable ("0", "1", ... in the order
//     they were made, a port group that grows gets the next free ones), the
//     uplink ports (one per uplink name per member host, proxyHost set),
//     each with its port group key, dvsUuid, the port group's setting, and
//     its connectee (a VM's adapter: connectedEntity, nicKey, type vmVnic;
//     a VMkernel adapter: the host, vmkN, hostVmkVnic) when connected.
//     The criteria filter: portKey, portgroupKey, connected, active (a
//     powered-on VM's adapter, a VMkernel adapter, an uplink), uplinkPort,
//     inside (true: in a port group; the lab has no stand-alone ports), host.
//     The stock answer had a pseudo port keyed by the port group key and
//     ignored the criteria.

import (
	"sort"
	"strconv"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// ReconfigureDVPortgroupTask applies the set parts of the spec.
func (h *netPortgroupHook) ReconfigureDVPortgroupTask(ctx *simulator.Context, req *types.ReconfigureDVPortgroup_Task) soap.HasFault {
	pg := h.portgroup(ctx)
	if pg == nil {
		return &methods.ReconfigureDVPortgroup_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(pg, func() {
		ref = simulator.CreateTask(pg, "reconfigureDvPortgroup", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			spec := req.Spec
			if spec.ConfigVersion != "" && spec.ConfigVersion != pg.Config.ConfigVersion {
				return nil, withMessage(&types.ConcurrentAccess{}, "portgroupVersion",
					"Cannot complete operation due to concurrent modification by another operation: port group "+
						pg.Name+" is at configVersion "+pg.Config.ConfigVersion+", the spec has "+spec.ConfigVersion+".")
			}
			var sw *simulator.DistributedVirtualSwitch
			if ref := pg.Config.DistributedVirtualSwitch; ref != nil {
				sw, _ = simulator.Map.Get(*ref).(*simulator.DistributedVirtualSwitch)
			}
			renamed := spec.Name != "" && spec.Name != pg.Name
			if renamed {
				if other := portgroupNamed(pg, sw, spec.Name); other != nil {
					return nil, withMessage(&types.DuplicateName{Name: spec.Name, Object: other.Reference()}, "duplicateName",
						"The name '"+spec.Name+"' already exists.")
				}
			}
			next := pg.Config
			mergePortgroupSpec(&next, &spec)
			n, _ := strconv.Atoi(pg.Config.ConfigVersion)
			next.ConfigVersion = strconv.Itoa(n + 1)
			changes := []types.PropertyChange{{Name: "config", Val: next}}
			if renamed {
				changes = append(changes, types.PropertyChange{Name: "name", Val: spec.Name})
				if sw != nil {
					renameInSummary(sw, pg.Name, spec.Name)
				}
				// The port group's ManagedEntity name too (mo.Network has
				// its own): the stock lookups by name (AddDVPortgroup_Task's
				// duplicate check, FindByName) read that one.
				pg.Entity().Name = spec.Name
			}
			if next.Type == string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding) {
				changes = append(changes, types.PropertyChange{Name: "portKeys", Val: pgPortKeys(pg, int(next.NumPorts))})
			}
			simulator.Map.Update(pg, changes)
			return nil, nil
		}).Run()
	})
	setTaskFaultMessage(ref)
	return &methods.ReconfigureDVPortgroup_TaskBody{Res: &types.ReconfigureDVPortgroup_TaskResponse{Returnval: ref}}
}

// portgroupNamed is the distributed port group other than pg named name:
// one of switch sw's port groups, or one in pg's folder (vCenter keeps a
// distributed port group's name unique in its network folder; a standard
// network may share it).
func portgroupNamed(pg *simulator.DistributedVirtualPortgroup, sw *simulator.DistributedVirtualSwitch, name string) mo.Reference {
	var refs []types.ManagedObjectReference
	if sw != nil {
		simulator.Map.WithLock(sw, func() { refs = append(refs, sw.Portgroup...) })
	}
	if pg.Parent != nil {
		if f, ok := simulator.Map.Get(*pg.Parent).(*simulator.Folder); ok {
			simulator.Map.WithLock(f, func() { refs = append(refs, f.ChildEntity...) })
		}
	}
	for _, ref := range refs {
		if ref == pg.Self {
			continue
		}
		if other, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok && other.Name == name {
			return other
		}
	}
	return nil
}

// renameInSummary swaps port group name from for to in switch sw's
// summary.portgroupName (read by Destroy_Task and AddDVPortgroup_Task).
func renameInSummary(sw *simulator.DistributedVirtualSwitch, from, to string) {
	simulator.Map.WithLock(sw, func() {
		names := append([]string(nil), sw.Summary.PortgroupName...)
		found := false
		for i, n := range names {
			if n == from {
				names[i], found = to, true
				break
			}
		}
		if !found {
			names = append(names, to)
		}
		simulator.Map.Update(sw, []types.PropertyChange{{Name: "summary.portgroupName", Val: names}})
	})
}

// mergePortgroupSpec applies the fields spec sets to cfg.
func mergePortgroupSpec(cfg *types.DVPortgroupConfigInfo, spec *types.DVPortgroupConfigSpec) {
	if spec.Name != "" {
		cfg.Name = spec.Name
	}
	if spec.Description != "" {
		cfg.Description = spec.Description
	}
	if spec.NumPorts != 0 {
		cfg.NumPorts = spec.NumPorts
	}
	if spec.Type != "" {
		cfg.Type = spec.Type
	}
	if spec.AutoExpand != nil {
		cfg.AutoExpand = spec.AutoExpand
	}
	if spec.Policy != nil {
		cfg.Policy = spec.Policy
	}
	if spec.PortNameFormat != "" {
		cfg.PortNameFormat = spec.PortNameFormat
	}
	if spec.Scope != nil {
		cfg.Scope = spec.Scope
	}
	if spec.VendorSpecificConfig != nil {
		cfg.VendorSpecificConfig = spec.VendorSpecificConfig
	}
	if spec.VmVnicNetworkResourcePoolKey != "" {
		cfg.VmVnicNetworkResourcePoolKey = spec.VmVnicNetworkResourcePoolKey
	}
	if set, ok := spec.DefaultPortConfig.(*types.VMwareDVSPortSetting); ok {
		merged := *set
		if cur, ok := cfg.DefaultPortConfig.(*types.VMwareDVSPortSetting); ok {
			fillPortSetting(&merged, cur, false) // dvs_defaults.go: what the spec leaves out stays
		}
		cfg.DefaultPortConfig = &merged
	} else if spec.DefaultPortConfig != nil {
		cfg.DefaultPortConfig = spec.DefaultPortConfig
	}
}

// dvPortKeys hands out port keys per switch, in the order ports are made.
var dvPortKeys = struct {
	sync.Mutex
	next map[string]int      // switch uuid -> next key
	of   map[string][]string // switch uuid + "/" + owner (port group key, uplink owner) -> its keys
}{next: map[string]int{}, of: map[string][]string{}}

// portKeys returns n keys of owner on switch uuid, allocating new ones.
func portKeys(uuid, owner string, n int) []string {
	dvPortKeys.Lock()
	defer dvPortKeys.Unlock()
	id := uuid + "/" + owner
	keys := dvPortKeys.of[id]
	for len(keys) < n {
		keys = append(keys, strconv.Itoa(dvPortKeys.next[uuid]))
		dvPortKeys.next[uuid]++
	}
	dvPortKeys.of[id] = keys
	return keys[:n]
}

// pgPortKeys are the keys of the first n ports of pg (new ones allocated).
func pgPortKeys(pg *simulator.DistributedVirtualPortgroup, n int) []string {
	uuid := ""
	if ref := pg.Config.DistributedVirtualSwitch; ref != nil {
		if s, ok := simulator.Map.Get(*ref).(*simulator.DistributedVirtualSwitch); ok {
			uuid = s.Uuid
		}
	}
	return portKeys(uuid, pg.Key, n)
}

// syncPortKeys makes each port group's portKeys those FetchDVPorts
// reports: numPorts keys of a static port group, the uplink ports of the
// uplink port group (s and the port groups unlocked by the caller).
func syncPortKeys(s *simulator.DistributedVirtualSwitch) {
	var uplinks []string
	if cfg, ok := s.Config.(*types.VMwareDVSConfigInfo); ok {
		uplinks = uplinkNames(cfg)
	}
	for _, ref := range s.Portgroup {
		pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup)
		if !ok {
			continue
		}
		var keys []string
		switch {
		case pg.Config.Uplink != nil && *pg.Config.Uplink:
			for _, p := range uplinkPorts(s, pg, uplinks) {
				keys = append(keys, p.Key)
			}
		case pg.Config.Type == string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding):
			keys = portKeys(s.Uuid, pg.Key, int(pg.Config.NumPorts))
		default:
			continue
		}
		if !sameStrings(keys, pg.PortKeys) {
			simulator.Map.WithLock(pg, func() {
				simulator.Map.Update(pg, []types.PropertyChange{{Name: "portKeys", Val: keys}})
			})
		}
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FetchDVPorts lists the switch's ports that match the criteria.
func (h *netDVSHook) FetchDVPorts(ctx *simulator.Context, req *types.FetchDVPorts) soap.HasFault {
	s := h.dvs(ctx)
	if s == nil {
		return &methods.FetchDVPortsBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var out []types.DistributedVirtualPort
	simulator.Map.WithLock(s, func() {
		for _, p := range switchPorts(s) {
			if portMatches(p, req.Criteria) {
				out = append(out, p.DistributedVirtualPort)
			}
		}
	})
	return &methods.FetchDVPortsBody{Res: &types.FetchDVPortsResponse{Returnval: out}}
}

// labPort is a port with what the criteria ask about it.
type labPort struct {
	types.DistributedVirtualPort
	uplink, active bool
	host           *types.ManagedObjectReference
}

// portConnectee is one adapter on a port group.
type portConnectee struct {
	types.DistributedVirtualSwitchPortConnectee
	host   *types.ManagedObjectReference
	active bool
}

// switchPorts are the ports of switch s (locked by the caller).
func switchPorts(s *simulator.DistributedVirtualSwitch) []labPort {
	var out []labPort
	uplinks := []string{}
	if cfg, ok := s.Config.(*types.VMwareDVSConfigInfo); ok {
		uplinks = uplinkNames(cfg)
	}
	for _, ref := range s.Portgroup {
		pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup)
		if !ok {
			continue
		}
		if pg.Config.Uplink != nil && *pg.Config.Uplink {
			out = append(out, uplinkPorts(s, pg, uplinks)...)
			continue
		}
		conns := portgroupConnectees(s, pg)
		n := len(conns)
		if pg.Config.Type == string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding) && int(pg.Config.NumPorts) > n {
			n = int(pg.Config.NumPorts)
		}
		for i, key := range portKeys(s.Uuid, pg.Key, n) {
			p := labPort{DistributedVirtualPort: types.DistributedVirtualPort{Key: key, DvsUuid: s.Uuid,
				PortgroupKey: pg.Key, Config: types.DVPortConfigInfo{Setting: pg.Config.DefaultPortConfig,
					ConfigVersion: "0"}, HostLocalPort: types.NewBool(false)}}
			if i < len(conns) {
				c := conns[i].DistributedVirtualSwitchPortConnectee
				p.Connectee, p.host, p.active = &c, conns[i].host, conns[i].active
				p.ProxyHost = conns[i].host
			}
			out = append(out, p)
		}
	}
	return out
}

// portgroupConnectees are the adapters on pg: VMs' (by VM, then device
// key) and VMkernel adapters (by host, then device).
func portgroupConnectees(s *simulator.DistributedVirtualSwitch, pg *simulator.DistributedVirtualPortgroup) []portConnectee {
	var out []portConnectee
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || vm.Config == nil {
			continue
		}
		for _, d := range vm.Config.Hardware.Device {
			if b := dvsPort(d); b != nil && b.Port.PortgroupKey == pg.Key && b.Port.SwitchUuid == s.Uuid {
				ref := vm.Self
				out = append(out, portConnectee{DistributedVirtualSwitchPortConnectee: types.DistributedVirtualSwitchPortConnectee{
					ConnectedEntity: &ref, NicKey: strconv.Itoa(int(d.GetVirtualDevice().Key)), Type: "vmVnic"},
					host: vm.Runtime.Host, active: vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ConnectedEntity.Value < out[j].ConnectedEntity.Value })
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok || h.Config == nil || h.Config.Network == nil {
			continue
		}
		for _, v := range h.Config.Network.Vnic {
			if dp := v.Spec.DistributedVirtualPort; dp != nil && dp.PortgroupKey == pg.Key && dp.SwitchUuid == s.Uuid {
				ref := h.Self
				out = append(out, portConnectee{DistributedVirtualSwitchPortConnectee: types.DistributedVirtualSwitchPortConnectee{
					ConnectedEntity: &ref, NicKey: v.Device, Type: "hostVmkVnic"}, host: &ref, active: true})
			}
		}
	}
	return out
}

// uplinkPorts are the uplink port group's ports: one per uplink name per
// member host.
func uplinkPorts(s *simulator.DistributedVirtualSwitch, pg *simulator.DistributedVirtualPortgroup, uplinks []string) []labPort {
	var out []labPort
	for _, host := range s.Summary.HostMember {
		host := host
		keys := portKeys(s.Uuid, pg.Key+"/"+host.Value, len(uplinks))
		for i, key := range keys {
			out = append(out, labPort{DistributedVirtualPort: types.DistributedVirtualPort{Key: key, DvsUuid: s.Uuid,
				PortgroupKey: pg.Key, ProxyHost: &host, HostLocalPort: types.NewBool(false),
				Config: types.DVPortConfigInfo{Name: uplinks[i], Setting: pg.Config.DefaultPortConfig, ConfigVersion: "0"}},
				uplink: true, active: true, host: &host})
		}
	}
	return out
}

// portMatches tells whether p meets every criterion set in c.
func portMatches(p labPort, c *types.DistributedVirtualSwitchPortCriteria) bool {
	if c == nil {
		return true
	}
	has := func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	switch {
	case len(c.PortKey) != 0 && !has(c.PortKey, p.Key),
		len(c.PortgroupKey) != 0 && !has(c.PortgroupKey, p.PortgroupKey),
		c.Connected != nil && *c.Connected != (p.Connectee != nil || p.uplink),
		c.Active != nil && *c.Active != (p.active && (p.Connectee != nil || p.uplink)),
		c.UplinkPort != nil && *c.UplinkPort != p.uplink,
		c.Inside != nil && !*c.Inside,
		len(c.Host) != 0 && (p.host == nil || !refsHas(c.Host, *p.host)):
		return false
	}
	return true
}
