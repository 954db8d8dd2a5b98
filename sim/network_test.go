package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) networkSystem(h *object.HostSystem) *object.HostNetworkSystem {
	ns, err := h.ConfigManager().NetworkSystem(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

// networksNamed returns the datacenter's network entities named name.
func (e *labEnv) networksNamed(name string) []mo.Network {
	var dc mo.Datacenter
	if err := e.dc.Properties(e.ctx, e.dc.Reference(), []string{"network"}, &dc); err != nil {
		e.t.Fatal(err)
	}
	var out []mo.Network
	for _, ref := range dc.Network {
		if ref.Type != "Network" {
			continue
		}
		var n mo.Network
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, ref, []string{"name", "host"}, &n); err != nil {
			e.t.Fatal(err)
		}
		if n.Name == name {
			out = append(out, n)
		}
	}
	return out
}

func (e *labEnv) hostProps(h *object.HostSystem) mo.HostSystem {
	var hs mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"network", "name"}, &hs); err != nil {
		e.t.Fatal(err)
	}
	return hs
}

func (e *labEnv) hostPortGroups(h *object.HostSystem) map[string]string {
	var ns mo.HostNetworkSystem
	nsObj := e.networkSystem(h)
	if err := nsObj.Properties(e.ctx, nsObj.Reference(), []string{"networkInfo"}, &ns); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, pg := range ns.NetworkInfo.Portgroup {
		out[pg.Spec.Name] = pg.Spec.VswitchName
	}
	for _, vs := range ns.NetworkInfo.Vswitch {
		out["switch:"+vs.Name] = strings.Join(vs.Portgroup, ",")
	}
	return out
}

// hostConfigPortGroups is hostPortGroups from host.config.network.
func (e *labEnv) hostConfigPortGroups(h *object.HostSystem) map[string]string {
	var hs mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"config.network"}, &hs); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, pg := range hs.Config.Network.Portgroup {
		out[pg.Spec.Name] = pg.Spec.VswitchName
	}
	for _, vs := range hs.Config.Network.Vswitch {
		out["switch:"+vs.Name] = strings.Join(vs.Portgroup, ",")
	}
	return out
}

func netBacking(pg string) types.BaseVirtualDevice {
	return &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{
		VirtualDevice: types.VirtualDevice{Backing: &types.VirtualEthernetCardNetworkBackingInfo{
			VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: pg},
		}},
	}}}
}

func vrdmaOn(uuid, pgKey string) types.BaseVirtualDevice {
	return &types.VirtualVmxnet3Vrdma{VirtualVmxnet3: types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{
		VirtualEthernetCard: types.VirtualEthernetCard{VirtualDevice: types.VirtualDevice{
			Backing: &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{
				Port: types.DistributedVirtualSwitchPortConnection{SwitchUuid: uuid, PortgroupKey: pgKey},
			},
		}},
	}}}
}

// Defects 1 and 2: the same standard port group on several hosts.
func TestNetworkSamePortGroupOnManyHosts(t *testing.T) {
	e := newLabEnv(t)
	const sw, pg = "labnet-sw", "labnet-pg"
	hosts := []*object.HostSystem{e.host(1), e.host(2), e.host(3)}
	for _, h := range hosts {
		ns := e.networkSystem(h)
		if err := ns.AddVirtualSwitch(e.ctx, sw, &types.HostVirtualSwitchSpec{NumPorts: 128}); err != nil {
			t.Fatal(err)
		}
		if err := ns.AddPortGroup(e.ctx, types.HostPortGroupSpec{Name: pg, VswitchName: sw, Policy: types.HostNetworkPolicy{}}); err != nil {
			t.Fatalf("AddPortGroup on %s: %v", h.Reference().Value, err)
		}
	}
	err := e.networkSystem(hosts[0]).AddPortGroup(e.ctx, types.HostPortGroupSpec{Name: pg, VswitchName: sw})
	if faultName(err) != "AlreadyExists" {
		t.Errorf("same port group twice on one host: %v", err)
	}
	nets := e.networksNamed(pg)
	if len(nets) != 1 || len(nets[0].Host) != 3 {
		t.Fatalf("networks %+v", nets)
	}
	netRef := nets[0].Self
	for i, h := range hosts {
		if !refsHas(nets[0].Host, h.Reference()) || !refsHas(e.hostProps(h).Network, netRef) {
			t.Errorf("host %d and network not linked", i+1)
		}
		if pgs := e.hostPortGroups(h); pgs[pg] != sw || pgs["switch:"+sw] != pg {
			t.Errorf("host %d port groups %v", i+1, pgs)
		}
		if cfg := e.hostConfigPortGroups(h); cfg[pg] != sw || cfg["switch:"+sw] != "key-vim.host.PortGroup-"+pg {
			t.Errorf("host %d config.network %v", i+1, cfg)
		}
		vm, err := e.clone(fmt.Sprintf("labnet-vm-%d", i+1), h, addDevices(netBacking(pg)), false)
		if err != nil {
			t.Fatalf("clone onto host %d: %v", i+1, err)
		}
		var v mo.VirtualMachine
		if err := vm.Properties(e.ctx, vm.Reference(), []string{"network", "runtime.host"}, &v); err != nil {
			t.Fatal(err)
		}
		if !refsHas(v.Network, netRef) || *v.Runtime.Host != h.Reference() {
			t.Errorf("clone %d: network %v host %v", i+1, v.Network, v.Runtime.Host)
		}
	}

	// ESXi refuses to remove a port group or switch a VM's adapter is on.
	if err := e.networkSystem(hosts[0]).RemovePortGroup(e.ctx, pg); faultName(err) != "ResourceInUse" ||
		!strings.Contains(err.Error(), "VM labnet-vm-1") {
		t.Fatalf("RemovePortGroup with a VM on it: %v", err)
	}
	if err := e.networkSystem(hosts[1]).RemoveVirtualSwitch(e.ctx, sw); faultName(err) != "ResourceInUse" {
		t.Fatalf("RemoveVirtualSwitch with a VM on it: %v", err)
	}
	e.destroyMade()

	// Removing it from one host leaves the network to the others.
	if err := e.networkSystem(hosts[0]).RemovePortGroup(e.ctx, pg); err != nil {
		t.Fatal(err)
	}
	nets = e.networksNamed(pg)
	if len(nets) != 1 || len(nets[0].Host) != 2 || refsHas(nets[0].Host, hosts[0].Reference()) {
		t.Fatalf("after removing from host 1: %+v", nets)
	}
	if refsHas(e.hostProps(hosts[0]).Network, netRef) {
		t.Error("host 1 still lists the network")
	}
	if _, ok := e.hostPortGroups(hosts[0])[pg]; ok {
		t.Error("host 1 still has the port group")
	}
	if _, err := e.clone("labnet-vm-again", hosts[1], addDevices(netBacking(pg)), false); err != nil {
		t.Errorf("clone onto host 2 after removal from host 1: %v", err)
	}
	e.destroyMade()

	// RemoveVirtualSwitch takes its port groups along; the last one takes
	// the network.
	for _, h := range hosts {
		if err := e.networkSystem(h).RemoveVirtualSwitch(e.ctx, sw); err != nil {
			t.Fatal(err)
		}
		if pgs := e.hostPortGroups(h); pgs[pg] != "" || pgs["switch:"+sw] != "" {
			t.Errorf("after RemoveVirtualSwitch: %v", pgs)
		}
	}
	if nets := e.networksNamed(pg); len(nets) != 0 {
		t.Errorf("network left: %+v", nets)
	}
	for _, h := range hosts {
		if cfg := e.hostConfigPortGroups(h); cfg[pg] != "" || cfg["switch:"+sw] != "" || cfg[PortGroupName] != vSwitchName {
			t.Errorf("config.network after RemoveVirtualSwitch: %v", cfg)
		}
		if refsHas(e.hostProps(h).Network, netRef) {
			t.Error("a host still lists the removed network")
		}
	}
	// The lab's own port group is untouched.
	if nets := e.networksNamed(PortGroupName); len(nets) != 1 || len(nets[0].Host) < NumNamedHosts {
		t.Errorf("%s: %+v", PortGroupName, nets)
	}
}

func (e *labEnv) createDVS(name string, members ...*object.HostSystem) *object.DistributedVirtualSwitch {
	var specs []types.DistributedVirtualSwitchHostMemberConfigSpec
	for _, h := range members {
		specs = append(specs, types.DistributedVirtualSwitchHostMemberConfigSpec{
			Operation: string(types.ConfigSpecOperationAdd),
			Host:      h.Reference(),
			Backing: &types.DistributedVirtualSwitchHostMemberPnicBacking{
				PnicSpec: []types.DistributedVirtualSwitchHostMemberPnicSpec{{PnicDevice: "vmnic5"}},
			},
		})
	}
	spec := types.DVSCreateSpec{ConfigSpec: &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Name: name, Host: specs}}}
	task, err := e.folders.NetworkFolder.CreateDVS(e.ctx, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := task.WaitForResult(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return object.NewDistributedVirtualSwitch(e.c.Client, info.Result.(types.ManagedObjectReference))
}

func (e *labEnv) dvsProps(s *object.DistributedVirtualSwitch) mo.DistributedVirtualSwitch {
	var m mo.DistributedVirtualSwitch
	if err := s.Properties(e.ctx, s.Reference(), []string{"summary", "config", "portgroup", "uuid"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func memberNames(t *testing.T, e *labEnv, refs []types.ManagedObjectReference) []string {
	var out []string
	for _, r := range refs {
		var h mo.HostSystem
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name"}, &h); err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
	sort.Strings(out)
	return out
}

func destroyDVS(t *testing.T, e *labEnv, s *object.DistributedVirtualSwitch) {
	task, err := s.Destroy(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// Defect 3: members at creation and through ReconfigureDvs_Task.
func TestNetworkDVSMembers(t *testing.T) {
	e := newLabEnv(t)
	h4, h5, h6 := e.host(4), e.host(5), e.host(6)
	s := e.createDVS("labnet-dvs-members", h4, h5)
	defer destroyDVS(t, e, s)
	m := e.dvsProps(s)
	if got := memberNames(t, e, m.Summary.HostMember); strings.Join(got, " ") != HostName(4)+" "+HostName(5) {
		t.Fatalf("members %v", got)
	}
	cfg := m.Config.GetDVSConfigInfo()
	if len(cfg.Host) != 2 {
		t.Fatalf("config.host %+v", cfg.Host)
	}
	b, ok := cfg.Host[0].Config.Backing.(*types.DistributedVirtualSwitchHostMemberPnicBacking)
	if !ok || len(b.PnicSpec) != 1 || b.PnicSpec[0].PnicDevice != "vmnic5" {
		t.Errorf("backing %#v", cfg.Host[0].Config.Backing)
	}
	if len(m.Portgroup) != 1 || len(cfg.UplinkPortgroup) != 1 || cfg.UplinkPortgroup[0] != m.Portgroup[0] {
		t.Fatalf("port groups %v uplink %v", m.Portgroup, cfg.UplinkPortgroup)
	}
	uplink := m.Portgroup[0]
	if !refsHas(e.hostProps(h4).Network, uplink) || refsHas(e.hostProps(h6).Network, uplink) {
		t.Error("uplink port group not on exactly the members")
	}

	// Add 6, remove 5.
	spec := &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{ConfigVersion: cfg.ConfigVersion, Host: []types.DistributedVirtualSwitchHostMemberConfigSpec{
		{Operation: "add", Host: h6.Reference(), Backing: &types.DistributedVirtualSwitchHostMemberPnicBacking{}},
		{Operation: "remove", Host: h5.Reference()},
	}}}
	task, err := s.Reconfigure(e.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	m = e.dvsProps(s)
	if got := memberNames(t, e, m.Summary.HostMember); strings.Join(got, " ") != HostName(4)+" "+HostName(6) {
		t.Errorf("members after reconfigure %v", got)
	}
	if n := len(m.Config.GetDVSConfigInfo().Host); n != 2 {
		t.Errorf("config.host has %d entries", n)
	}
	if refsHas(e.hostProps(h5).Network, uplink) || !refsHas(e.hostProps(h6).Network, uplink) {
		t.Error("uplink port group not moved from host 5 to host 6")
	}
	// Adding a member twice is refused.
	task, _ = s.Reconfigure(e.ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Host: []types.DistributedVirtualSwitchHostMemberConfigSpec{
		{Operation: "add", Host: h4.Reference()},
	}}})
	if err := task.Wait(e.ctx); faultName(err) != "AlreadyExists" {
		t.Errorf("adding a member twice: %v", err)
	}
}

// Defects 4 and 5: a DVS port needs only the VM's host as a member;
// destroying the switch removes its port groups everywhere.
func TestNetworkDVSPortAndDestroy(t *testing.T) {
	e := newLabEnv(t)
	h1, h2, h7 := e.host(1), e.host(2), e.host(7)
	s := e.createDVS("labnet-dvs-port", h7)
	task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{{Name: "labnet-dvs-port-pg", Type: "earlyBinding", NumPorts: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	m := e.dvsProps(s)
	var pgRef types.ManagedObjectReference
	for _, r := range m.Portgroup {
		var pg mo.DistributedVirtualPortgroup
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name", "key"}, &pg); err != nil {
			t.Fatal(err)
		}
		if pg.Name == "labnet-dvs-port-pg" {
			pgRef = r
		}
	}
	if pgRef.Value == "" {
		t.Fatal("port group not created")
	}

	// Onto the member host (the template is on host 1, not a member).
	vm, err := e.clone("labnet-rdma-1", h7, addDevices(vrdmaOn(m.Uuid, pgRef.Value)), false)
	if err != nil {
		t.Fatalf("clone onto the member host: %v", err)
	}
	var v mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"network", "config.hardware.device"}, &v); err != nil {
		t.Fatal(err)
	}
	rdma := 0
	for _, d := range v.Config.Hardware.Device {
		if _, ok := d.(*types.VirtualVmxnet3Vrdma); ok {
			rdma++
		}
	}
	if rdma != 1 || !refsHas(v.Network, pgRef) {
		t.Errorf("clone: %d vrdma adapters, networks %v", rdma, v.Network)
	}
	// Reconfigure on the member host: another adapter.
	task, err = vm.Reconfigure(e.ctx, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		&types.VirtualDeviceConfigSpec{Operation: "add", Device: vrdmaOn(m.Uuid, pgRef.Value)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); err != nil {
		t.Errorf("reconfigure on the member host: %v", err)
	}
	// Onto a host that is not a member: refused.
	if _, err := e.clone("labnet-rdma-2", h2, addDevices(vrdmaOn(m.Uuid, pgRef.Value)), false); faultName(err) != "InvalidArgument" ||
		!strings.Contains(err.Error(), "not a member") {
		t.Errorf("clone onto a non-member: %v", err)
	}
	// The member list is as it was.
	if got := memberNames(t, e, e.dvsProps(s).Summary.HostMember); len(got) != 1 || got[0] != HostName(7) {
		t.Errorf("members %v", got)
	}

	// In use: the switch and the port group cannot be destroyed.
	if task, _ := s.Destroy(e.ctx); faultName(task.Wait(e.ctx)) != "ResourceInUse" {
		t.Error("destroying a switch in use")
	}
	if task, err := vm.Destroy(e.ctx); err != nil || task.Wait(e.ctx) != nil {
		t.Fatal("destroy clone", err)
	}

	// Destroy one port group with Destroy_Task, then the switch.
	pgObj := object.NewDistributedVirtualPortgroup(e.c.Client, pgRef)
	task, _ = pgObj.Destroy(e.ctx)
	if err := task.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
	if refsHas(e.hostProps(h7).Network, pgRef) {
		t.Error("destroyed port group still on host 7")
	}
	if m := e.dvsProps(s); refsHas(m.Portgroup, pgRef) || len(m.Portgroup) != 1 {
		t.Errorf("switch port groups %v", m.Portgroup)
	}
	uplink := e.dvsProps(s).Portgroup[0]
	destroyDVS(t, e, s)
	if testLabGet(uplink) || testLabGet(s.Reference()) {
		t.Error("switch or uplink port group still registered")
	}
	var dc mo.Datacenter
	_ = e.dc.Properties(e.ctx, e.dc.Reference(), []string{"network"}, &dc)
	if refsHas(dc.Network, uplink) || refsHas(dc.Network, s.Reference()) || refsHas(e.hostProps(h7).Network, uplink) {
		t.Error("uplink port group or switch still listed")
	}

	// QueryConfigTarget still works for the former member.
	var tv mo.VirtualMachine
	if err := e.tmpl.Properties(e.ctx, e.tmpl.Reference(), []string{"environmentBrowser"}, &tv); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*object.HostSystem{h7, h1} {
		ref := h.Reference()
		res, err := methods.QueryConfigTarget(e.ctx, e.c.Client, &types.QueryConfigTarget{This: tv.EnvironmentBrowser, Host: &ref})
		if err != nil {
			t.Fatalf("QueryConfigTarget: %v", err)
		}
		for _, pg := range res.Returnval.DistributedVirtualPortgroup {
			if pg.SwitchUuid == m.Uuid {
				t.Errorf("config target lists %s", pg.PortgroupName)
			}
		}
	}
}

func testLabGet(ref types.ManagedObjectReference) bool {
	return simulator.Map.Get(ref) != nil
}

// The toolkit adds a switch and port group on several hosts at once.
func TestNetworkPortGroupConcurrently(t *testing.T) {
	e := newLabEnv(t)
	const sw, pg = "labnet-csw", "labnet-cpg"
	var hosts []*object.HostSystem
	for i := 1; i <= NumNamedHosts; i++ {
		hosts = append(hosts, e.host(i))
	}
	run := func(f func(ns *object.HostNetworkSystem) error) {
		errs := make(chan error, len(hosts))
		for _, h := range hosts {
			ns := e.networkSystem(h)
			go func() { errs <- f(ns) }()
		}
		for range hosts {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
	run(func(ns *object.HostNetworkSystem) error {
		if err := ns.AddVirtualSwitch(e.ctx, sw, &types.HostVirtualSwitchSpec{NumPorts: 128}); err != nil {
			return err
		}
		return ns.AddPortGroup(e.ctx, types.HostPortGroupSpec{Name: pg, VswitchName: sw})
	})
	if nets := e.networksNamed(pg); len(nets) != 1 || len(nets[0].Host) != len(hosts) {
		t.Errorf("networks %+v", nets)
	}
	run(func(ns *object.HostNetworkSystem) error { return ns.RemoveVirtualSwitch(e.ctx, sw) })
	if nets := e.networksNamed(pg); len(nets) != 0 {
		t.Errorf("networks left %+v", nets)
	}
}
