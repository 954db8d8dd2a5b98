package main

import (
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) hostNetwork(h *object.HostSystem) *types.HostNetworkInfo {
	var hs mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"config.network"}, &hs); err != nil {
		e.t.Fatal(err)
	}
	return hs.Config.Network
}

func (e *labEnv) addSwitch(h *object.HostSystem, name string, mtu int32, pnics ...string) error {
	spec := &types.HostVirtualSwitchSpec{NumPorts: 128, Mtu: mtu}
	if len(pnics) != 0 {
		spec.Bridge = &types.HostVirtualSwitchBondBridge{NicDevice: pnics}
	}
	return e.networkSystem(h).AddVirtualSwitch(e.ctx, name, spec)
}

func (e *labEnv) removeSwitch(h *object.HostSystem, name string) {
	if err := e.networkSystem(h).RemoveVirtualSwitch(e.ctx, name); err != nil {
		e.t.Error(err)
	}
}

// dvsSpec is a create spec with members on pnics, at version (""= default).
func dvsSpec(name, version string, pnics []string, members ...*object.HostSystem) types.DVSCreateSpec {
	var specs []types.DistributedVirtualSwitchHostMemberConfigSpec
	var pnicSpec []types.DistributedVirtualSwitchHostMemberPnicSpec
	for _, p := range pnics {
		pnicSpec = append(pnicSpec, types.DistributedVirtualSwitchHostMemberPnicSpec{PnicDevice: p})
	}
	for _, h := range members {
		specs = append(specs, types.DistributedVirtualSwitchHostMemberConfigSpec{
			Operation: "add", Host: h.Reference(),
			Backing: &types.DistributedVirtualSwitchHostMemberPnicBacking{PnicSpec: pnicSpec},
		})
	}
	spec := types.DVSCreateSpec{ConfigSpec: &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Name: name, Host: specs}}}
	if version != "" {
		spec.ProductInfo = &types.DistributedVirtualSwitchProductSpec{Version: version}
	}
	return spec
}

func (e *labEnv) tryCreateDVS(spec types.DVSCreateSpec) (*object.DistributedVirtualSwitch, error) {
	task, err := e.folders.NetworkFolder.CreateDVS(e.ctx, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := task.WaitForResult(e.ctx, nil)
	if err != nil {
		return nil, err
	}
	return object.NewDistributedVirtualSwitch(e.c.Client, info.Result.(types.ManagedObjectReference)), nil
}

// AddVirtualSwitch keeps the bridge and MTU; a pnic is the uplink of one
// switch only, standard or distributed.
func TestUplinksStandardSwitchBridgeAndConflicts(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(2)
	if err := e.addSwitch(h, "uplink-a", 9000, "vmnic2"); err != nil {
		t.Fatal(err)
	}
	defer e.removeSwitch(h, "uplink-a")
	var sw *types.HostVirtualSwitch
	for _, vs := range e.hostNetwork(h).Vswitch {
		if vs.Name == "uplink-a" {
			sw = &vs
		}
	}
	if sw == nil || sw.Mtu != 9000 || strings.Join(sw.Pnic, ",") != "key-vim.host.PhysicalNic-vmnic2" ||
		strings.Join(bridgeNics(sw.Spec.Bridge), ",") != "vmnic2" || sw.Spec.Mtu != 9000 {
		t.Fatalf("switch in config.network: %+v", sw)
	}
	// The same uplink for a second standard switch, or vSwitch0's vmnic0.
	for _, nic := range []string{"vmnic2", "vmnic0"} {
		err := e.addSwitch(h, "uplink-b", 0, nic)
		if faultName(err) != "ResourceInUse" || !strings.Contains(err.Error(), "The resource '"+nic+"' is in use") {
			t.Errorf("second switch on %s: %v", nic, err)
		}
	}
	if err := e.addSwitch(h, "uplink-b", 0, "vmnic9"); faultName(err) != "NotFound" {
		t.Errorf("unknown pnic: %v", err)
	}
	if err := e.addSwitch(h, "uplink-b", 12000); faultName(err) != "InvalidArgument" {
		t.Errorf("MTU 12000: %v", err)
	}
	// A distributed switch cannot take it either; it can take a free one.
	_, err := e.tryCreateDVS(dvsSpec("uplink-dvs", "", []string{"vmnic2"}, h))
	if faultName(err) != "DvsOperationBulkFault" || !strings.Contains(err.Error(), "standard switch uplink-a") {
		t.Errorf("DVS on a standard switch's uplink: %v", err)
	}
	s, err := e.tryCreateDVS(dvsSpec("uplink-dvs", "", []string{"vmnic3"}, h))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	proxies := e.hostNetwork(h).ProxySwitch
	if len(proxies) != 1 || proxies[0].DvsName != "uplink-dvs" || strings.Join(proxies[0].Pnic, ",") != "key-vim.host.PhysicalNic-vmnic3" {
		t.Errorf("proxySwitch %+v", proxies)
	}
	if err := e.addSwitch(h, "uplink-c", 0, "vmnic3"); faultName(err) != "ResourceInUse" || !strings.Contains(err.Error(), "distributed switch uplink-dvs") {
		t.Errorf("standard switch on a DVS uplink: %v", err)
	}
	// Nor a second distributed switch, when adding a member.
	other, err := e.tryCreateDVS(dvsSpec("uplink-dvs2", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, other)
	task, err := other.Reconfigure(e.ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{
		Host: dvsSpec("", "", []string{"vmnic3"}, h).ConfigSpec.GetDVSConfigSpec().Host}})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); faultName(err) != "DvsOperationBulkFault" || !strings.Contains(err.Error(), "vmnic3") {
		t.Errorf("second DVS on the same uplink: %v", err)
	}
}

// A switch is created at a version its members support.
func TestUplinksDVSVersions(t *testing.T) {
	e := newLabEnv(t)
	h1, h2 := e.host(1), e.host(2) // ESXi 6.7.0 and 7.0.0
	var hs mo.HostSystem
	if err := h1.Properties(e.ctx, h1.Reference(), []string{"config.product", "summary.config.product"}, &hs); err != nil {
		t.Fatal(err)
	}
	if hs.Config.Product.Version != "6.7.0" || hs.Summary.Config.Product.Version != "6.7.0" {
		t.Errorf("host 1 runs %+v", hs.Config.Product)
	}
	_, err := e.tryCreateDVS(dvsSpec("version-dvs", "", []string{"vmnic5"}, h1, h2))
	if faultName(err) != "NotSupportedHostInDvs" || !strings.Contains(err.Error(), HostName(1)) {
		t.Errorf("default version with a 6.7 host: %v", err)
	}
	if _, err := e.tryCreateDVS(dvsSpec("version-dvs", "7.0.3", nil)); faultName(err) != "InvalidArgument" {
		t.Errorf("a version vCenter 7.0.0 does not create: %v", err)
	}
	s, err := e.tryCreateDVS(dvsSpec("version-dvs", "6.6.0", []string{"vmnic5"}, h1, h2))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	if m := e.dvsProps(s); m.Summary.ProductInfo.Version != "6.6.0" || m.Config.GetDVSConfigInfo().ProductInfo.Version != "6.6.0" {
		t.Errorf("productInfo %+v", m.Summary.ProductInfo)
	}
	newer, err := e.tryCreateDVS(dvsSpec("version-dvs-7", "", []string{"vmnic4"}, h2))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, newer)
	task, err := newer.Reconfigure(e.ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{
		Host: dvsSpec("", "", []string{"vmnic4"}, h1).ConfigSpec.GetDVSConfigSpec().Host}})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(e.ctx); faultName(err) != "NotSupportedHostInDvs" || !strings.Contains(err.Error(), "6.7.0") {
		t.Errorf("adding a 6.7 host to a 7.0.0 switch: %v", err)
	}
}

// Static binding port groups: fixed ones run out, elastic ones grow.
func TestUplinksPortGroupPorts(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(7)
	s, err := e.tryCreateDVS(dvsSpec("ports-dvs", "", []string{"vmnic2"}, h))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{
		{Name: "ports-fixed", Type: "earlyBinding", NumPorts: 2, AutoExpand: types.NewBool(false)},
		{Name: "ports-elastic", Type: "earlyBinding", NumPorts: 2, AutoExpand: types.NewBool(true)},
	})
	if err != nil || task.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	m := e.dvsProps(s)
	keys := map[string]types.ManagedObjectReference{}
	for _, r := range m.Portgroup {
		var pg mo.DistributedVirtualPortgroup
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name"}, &pg); err != nil {
			t.Fatal(err)
		}
		keys[pg.Name] = r
	}
	for i := 0; i < 2; i++ {
		if _, err := e.clone("ports-fixed-"+string(rune('a'+i)), h, addDevices(vrdmaOn(m.Uuid, keys["ports-fixed"].Value)), false); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.clone("ports-fixed-c", h, addDevices(vrdmaOn(m.Uuid, keys["ports-fixed"].Value)), false)
	if faultName(err) != "InvalidDeviceSpec" || !strings.Contains(err.Error(), "No free port is available in distributed port group ports-fixed") {
		t.Errorf("third adapter on 2 fixed ports: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := e.clone("ports-elastic-"+string(rune('a'+i)), h, addDevices(vrdmaOn(m.Uuid, keys["ports-elastic"].Value)), false); err != nil {
			t.Fatalf("elastic port group, adapter %d: %v", i+1, err)
		}
	}
	var pg mo.DistributedVirtualPortgroup
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, keys["ports-elastic"], []string{"config"}, &pg); err != nil {
		t.Fatal(err)
	}
	if pg.Config.NumPorts != 10 {
		t.Errorf("elastic port group has %d ports, want 2 + a set of 8", pg.Config.NumPorts)
	}
	for _, vm := range e.made {
		if tk, err := vm.Destroy(e.ctx); err == nil {
			_ = tk.Wait(e.ctx)
		}
	}
	e.made = nil
}

// TestVMkernelAdaptersTakePorts: a VMkernel adapter on a static-binding
// port group takes a port as a VM adapter does; a fixed port group refuses
// what would overfill it, either kind.
func TestVMkernelAdaptersTakePorts(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(8)
	s, err := e.tryCreateDVS(dvsSpec("vmkports-dvs", "", []string{"vmnic3"}, h))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{
		{Name: "vmkports-fixed", Type: "earlyBinding", NumPorts: 2, AutoExpand: types.NewBool(false)}})
	if err != nil || task.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	m := e.dvsProps(s)
	var key string
	for _, r := range m.Portgroup {
		var pg mo.DistributedVirtualPortgroup
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name", "key"}, &pg); err != nil {
			t.Fatal(err)
		}
		if pg.Name == "vmkports-fixed" {
			key = pg.Key
		}
	}
	vmk, err := e.addVnic(h, m.Uuid, key)
	if err != nil {
		t.Fatal(err)
	}
	defer e.removeVnic(h, vmk)
	if _, err := e.clone("vmkports-a", h, addDevices(vrdmaOn(m.Uuid, key)), false); err != nil {
		t.Fatal(err)
	}
	_, err = e.clone("vmkports-b", h, addDevices(vrdmaOn(m.Uuid, key)), false)
	if faultName(err) != "InvalidDeviceSpec" || !strings.Contains(err.Error(), "No free port") {
		t.Errorf("a VM adapter beyond the ports a VMkernel adapter and a VM hold: %v", err)
	}
	if _, err := e.addVnic(h, m.Uuid, key); faultName(err) != "InvalidArgument" || !strings.Contains(err.Error(), "No free port") {
		t.Errorf("a second VMkernel adapter on a full fixed port group: %v", err)
	}
	for _, vm := range e.made {
		if tk, err := vm.Destroy(e.ctx); err == nil {
			_ = tk.Wait(e.ctx)
		}
	}
	e.made = nil
}
