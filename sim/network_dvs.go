package main

// Distributed switches: host members and removal.
//
//   - Folder.CreateDVS_Task takes the members of spec.configSpec.host
//     (operation "add"; the stock one ignores them): summary.hostMember,
//     config.host[] (with the member's backing, e.g. its pnicSpec uplinks),
//     and the switch's port groups (the uplink one included) on the
//     members' and their clusters' network lists. The uplink port group has
//     config.uplink = true and is the switch's config.uplinkPortgroup.
//   - ReconfigureDvs_Task adds, edits (backing) and removes members (the
//     stock one keeps no config.host, and a removed member keeps the
//     switch's port groups). Adding a member twice is AlreadyExists,
//     editing or removing a non-member NotFound, removing a host whose VMs
//     use the switch ResourceInUse. It also applies the spec's description,
//     maxPorts, numStandalonePorts, uplinkPortPolicy and defaultPortConfig,
//     and counts config.configVersion up.
//   - Destroy_Task on a switch removes its port groups (uplink included)
//     from the inventory, the hosts, clusters and datacenter, then the
//     switch; ResourceInUse while a VM is on one of its port groups.
//   - Destroy_Task on a distributed port group does the same for that port
//     group.
//   - AddDVPortgroup_Task is the stock one, serialized with the above.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The hooks receiving the routed methods of a folder, a switch and a
// distributed port group; their real objects (see labHook.target):
type netFolderHook struct{ labHook }
type netDVSHook struct{ labHook }
type netPortgroupHook struct{ labHook }

func (h *netFolderHook) folder(ctx *simulator.Context) *simulator.Folder {
	f, _ := h.target(ctx).(*simulator.Folder)
	return f
}

func (h *netDVSHook) dvs(ctx *simulator.Context) *simulator.DistributedVirtualSwitch {
	s, _ := h.target(ctx).(*simulator.DistributedVirtualSwitch)
	return s
}

func (h *netPortgroupHook) portgroup(ctx *simulator.Context) *simulator.DistributedVirtualPortgroup {
	pg, _ := h.target(ctx).(*simulator.DistributedVirtualPortgroup)
	return pg
}

// checkMembers validates member changes against the current members of
// switch self (nil when being created) of version product: hosts, their
// ESXi version (network_dvs_version.go), their uplinks
// (network_uplinks.go) and the VMkernel adapters of removed members.
func checkMembers(self *types.ManagedObjectReference, product *types.DistributedVirtualSwitchProductSpec, uuid string,
	current []types.ManagedObjectReference, specs []types.DistributedVirtualSwitchHostMemberConfigSpec) (types.BaseMethodFault, string) {
	members := append([]types.ManagedObjectReference(nil), current...)
	for i, m := range specs {
		host, ok := simulator.Map.Get(m.Host).(*simulator.HostSystem)
		if !ok {
			return &types.ManagedObjectNotFound{Obj: m.Host}, fmt.Sprintf("host[%d]: %s is not a host", i, m.Host.Value)
		}
		switch types.ConfigSpecOperation(m.Operation) {
		case types.ConfigSpecOperationAdd:
			if refsHas(members, m.Host) {
				return &types.AlreadyExists{Name: host.Name}, "host " + host.Name + " is already a member of the switch"
			}
			if f, msg := checkMemberVersion(host, product); f != nil {
				return f, msg
			}
			if f, msg := checkMemberPnics(host, m.Backing, self); f != nil {
				return f, msg
			}
			members = append(members, m.Host)
		case types.ConfigSpecOperationEdit, types.ConfigSpecOperationRemove:
			if !refsHas(members, m.Host) {
				return &types.NotFound{}, "host " + host.Name + " is not a member of the switch"
			}
			if m.Operation == string(types.ConfigSpecOperationRemove) {
				if vnics := vnicsOn(host, uuid, ""); len(vnics) != 0 {
					return vnicInUse(host.Name, vnics)
				}
				members = refsWithout(members, m.Host)
			} else if m.Backing != nil {
				if f, msg := checkMemberPnics(host, m.Backing, self); f != nil {
					return f, msg
				}
			}
		default:
			return &types.InvalidArgument{InvalidProperty: fmt.Sprintf("host[%d].operation", i)},
				fmt.Sprintf("host[%d]: bad operation %q", i, m.Operation)
		}
	}
	return nil, ""
}

// vmsOnPortgroups returns a VM on host (nil: any host) with an adapter on
// one of the port groups pgs, or nil.
func vmOnPortgroups(host *simulator.HostSystem, pgs []types.ManagedObjectReference) (*simulator.VirtualMachine, types.ManagedObjectReference) {
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || (host != nil && (vm.Runtime.Host == nil || *vm.Runtime.Host != host.Self)) {
			continue
		}
		for _, n := range vm.Network {
			if refsHas(pgs, n) {
				return vm, n
			}
		}
	}
	return nil, types.ManagedObjectReference{}
}

func dvsConfig(s *simulator.DistributedVirtualSwitch) *types.DVSConfigInfo {
	if s.Config == nil {
		return nil
	}
	return s.Config.GetDVSConfigInfo()
}

// applyMembers applies validated member changes to switch s (locked by the
// caller).
func applyMembers(s *simulator.DistributedVirtualSwitch, specs []types.DistributedVirtualSwitchHostMemberConfigSpec) (types.BaseMethodFault, string) {
	for _, m := range specs {
		if m.Operation != string(types.ConfigSpecOperationRemove) {
			continue
		}
		host := simulator.Map.Get(m.Host).(*simulator.HostSystem)
		if vm, pg := vmOnPortgroups(host, s.Portgroup); vm != nil {
			return &types.ResourceInUse{Type: pg.Type, Name: pg.Value},
				fmt.Sprintf("VM %s on host %s uses port group %s of switch %s", vm.Name, host.Name, pg.Value, s.Name)
		}
	}
	cfg := dvsConfig(s)
	members := append([]types.ManagedObjectReference(nil), s.Summary.HostMember...)
	for _, m := range specs {
		host := simulator.Map.Get(m.Host).(*simulator.HostSystem)
		ref := m.Host
		switch types.ConfigSpecOperation(m.Operation) {
		case types.ConfigSpecOperationAdd:
			members = refsWith(members, ref)
			backing := m.Backing
			if backing == nil {
				backing = &types.DistributedVirtualSwitchHostMemberPnicBacking{}
			}
			ports := m.MaxProxySwitchPorts
			if ports == 0 {
				ports = 512
			}
			if cfg != nil {
				cfg.Host = append(append([]types.DistributedVirtualSwitchHostMember(nil), cfg.Host...), types.DistributedVirtualSwitchHostMember{
					Config: types.DistributedVirtualSwitchHostMemberConfigInfo{
						Host:                 &ref,
						MaxProxySwitchPorts:  ports,
						VendorSpecificConfig: m.VendorSpecificConfig,
						Backing:              backing,
					},
					ProductInfo: s.Summary.ProductInfo,
					Status:      "up",
				})
			}
			for _, pg := range s.Portgroup {
				if obj := simulator.Map.Get(pg); obj != nil {
					attachNetwork(host, obj)
				}
			}
		case types.ConfigSpecOperationEdit:
			if cfg == nil {
				continue
			}
			for i := range cfg.Host {
				if c := &cfg.Host[i].Config; c.Host != nil && *c.Host == ref {
					if m.Backing != nil {
						c.Backing = m.Backing
					}
					if m.MaxProxySwitchPorts != 0 {
						c.MaxProxySwitchPorts = m.MaxProxySwitchPorts
					}
				}
			}
		case types.ConfigSpecOperationRemove:
			members = refsWithout(members, ref)
			if cfg != nil {
				var kept []types.DistributedVirtualSwitchHostMember
				for _, hm := range cfg.Host {
					if hm.Config.Host == nil || *hm.Config.Host != ref {
						kept = append(kept, hm)
					}
				}
				cfg.Host = kept
			}
			for _, pg := range s.Portgroup {
				if obj := simulator.Map.Get(pg); obj != nil {
					detachNetwork(host, obj)
				}
			}
		}
	}
	simulator.Map.Update(s, []types.PropertyChange{{Name: "summary.hostMember", Val: members}})
	for _, m := range specs {
		if host, ok := simulator.Map.Get(m.Host).(*simulator.HostSystem); ok {
			syncProxySwitches(host)
		}
	}
	return nil, ""
}

// bumpConfigVersion counts config.configVersion up (vSphere changes it at
// every reconfiguration).
func bumpConfigVersion(cfg *types.DVSConfigInfo) {
	n, _ := strconv.Atoi(cfg.ConfigVersion)
	cfg.ConfigVersion = strconv.Itoa(n + 1)
}

// markUplinkPortgroup flags switch s's uplink port group (the one the stock
// CreateDVS_Task makes, named SWITCH-DVUplinks-N).
func markUplinkPortgroup(s *simulator.DistributedVirtualSwitch) {
	cfg := dvsConfig(s)
	for _, ref := range s.Portgroup {
		pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup)
		if !ok || !strings.HasPrefix(pg.Name, s.Name+"-DVUplinks") {
			continue
		}
		simulator.Map.WithLock(pg, func() { pg.Config.Uplink = types.NewBool(true) })
		if cfg != nil && !refsHas(cfg.UplinkPortgroup, ref) {
			cfg.UplinkPortgroup = refsWith(cfg.UplinkPortgroup, ref)
		}
	}
}

// CreateDVSTask creates a switch with the stock method, then adds the
// members of spec.configSpec.host.
func (h *netFolderHook) CreateDVSTask(ctx *simulator.Context, req *types.CreateDVS_Task) soap.HasFault {
	f := h.folder(ctx)
	if f == nil {
		return &methods.CreateDVS_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var specs []types.DistributedVirtualSwitchHostMemberConfigSpec
	if req.Spec.ConfigSpec != nil {
		specs = req.Spec.ConfigSpec.GetDVSConfigSpec().Host
	}
	for i, m := range specs {
		if m.Operation != string(types.ConfigSpecOperationAdd) {
			fault := &types.InvalidArgument{InvalidProperty: fmt.Sprintf("spec.configSpec.host[%d].operation", i)}
			return &methods.CreateDVS_TaskBody{Res: &types.CreateDVS_TaskResponse{
				Returnval: failedNetTask(f, "createDVS", fault, "a new switch's members must have operation add")}}
		}
	}
	product, msg := newSwitchProduct(req.Spec.ProductInfo)
	if product == nil {
		return &methods.CreateDVS_TaskBody{Res: &types.CreateDVS_TaskResponse{Returnval: failedNetTask(f, "createDVS",
			withMessage(&types.InvalidArgument{InvalidProperty: "spec.productInfo.version"}, "dvsVersion", msg), msg)}}
	}
	if fault, msg := checkMembers(nil, product, "", nil, specs); fault != nil {
		return &methods.CreateDVS_TaskBody{Res: &types.CreateDVS_TaskResponse{Returnval: failedNetTask(f, "createDVS", fault, msg)}}
	}
	if req.Spec.ConfigSpec == nil {
		return &methods.CreateDVS_TaskBody{Res: &types.CreateDVS_TaskResponse{
			Returnval: failedNetTask(f, "createDVS", &types.InvalidArgument{InvalidProperty: "spec.configSpec"}, "spec.configSpec is missing")}}
	}
	req.Spec.ProductInfo = product
	if fault := mtuFault(dvsMaxMtu(req.Spec.ConfigSpec), "spec.configSpec.maxMtu"); fault != nil { // network_mtu.go
		return &methods.CreateDVS_TaskBody{Res: &types.CreateDVS_TaskResponse{
			Returnval: failedNetTask(f, "createDVS", fault, faultText(fault))}}
	}
	res := f.CreateDVSTask(ctx, req)
	t, fault := taskOutcome(res)
	if fault != nil || t == nil {
		return res
	}
	ref, ok := t.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return res
	}
	if s, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualSwitch); ok {
		simulator.Map.WithLock(s, func() {
			markUplinkPortgroup(s)
			if cfg := dvsConfig(s); cfg != nil {
				if cfg.ConfigVersion == "" {
					cfg.ConfigVersion = "1"
				}
				cfg.ProductInfo = *product
			}
			applyMembers(s, specs)
			setDVSMaxMtu(s, dvsMaxMtu(req.Spec.ConfigSpec)) // network_mtu.go
			fillDVSDefaults(s)                              // dvs_defaults.go
		})
	}
	return res
}

// ReconfigureDvsTask changes the members (and a few settings) of the switch.
func (h *netDVSHook) ReconfigureDvsTask(ctx *simulator.Context, req *types.ReconfigureDvs_Task) soap.HasFault {
	s := h.dvs(ctx)
	if s == nil {
		return &methods.ReconfigureDvs_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(s, func() {
		if req.Spec == nil {
			ref = failedNetTask(s, "reconfigureDvs", &types.InvalidArgument{InvalidProperty: "spec"}, "spec is missing")
			return
		}
		spec := req.Spec.GetDVSConfigSpec()
		if fault, msg := checkMembers(&s.Self, s.Summary.ProductInfo, s.Uuid, s.Summary.HostMember, spec.Host); fault != nil {
			ref = failedNetTask(s, "reconfigureDvs", fault, msg)
			return
		}
		ref = simulator.CreateTask(s, "reconfigureDvs", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			if fault, _ := applyMembers(s, spec.Host); fault != nil {
				return nil, fault
			}
			if cfg := dvsConfig(s); cfg != nil {
				if spec.Description != "" {
					cfg.Description = spec.Description
					s.Summary.Description = spec.Description
				}
				if spec.MaxPorts != 0 {
					cfg.MaxPorts = spec.MaxPorts
				}
				if spec.NumStandalonePorts != 0 {
					cfg.NumStandalonePorts = spec.NumStandalonePorts
				}
				if spec.UplinkPortPolicy != nil {
					cfg.UplinkPortPolicy = spec.UplinkPortPolicy
				}
				if spec.DefaultPortConfig != nil {
					cfg.DefaultPortConfig = spec.DefaultPortConfig
				}
				bumpConfigVersion(cfg)
			}
			fillDVSDefaults(s) // dvs_defaults.go
			return nil, nil
		}).Run()
	})
	return &methods.ReconfigureDvs_TaskBody{Res: &types.ReconfigureDvs_TaskResponse{Returnval: ref}}
}

// AddDVPortgroupTask is the stock method, serialized with the lab's other
// network changes.
func (h *netDVSHook) AddDVPortgroupTask(ctx *simulator.Context, req *types.AddDVPortgroup_Task) soap.HasFault {
	s := h.dvs(ctx)
	if s == nil {
		return &methods.AddDVPortgroup_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var res soap.HasFault
	withLocked(ctx, s, func() {
		if res = s.AddDVPortgroupTask(ctx, req); res.Fault() == nil {
			fillDVSDefaults(s) // dvs_defaults.go
		}
	})
	return res
}

// withLocked runs f holding obj's lock, with ctx.Caller set to obj as the
// simulator does for a call on obj (so the stock code does not lock it
// again).
func withLocked(ctx *simulator.Context, obj mo.Reference, f func()) {
	ref := obj.Reference()
	simulator.Map.WithLock(obj, func() {
		saved := ctx.Caller
		ctx.Caller = &ref
		defer func() { ctx.Caller = saved }()
		f()
	})
}

// removePortgroup removes distributed port group pg from its switch s
// (locked by the caller; nil if gone), the hosts, clusters and the
// inventory. pg must not be locked by the caller.
func removePortgroup(s *simulator.DistributedVirtualSwitch, pg *simulator.DistributedVirtualPortgroup) {
	ref := pg.Self
	for _, h := range append([]types.ManagedObjectReference(nil), pg.Host...) {
		if host, ok := simulator.Map.Get(h).(*simulator.HostSystem); ok {
			detachNetwork(host, pg)
		}
	}
	// Hosts that list the port group without being in its host list.
	for _, e := range simulator.Map.All("HostSystem") {
		if host, ok := e.(*simulator.HostSystem); ok && refsHas(host.Network, ref) {
			detachNetwork(host, pg)
		}
	}
	if s != nil {
		var names []string
		for _, n := range s.Summary.PortgroupName {
			if n != pg.Name {
				names = append(names, n)
			}
		}
		simulator.Map.Update(s, []types.PropertyChange{
			{Name: "portgroup", Val: refsWithout(s.Portgroup, ref)},
			{Name: "summary.portgroupName", Val: names},
		})
		if cfg := dvsConfig(s); cfg != nil {
			cfg.UplinkPortgroup = refsWithout(cfg.UplinkPortgroup, ref)
		}
	}
	removeEntity(pg)
}

// DestroyTask destroys the switch and its port groups.
func (h *netDVSHook) DestroyTask(ctx *simulator.Context, req *types.Destroy_Task) soap.HasFault {
	s := h.dvs(ctx)
	if s == nil {
		return &methods.Destroy_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(s, func() {
		ref = simulator.CreateTask(s, "destroy", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			if vm, pg := vmOnPortgroups(nil, s.Portgroup); vm != nil {
				return nil, withMessage(&types.ResourceInUse{Type: pg.Type, Name: pg.Value}, "portgroupInUse",
					fmt.Sprintf("The resource '%s' is in use: VM %s has an adapter on port group %s of switch %s.",
						s.Name, vm.Name, pg.Value, s.Name))
			}
			if vnics := vnicsOn(nil, s.Uuid, ""); len(vnics) != 0 {
				f, _ := vnicInUse(s.Name, vnics)
				return nil, f
			}
			members := append([]types.ManagedObjectReference(nil), s.Summary.HostMember...)
			for _, pgRef := range append([]types.ManagedObjectReference(nil), s.Portgroup...) {
				if pg, ok := simulator.Map.Get(pgRef).(*simulator.DistributedVirtualPortgroup); ok {
					removePortgroup(s, pg)
				}
			}
			// Port groups naming this switch that it no longer lists.
			for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
				pg, ok := e.(*simulator.DistributedVirtualPortgroup)
				if ok && pg.Config.DistributedVirtualSwitch != nil && *pg.Config.DistributedVirtualSwitch == s.Self {
					removePortgroup(nil, pg)
				}
			}
			removeEntity(s)
			for _, m := range members {
				if host, ok := simulator.Map.Get(m).(*simulator.HostSystem); ok {
					syncProxySwitches(host)
				}
			}
			return nil, nil
		}).Run()
	})
	setTaskFaultMessage(ref)
	return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: ref}}
}

// DestroyTask destroys the distributed port group.
func (h *netPortgroupHook) DestroyTask(ctx *simulator.Context, req *types.Destroy_Task) soap.HasFault {
	pg := h.portgroup(ctx)
	if pg == nil {
		return &methods.Destroy_TaskBody{Fault_: notFound(h.real)}
	}
	netMu.Lock()
	defer netMu.Unlock()
	var s *simulator.DistributedVirtualSwitch
	if pg.Config.DistributedVirtualSwitch != nil {
		s, _ = simulator.Map.Get(*pg.Config.DistributedVirtualSwitch).(*simulator.DistributedVirtualSwitch)
	}
	// The port group itself is not locked: removePortgroup updates its host
	// list through the registry's lock. netMu and the switch's lock keep
	// the lab's other changes out.
	var ref types.ManagedObjectReference
	run := func() {
		ref = simulator.CreateTask(pg, "destroy", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			if vm, _ := vmOnPortgroups(nil, []types.ManagedObjectReference{pg.Self}); vm != nil {
				return nil, withMessage(&types.ResourceInUse{Type: pg.Self.Type, Name: pg.Name}, "portgroupInUse",
					fmt.Sprintf("The resource '%s' is in use: VM %s has an adapter on it.", pg.Name, vm.Name))
			}
			if s != nil {
				if vnics := vnicsOn(nil, s.Uuid, pg.Key); len(vnics) != 0 {
					f, _ := vnicInUse(pg.Name, vnics)
					return nil, f
				}
			}
			removePortgroup(s, pg)
			return nil, nil
		}).Run()
	}
	if s != nil {
		simulator.Map.WithLock(s, run)
	} else {
		run()
	}
	setTaskFaultMessage(ref)
	return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: ref}}
}
