package main

// What third-party clients read without checking (clients.go and the files
// it names), read back with govmomi as govc reads it.

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Every manager a host's configManager names exists and is the host's own.
func TestHostManagersExist(t *testing.T) {
	e := newLabEnv(t)
	seen := map[types.ManagedObjectReference]string{}
	for _, n := range []int{1, 2} {
		h := e.host(n)
		var m mo.HostSystem
		if err := h.Properties(e.ctx, h.Reference(), []string{"configManager", "capability"}, &m); err != nil {
			t.Fatal(err)
		}
		if m.Capability == nil || !m.Capability.VmotionSupported {
			t.Errorf("host %d: capability %+v", n, m.Capability)
		}
		cm := reflect.ValueOf(m.ConfigManager)
		for i := 0; i < cm.NumField(); i++ {
			ref, ok := cm.Field(i).Interface().(*types.ManagedObjectReference)
			if !ok || ref == nil {
				continue
			}
			field := cm.Type().Field(i).Name
			if other, dup := seen[*ref]; dup {
				t.Errorf("%s of host %d is also %s", ref.Value, n, other)
			}
			seen[*ref] = field
			_, err := methods.RetrievePropertiesEx(e.ctx, e.c, &types.RetrievePropertiesEx{
				This: e.c.ServiceContent.PropertyCollector, SpecSet: []types.PropertyFilterSpec{{
					ObjectSet: []types.ObjectSpec{{Obj: *ref}}, PropSet: []types.PropertySpec{{Type: ref.Type, All: types.NewBool(true)}}}}})
			if err != nil {
				t.Errorf("host %d %s %s: %v", n, field, ref.Value, err)
			}
		}
	}
	if len(seen) < 2*30 {
		t.Errorf("only %d managers", len(seen))
	}
}

// The services, clock, image and VMkernel selection a host reports.
func TestHostManagersAnswer(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(2)
	var m mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"configManager"}, &m); err != nil {
		t.Fatal(err)
	}
	cm := m.ConfigManager
	var svc mo.HostServiceSystem
	if err := h.Properties(e.ctx, *cm.ServiceSystem, nil, &svc); err != nil || len(svc.ServiceInfo.Service) < 10 {
		t.Fatalf("services: %v %v", err, svc.ServiceInfo)
	}
	if _, err := methods.StartService(e.ctx, e.c, &types.StartService{This: *cm.ServiceSystem, Id: "TSM-SSH"}); err != nil {
		t.Fatal(err)
	}
	_ = h.Properties(e.ctx, *cm.ServiceSystem, nil, &svc)
	for _, s := range svc.ServiceInfo.Service {
		if s.Key == "TSM-SSH" && !s.Running {
			t.Error("SSH did not start")
		}
	}
	if _, err := methods.StopService(e.ctx, e.c, &types.StopService{This: *cm.ServiceSystem, Id: "TSM-SSH"}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.StartService(e.ctx, e.c, &types.StartService{This: *cm.ServiceSystem, Id: "nope"}); faultName(err) != "NotFound" {
		t.Errorf("unknown service: %v", err)
	}
	acc, err := methods.HostImageConfigGetAcceptance(e.ctx, e.c, &types.HostImageConfigGetAcceptance{This: *cm.ImageConfigManager})
	if err != nil || acc.Returnval != "partner" {
		t.Errorf("acceptance %v %v", acc, err)
	}
	nc, err := methods.QueryNetConfig(e.ctx, e.c, &types.QueryNetConfig{This: *cm.VirtualNicManager, NicType: "management"})
	if err != nil || nc.Returnval == nil || len(nc.Returnval.SelectedVnic) != 1 ||
		!strings.HasSuffix(nc.Returnval.SelectedVnic[0], "vmk0") {
		t.Errorf("management vnic: %+v %v", nc, err)
	}
	if _, err := methods.QueryNetConfig(e.ctx, e.c, &types.QueryNetConfig{This: *cm.VirtualNicManager, NicType: "nope"}); faultName(err) != "InvalidArgument" {
		t.Errorf("unknown nic type: %v", err)
	}
	var ns mo.HostNetworkSystem
	if err := h.Properties(e.ctx, *cm.NetworkSystem, []string{"networkConfig", "networkInfo.pnic"}, &ns); err != nil {
		t.Fatal(err)
	}
	if ns.NetworkConfig == nil || len(ns.NetworkConfig.Pnic) != 6 || len(ns.NetworkInfo.Pnic) != 6 || len(ns.NetworkConfig.Vswitch) == 0 {
		t.Errorf("network config: %+v", ns.NetworkConfig)
	}
	status, err := methods.QueryHostStatus(e.ctx, e.c, &types.QueryHostStatus{This: *cm.VsanSystem})
	if err != nil || status.Returnval.NodeState.State != "disabled" {
		t.Errorf("vsan status %+v %v", status, err)
	}
}

// A cluster's totals are its hosts' sums; its root pool's limits are them;
// configuration mirrors configurationEx; a destroyed VM leaves its group.
func TestClusterFacts(t *testing.T) {
	e := newLabEnv(t)
	gpu, err := e.f.ClusterComputeResource(e.ctx, GPUClusterName)
	if err != nil {
		t.Fatal(err)
	}
	var c mo.ClusterComputeResource
	if err := gpu.Properties(e.ctx, gpu.Reference(), []string{"host", "summary", "resourcePool", "configurationEx"}, &c); err != nil {
		t.Fatal(err)
	}
	var cores int16
	var mhz int32
	for _, ref := range c.Host {
		var h mo.HostSystem
		if err := gpu.Properties(e.ctx, ref, []string{"summary.hardware"}, &h); err != nil {
			t.Fatal(err)
		}
		cores += h.Summary.Hardware.NumCpuCores
		mhz += h.Summary.Hardware.CpuMhz * int32(h.Summary.Hardware.NumCpuCores)
	}
	s := c.Summary.GetComputeResourceSummary()
	if s.NumCpuCores != cores || s.TotalCpu != mhz || s.EffectiveCpu != mhz || int(s.NumHosts) != len(c.Host) {
		t.Errorf("summary %+v; want %d cores, %d MHz", s, cores, mhz)
	}
	var pool mo.ResourcePool
	if err := gpu.Properties(e.ctx, *c.ResourcePool, []string{"config", "runtime"}, &pool); err != nil {
		t.Fatal(err)
	}
	if l := pool.Config.CpuAllocation.Limit; l == nil || *l != int64(mhz) || pool.Runtime.Cpu.MaxUsage != int64(mhz) ||
		pool.Config.Entity == nil || *pool.Config.Entity != *c.ResourcePool {
		t.Errorf("root pool: %+v %+v", pool.Config, pool.Runtime.Cpu)
	}
	cfg := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if cfg.VsanConfigInfo == nil || cfg.DasConfig.Enabled == nil || cfg.DpmConfigInfo == nil {
		t.Errorf("configurationEx lacks vSAN, HA or DPM: %+v", cfg)
	}

	a := e.mustClone("cluster-facts-a", e.host(2), nil)
	b := e.mustClone("cluster-facts-b", e.host(3), nil)
	spec := &types.ClusterConfigSpecEx{
		GroupSpec: []types.ClusterGroupSpec{{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd},
			Info: &types.ClusterVmGroup{ClusterGroupInfo: types.ClusterGroupInfo{Name: "facts-group"}, Vm: []types.ManagedObjectReference{a.Reference(), b.Reference()}}}},
		RulesSpec: []types.ClusterRuleSpec{{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd},
			Info: &types.ClusterAntiAffinityRuleSpec{ClusterRuleInfo: types.ClusterRuleInfo{Name: "facts-rule", Enabled: types.NewBool(true)},
				Vm: []types.ManagedObjectReference{a.Reference(), b.Reference()}}}},
		DrsConfig: &types.ClusterDrsConfigInfo{VmotionRate: 2},
	}
	reconfigureCluster(t, e, gpu, spec)
	defer func() {
		_ = gpu.Properties(e.ctx, gpu.Reference(), []string{"configurationEx"}, &c)
		var undo types.ClusterConfigSpecEx
		for _, g := range c.ConfigurationEx.(*types.ClusterConfigInfoEx).Group {
			if g.GetClusterGroupInfo().Name == "facts-group" {
				undo.GroupSpec = append(undo.GroupSpec, types.ClusterGroupSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{
					Operation: types.ArrayUpdateOperationRemove, RemoveKey: "facts-group"}})
			}
		}
		undo.DrsConfig = &types.ClusterDrsConfigInfo{VmotionRate: 3}
		reconfigureCluster(t, e, gpu, &undo)
	}()
	if err := gpu.Properties(e.ctx, gpu.Reference(), []string{"configuration", "configurationEx"}, &c); err != nil {
		t.Fatal(err)
	}
	if names(c.Configuration.Rule) != names(c.ConfigurationEx.(*types.ClusterConfigInfoEx).Rule) ||
		!strings.Contains(names(c.Configuration.Rule), "facts-rule") {
		t.Errorf("configuration.rule %q, configurationEx.rule %q", names(c.Configuration.Rule),
			names(c.ConfigurationEx.(*types.ClusterConfigInfoEx).Rule))
	}
	if c.Configuration.DrsConfig.VmotionRate != 2 || c.ConfigurationEx.(*types.ClusterConfigInfoEx).DrsConfig.VmotionRate != 2 {
		t.Errorf("drsConfig.vmotionRate not applied: %d", c.Configuration.DrsConfig.VmotionRate)
	}
	tk, err := b.Destroy(e.ctx)
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	if err := gpu.Properties(e.ctx, gpu.Reference(), []string{"configurationEx"}, &c); err != nil {
		t.Fatal(err)
	}
	for _, g := range c.ConfigurationEx.(*types.ClusterConfigInfoEx).Group {
		if vg, ok := g.(*types.ClusterVmGroup); ok && vg.Name == "facts-group" {
			if len(vg.Vm) != 1 || vg.Vm[0] != a.Reference() {
				t.Errorf("group after the destroy: %v", vg.Vm)
			}
		}
	}
}

func names(rules []types.BaseClusterRuleInfo) string {
	var out []string
	for _, r := range rules {
		out = append(out, r.GetClusterRuleInfo().Name)
	}
	return strings.Join(out, ",")
}

func reconfigureCluster(t *testing.T, e *labEnv, c *object.ClusterComputeResource, spec *types.ClusterConfigSpecEx) {
	t.Helper()
	tk, err := c.Reconfigure(e.ctx, spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// A switch and port group have vCenter's default policies; a port group
// reconfigured without numPorts or policies keeps them; FetchDVPorts keys
// ports uniquely and honours the criteria.
func TestDVSDefaultsPortgroupsAndPorts(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(6)
	s, err := e.tryCreateDVS(dvsSpec("clients-dvs", "", []string{"vmnic2"}, h))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{
		{Name: "clients-pg", Type: "earlyBinding", NumPorts: 4, AutoExpand: types.NewBool(false),
			DefaultPortConfig: &types.VMwareDVSPortSetting{Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 12},
				UplinkTeamingPolicy: &types.VmwareUplinkPortTeamingPolicy{NotifySwitches: boolPolicy(false, false)}}},
	})
	if err != nil || task.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	m := e.dvsProps(s)
	cfg := m.Config.(*types.VMwareDVSConfigInfo)
	if names := uplinkNames(cfg); len(names) != dvsUplinks {
		t.Errorf("uplinks %v", names)
	}
	def := cfg.DefaultPortConfig.(*types.VMwareDVSPortSetting)
	if def.SecurityPolicy == nil || *def.SecurityPolicy.ForgedTransmits.Value || def.UplinkTeamingPolicy.Policy.Value != "loadbalance_srcid" {
		t.Errorf("switch policy %+v", def)
	}
	var pgRef types.ManagedObjectReference
	for _, r := range m.Portgroup {
		var pg mo.DistributedVirtualPortgroup
		_ = e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name"}, &pg)
		if pg.Name == "clients-pg" {
			pgRef = r
		}
	}
	read := func() mo.DistributedVirtualPortgroup {
		var pg mo.DistributedVirtualPortgroup
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, pgRef, []string{"config", "portKeys", "name"}, &pg); err != nil {
			t.Fatal(err)
		}
		return pg
	}
	pg := read()
	set := pg.Config.DefaultPortConfig.(*types.VMwareDVSPortSetting)
	if set.SecurityPolicy == nil || !set.SecurityPolicy.Inherited || set.UplinkTeamingPolicy.Policy == nil ||
		*set.UplinkTeamingPolicy.NotifySwitches.Value || set.Vlan.(*types.VmwareDistributedVirtualSwitchVlanIdSpec).VlanId != 12 {
		t.Errorf("port group policy %+v", set)
	}
	if len(pg.PortKeys) != 4 {
		t.Errorf("portKeys %v", pg.PortKeys)
	}

	obj := object.NewDistributedVirtualPortgroup(e.c.Client, pgRef)
	tk, err := obj.Reconfigure(e.ctx, types.DVPortgroupConfigSpec{ConfigVersion: pg.Config.ConfigVersion, Description: "changed"})
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatalf("reconfigure: %v", err)
	}
	after := read()
	aset := after.Config.DefaultPortConfig.(*types.VMwareDVSPortSetting)
	if after.Config.NumPorts != 4 || after.Config.Description != "changed" || aset.SecurityPolicy == nil ||
		aset.Vlan.(*types.VmwareDistributedVirtualSwitchVlanIdSpec).VlanId != 12 || after.Config.ConfigVersion == pg.Config.ConfigVersion {
		t.Errorf("after a reconfigure without numPorts: %+v", after.Config)
	}
	tk, _ = obj.Reconfigure(e.ctx, types.DVPortgroupConfigSpec{ConfigVersion: pg.Config.ConfigVersion, Description: "stale"})
	if err := tk.Wait(e.ctx); faultName(err) != "ConcurrentAccess" {
		t.Errorf("stale configVersion: %v", err)
	}

	vm := e.mustClone("clients-port-vm", h, addDevices(vrdmaOn(m.Uuid, pgRef.Value)))
	ports, err := s.FetchDVPorts(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range ports {
		if seen[p.Key] {
			t.Errorf("port key %s twice", p.Key)
		}
		seen[p.Key] = true
	}
	connected, err := s.FetchDVPorts(e.ctx, &types.DistributedVirtualSwitchPortCriteria{
		PortgroupKey: []string{pgRef.Value}, Connected: types.NewBool(true)})
	if err != nil || len(connected) != 1 || connected[0].Connectee == nil || *connected[0].Connectee.ConnectedEntity != vm.Reference() ||
		connected[0].Connectee.NicKey == "" {
		t.Errorf("connected ports of the port group: %+v %v", connected, err)
	}
	uplinks, err := s.FetchDVPorts(e.ctx, &types.DistributedVirtualSwitchPortCriteria{UplinkPort: types.NewBool(true),
		Host: []types.ManagedObjectReference{h.Reference()}})
	if err != nil || len(uplinks) != dvsUplinks || uplinks[0].Config.Name != "dvUplink1" {
		t.Errorf("uplink ports: %+v %v", uplinks, err)
	}
	if got := len(ports); got != 4+dvsUplinks {
		t.Errorf("%d ports, want the port group's 4 and %d uplinks", got, dvsUplinks)
	}
	e.destroyMade()
}

// A clone's config.tools is filled as vCenter fills it.
func TestToolsConfigOfNewVMs(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("clients-tools", e.host(2), nil)
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"config.tools"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Config.Tools == nil || m.Config.Tools.LastInstallInfo == nil || m.Config.Tools.ToolsVersion != labToolsVersion {
		t.Errorf("config.tools %+v", m.Config.Tools)
	}
}

// A VM unregistered and registered again from its .vmx keeps its
// configuration: hardware, devices and their MAC addresses, UUIDs.
func TestRegisterVMKeepsItsConfiguration(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(4)
	vm := e.mustClone("clients-register", h, &types.VirtualMachineConfigSpec{NumCPUs: 3, MemoryMB: 6144})
	var before mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"config", "resourcePool"}, &before); err != nil {
		t.Fatal(err)
	}
	if err := vm.Unregister(e.ctx); err != nil {
		t.Fatal(err)
	}
	hostRef := h.Reference()
	tk, err := e.folders.VmFolder.RegisterVM(e.ctx, before.Config.Files.VmPathName, "clients-register", false,
		object.NewResourcePool(e.c.Client, *before.ResourcePool), object.NewHostSystem(e.c.Client, hostRef))
	if err != nil {
		t.Fatal(err)
	}
	again := e.mustTaskVM(tk)
	var after mo.VirtualMachine
	if err := again.Properties(e.ctx, again.Reference(), []string{"config", "summary.config", "network"}, &after); err != nil {
		t.Fatal(err)
	}
	if after.Config.Hardware.NumCPU != 3 || after.Config.Hardware.MemoryMB != 6144 || after.Summary.Config.NumCpu != 3 ||
		after.Config.Uuid != before.Config.Uuid || len(after.Network) != 1 {
		t.Errorf("registered VM: %d vCPU, %d MB, uuid %s (was %s), networks %v", after.Config.Hardware.NumCPU,
			after.Config.Hardware.MemoryMB, after.Config.Uuid, before.Config.Uuid, after.Network)
	}
	macs := func(devs []types.BaseVirtualDevice) string {
		var out []string
		for _, d := range devs {
			if c, ok := d.(types.BaseVirtualEthernetCard); ok {
				out = append(out, c.GetVirtualEthernetCard().MacAddress)
			}
		}
		return strings.Join(out, ",")
	}
	if len(after.Config.Hardware.Device) != len(before.Config.Hardware.Device) || macs(after.Config.Hardware.Device) != macs(before.Config.Hardware.Device) {
		t.Errorf("devices %d (was %d), MACs %s (was %s)", len(after.Config.Hardware.Device), len(before.Config.Hardware.Device),
			macs(after.Config.Hardware.Device), macs(before.Config.Hardware.Device))
	}
}

// The session cookie is quoted as vCenter quotes it, and a client sending
// it back quoted keeps its session.
func TestSessionCookieQuoted(t *testing.T) {
	envelope := func(body string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
			`<soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`
	}
	post := func(body, cookie string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, labURL(t, "/sdk"), strings.NewReader(envelope(body)))
		req.Header.Set("Content-Type", "text/xml")
		req.Header.Set("SOAPAction", "urn:vim25/7.0")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := labHTTP(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := post(`<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>`+LabUser+
		`</userName><password>`+LabPassword+`</password></Login>`, "")
	cookie := resp.Header.Get("Set-Cookie")
	if !regexp.MustCompile(`^vmware_soap_session="[^";]+"; Path=/; HttpOnly; Secure$`).MatchString(cookie) {
		t.Fatalf("Set-Cookie %q", cookie)
	}
	// pyVmomi sends the whole Set-Cookie value back.
	resp = post(`<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>`, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a call with the quoted cookie: %s", resp.Status)
	}
	post(`<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>`, cookie)
}

// Renaming a distributed port group through ReconfigureDVPortgroup_Task:
// a name another port group of the switch has is DuplicateName (naming it);
// otherwise the switch's summary.portgroupName follows, so the old name is
// free again, the new one taken, and Destroy_Task takes the right name off.
func TestDVPortgroupRename(t *testing.T) {
	e := newLabEnv(t)
	s := e.createDVS("rename-dvs", e.host(6))
	defer destroyDVS(t, e, s)
	add := func(name string) error {
		task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{{Name: name, Type: "earlyBinding", NumPorts: 2}})
		if err != nil {
			return err
		}
		return task.Wait(e.ctx)
	}
	for _, n := range []string{"rename-a", "rename-b"} {
		if err := add(n); err != nil {
			t.Fatal(err)
		}
	}
	byName := func(name string) types.ManagedObjectReference {
		for _, r := range e.dvsProps(s).Portgroup {
			var pg mo.DistributedVirtualPortgroup
			_ = e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name"}, &pg)
			if pg.Name == name {
				return r
			}
		}
		t.Fatalf("no port group %s", name)
		return types.ManagedObjectReference{}
	}
	a, b := byName("rename-a"), byName("rename-b")
	rename := func(ref types.ManagedObjectReference, name string) error {
		tk, err := object.NewDistributedVirtualPortgroup(e.c.Client, ref).Reconfigure(e.ctx, types.DVPortgroupConfigSpec{Name: name})
		if err != nil {
			return err
		}
		return tk.Wait(e.ctx)
	}
	err := rename(a, "rename-b")
	if faultName(err) != "DuplicateName" {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if f, ok := err.(task.Error).Fault().(*types.DuplicateName); !ok || f.Name != "rename-b" || f.Object != b {
		t.Errorf("fault %#v", err.(task.Error).Fault())
	}
	if err := rename(a, "rename-c"); err != nil {
		t.Fatal(err)
	}
	var pg mo.DistributedVirtualPortgroup
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, a, []string{"name", "config"}, &pg); err != nil {
		t.Fatal(err)
	}
	if pg.Name != "rename-c" || pg.Config.Name != "rename-c" {
		t.Errorf("after rename: name %q, config.name %q", pg.Name, pg.Config.Name)
	}
	if got := strings.Join(e.dvsProps(s).Summary.PortgroupName, ","); !strings.Contains(got, "rename-c") || strings.Contains(got, "rename-a") {
		t.Errorf("summary.portgroupName %s", got)
	}
	if err := rename(a, "rename-c"); err != nil { // its own name: no change
		t.Errorf("rename to its own name: %v", err)
	}
	if err := add("rename-c"); faultName(err) != "DuplicateName" {
		t.Errorf("adding the new name: %v", err)
	}
	if err := add("rename-a"); err != nil {
		t.Errorf("adding the old name: %v", err)
	}
	tk, err := object.NewDistributedVirtualPortgroup(e.c.Client, a).Destroy(e.ctx)
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := strings.Join(e.dvsProps(s).Summary.PortgroupName, ","); strings.Contains(got, "rename-c") || !strings.Contains(got, "rename-a") {
		t.Errorf("summary.portgroupName after destroy %s", got)
	}
}
