package main

import (
	"context"
	"encoding/json"
	"io/ioutil"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestConfAndCredentials(t *testing.T) {
	conf := readConf(t)
	for _, k := range []string{"server", "port", "username", "password", "ca_file"} {
		if conf[k] == "" {
			t.Errorf("conf lacks %s", k)
		}
	}
	if conf["server"] != "127.0.0.1" || conf["username"] != LabUser || conf["password"] != LabPassword {
		t.Errorf("conf = %v", conf)
	}
	if !filepath.IsAbs(conf["ca_file"]) {
		t.Errorf("ca_file %q not absolute", conf["ca_file"])
	}
	if _, err := connect(t, LabUser, "wrong"); err == nil || !strings.Contains(err.Error(), "Login failure") {
		t.Errorf("wrong password: err = %v", err)
	}
	if _, err := connect(t, "root", LabPassword); err == nil {
		t.Error("wrong user accepted")
	}
	c := login(t)
	defer c.Logout(context.Background())
	if v := c.ServiceContent.About.ApiVersion; v != "7.0.0.0" {
		t.Errorf("apiVersion %s", v)
	}
}

func TestInventory(t *testing.T) {
	ctx := context.Background()
	c := login(t)
	defer c.Logout(ctx)
	f := find.NewFinder(c.Client, true)

	dcs, err := f.DatacenterList(ctx, "*")
	if err != nil || len(dcs) != 1 || dcs[0].Name() != DatacenterName {
		t.Fatalf("datacenters %v %v", dcs, err)
	}
	f.SetDatacenter(dcs[0])
	for _, name := range []string{GPUClusterName, HPCClusterName} {
		if _, err := f.ClusterComputeResource(ctx, name); err != nil {
			t.Error(err)
		}
	}
	// HPC_Cluster holds vhpc-esx-01 alone; the other named hosts and the
	// extra host are in COMPUTE_GPU_Cluster.
	hosts, err := f.HostSystemList(ctx, GPUClusterName+"/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != NumNamedHosts+testLab.opts.A100Hosts { // 8 named - 1 in HPC_Cluster + 1 extra, the A100 hosts
		t.Errorf("%d hosts in %s", len(hosts), GPUClusterName)
	}
	hpc, err := f.HostSystemList(ctx, HPCClusterName+"/*")
	if err != nil || len(hpc) != 1 || hpc[0].Name() != HostName(HPCClusterHost) {
		t.Errorf("%s hosts %v (%v)", HPCClusterName, hpc, err)
	}
	hosts = append(hosts, hpc...)
	for i := 1; i <= NumNamedHosts+1; i++ {
		if _, err := f.HostSystem(ctx, HostName(i)); err != nil {
			t.Error(err)
		}
	}
	ds, err := f.Datastore(ctx, DatastoreName)
	if err != nil {
		t.Fatal(err)
	}
	var dsMo mo.Datastore
	if err := ds.Properties(ctx, ds.Reference(), []string{"host"}, &dsMo); err != nil || len(dsMo.Host) != len(hosts) {
		t.Errorf("datastore mounted on %d hosts (%v)", len(dsMo.Host), err)
	}
	if _, err := f.Network(ctx, PortGroupName); err != nil {
		t.Error(err)
	}
	vms, err := f.VirtualMachineList(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, vm := range vms {
		names[vm.Name()] = true
	}
	for _, n := range []string{TemplateName, "extra-vm-0001", "extra-vm-0005"} {
		if !names[n] {
			t.Errorf("no VM %s in %v", n, names)
		}
	}

	tmpl, _ := f.VirtualMachine(ctx, TemplateName)
	var vm mo.VirtualMachine
	if err := tmpl.Properties(ctx, tmpl.Reference(), []string{"config", "environmentBrowser", "runtime"}, &vm); err != nil {
		t.Fatal(err)
	}
	if !vm.Config.Template || vm.Config.Firmware != "efi" || vm.Config.Hardware.NumCPU != 2 || vm.Config.Hardware.MemoryMB != 4096 {
		t.Errorf("template config %+v", vm.Config.Hardware)
	}
	nics := object.VirtualDeviceList(vm.Config.Hardware.Device).SelectByType((*types.VirtualVmxnet3)(nil))
	if len(nics) != 1 {
		t.Errorf("%d vmxnet3 adapters", len(nics))
	}
	if vm.EnvironmentBrowser.Value == "" {
		t.Error("template has no environmentBrowser")
	}
	if h, _ := f.HostSystem(ctx, HostName(1)); h == nil || *vm.Runtime.Host != h.Reference() {
		t.Errorf("template on %v", vm.Runtime.Host)
	}
}

func TestHostHardwareAndConfigTarget(t *testing.T) {
	e := newLabEnv(t)
	ctx, c := e.ctx, e.c
	host := e.host(NumNamedHosts + 1) // an extra host has the same hardware
	var h mo.HostSystem
	if err := host.Properties(ctx, host.Reference(), []string{"hardware", "config"}, &h); err != nil {
		t.Fatal(err)
	}
	gpus, p100s, vfs := 0, 0, 0
	for _, d := range h.Hardware.PciDevice {
		if d.VendorId == 0x10de && d.DeviceId == 0x1db4 {
			gpus++
		}
		if d.VendorId == 0x10de && d.DeviceId == 0x15f8 {
			p100s++
		}
		if d.VendorId == 0x15b3 && d.DeviceId == 0x1014 {
			vfs++
		}
	}
	if gpus != 3 || p100s != 1 || vfs != 8 { // two passthrough V100s, a shared V100, a shared P100 (gpu_host.go)
		t.Errorf("%d V100s, %d P100s, %d VFs", gpus, p100s, vfs)
	}
	var sriov *types.HostSriovInfo
	for _, p := range h.Config.PciPassthruInfo {
		if s, ok := p.(*types.HostSriovInfo); ok {
			sriov = s
		}
	}
	if sriov == nil || sriov.Id != SRIOVPFId || !sriov.SriovEnabled || sriov.NumVirtualFunction != 8 {
		t.Errorf("sriov info %+v", sriov)
	}
	if len(h.Config.SharedPassthruGpuTypes) != 30 { // P100 and V100 (16 GB): 15 types each, NVIDIA vGPU 14.0
		t.Errorf("vgpu types %v", h.Config.SharedPassthruGpuTypes)
	}

	var vm mo.VirtualMachine
	if err := e.tmpl.Properties(ctx, e.tmpl.Reference(), []string{"environmentBrowser"}, &vm); err != nil {
		t.Fatal(err)
	}
	ref := host.Reference()
	res, err := methods.QueryConfigTarget(ctx, c.Client, &types.QueryConfigTarget{This: vm.EnvironmentBrowser, Host: &ref})
	if err != nil {
		t.Fatal(err)
	}
	ct := res.Returnval
	if len(ct.PciPassthrough) != 2 {
		t.Fatalf("pciPassthrough %v", ct.PciPassthrough)
	}
	p := ct.PciPassthrough[0].GetVirtualMachinePciPassthroughInfo()
	if p.PciDevice.Id != GPUIds[0] || p.SystemId != h.Hardware.SystemInfo.Uuid {
		t.Errorf("pciPassthrough[0] %+v", p)
	}
	if len(ct.Sriov) != 1 || ct.Sriov[0].Pnic != SRIOVPnic || ct.Sriov[0].VirtualFunction {
		t.Errorf("sriov %+v", ct.Sriov)
	}
	if len(ct.SharedGpuPassthroughTypes) != 30 || ct.SharedGpuPassthroughTypes[0].Vgpu != "grid_p100-1q" {
		t.Errorf("vgpu %+v", ct.SharedGpuPassthroughTypes)
	}
	foundNet := false
	for _, n := range ct.Network {
		foundNet = foundNet || n.Name == PortGroupName
	}
	if !foundNet || len(ct.Datastore) != 1 {
		t.Errorf("networks %v datastores %v", ct.Network, ct.Datastore)
	}
}

func TestCloneCustomizeBoot(t *testing.T) {
	e := newLabEnv(t)
	ctx, c := e.ctx, e.c
	poolRef, hostRef := e.pool, e.host(4).Reference()

	spec := types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &poolRef, Host: &hostRef},
		Config:   &types.VirtualMachineConfigSpec{NumCPUs: 8, MemoryMB: 16384, MemoryReservationLockedToMax: types.NewBool(true)},
		Customization: &types.CustomizationSpec{
			Identity: &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: "gpu-node-1"}, Domain: "hpc.local"},
			NicSettingMap: []types.CustomizationAdapterMapping{{Adapter: types.CustomizationIPSettings{
				Ip: &types.CustomizationFixedIp{IpAddress: "172.16.0.11"}, SubnetMask: "255.255.255.0",
			}}},
		},
		PowerOn: true,
	}
	task, err := e.tmpl.Clone(ctx, e.folders.VmFolder, "gpu-node-1", spec)
	if err != nil {
		t.Fatal(err)
	}
	vm := e.mustTaskVM(task)
	var m mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"config", "runtime", "guest", "environmentBrowser"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || *m.Runtime.Host != hostRef ||
		m.Config.Hardware.NumCPU != 8 || m.Config.Firmware != "efi" || m.EnvironmentBrowser.Value == "" {
		t.Errorf("clone: power %s host %v cpus %d firmware %s", m.Runtime.PowerState, m.Runtime.Host, m.Config.Hardware.NumCPU, m.Config.Firmware)
	}
	if m.Guest.IpAddress != "" {
		t.Errorf("IP %s before boot delay", m.Guest.IpAddress)
	}

	// The IP appears through WaitForUpdates after the boot delay.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = property.Wait(wctx, property.DefaultCollector(c.Client), vm.Reference(), []string{"guest.ipAddress"}, func(pc []types.PropertyChange) bool {
		for _, ch := range pc {
			if ip, _ := ch.Val.(string); ip == "172.16.0.11" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for guest IP: %v", err)
	}
	if err := vm.Properties(ctx, vm.Reference(), []string{"guest"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Guest.ToolsRunningStatus != "guestToolsRunning" || m.Guest.ToolsStatus != types.VirtualMachineToolsStatusToolsOk ||
		m.Guest.HostName != "gpu-node-1" || len(m.Guest.Net) != 1 || m.Guest.Net[0].IpAddress[0] != "172.16.0.11" {
		t.Errorf("guest %+v", m.Guest)
	}

	task, _ = vm.PowerOff(ctx)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := vm.Properties(ctx, vm.Reference(), []string{"guest"}, &m); err != nil {
		t.Fatal(err)
	}
	if m.Guest.IpAddress != "" || m.Guest.ToolsRunningStatus != "guestToolsNotRunning" {
		t.Errorf("powered off guest %+v", m.Guest)
	}

	// CustomizeVM_Task, then a boot: the new address.
	task, err = vm.Customize(ctx, types.CustomizationSpec{
		Identity: &types.CustomizationLinuxPrep{HostName: &types.CustomizationVirtualMachineName{}},
		NicSettingMap: []types.CustomizationAdapterMapping{{Adapter: types.CustomizationIPSettings{
			Ip: &types.CustomizationFixedIp{IpAddress: "172.16.0.12"}, SubnetMask: "255.255.0.0",
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	task, _ = vm.PowerOn(ctx)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The customization runs at this boot: the old address first, then
	// (after the guest's reboot) the new one.
	err = property.Wait(wctx, property.DefaultCollector(c.Client), vm.Reference(), []string{"guest.ipAddress"}, func(pc []types.PropertyChange) bool {
		for _, ch := range pc {
			if ip, _ := ch.Val.(string); ip == "172.16.0.12" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Errorf("after CustomizeVM: %v", err)
	}
}

func TestDebugCalls(t *testing.T) {
	hc := labHTTP(t)
	base := labURL(t, "/debug/calls")
	get := func(q string) callsReport {
		resp, err := hc.Get(base + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep callsReport
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	get("?reset=1")
	c := login(t) // RetrieveServiceContent + Login
	if _, err := methods.GetCurrentTime(context.Background(), c.Client); err != nil {
		t.Fatal(err)
	}
	rep := get("?reset=1")
	if rep.Methods["Login"] != 1 || rep.Methods["CurrentTime"] != 1 || rep.Total < 3 {
		t.Errorf("calls %+v", rep)
	}
	if rep := get(""); rep.Total != 0 {
		t.Errorf("after reset %+v", rep)
	}
}

// The stock simulator panics on a Fetch of an unset property; pyVmomi reads
// every attribute with Fetch, so the lab answers with an empty response.
func TestFetchUnsetProperty(t *testing.T) {
	ctx := context.Background()
	c := login(t)
	defer c.Logout(ctx)
	tmpl, err := find.NewFinder(c.Client, true).VirtualMachine(ctx, "/"+DatacenterName+"/vm/"+TemplateName)
	if err != nil {
		t.Fatal(err)
	}
	conf := readConf(t)
	hc := &c.Client.Client.Client // the session's http.Client, with its cookie
	body := soapEnvelope(`<Fetch xmlns="urn:vim25"><_this type="VirtualMachine">` + tmpl.Reference().Value +
		`</_this><prop>snapshot</prop></Fetch>`)
	resp, err := hc.Post("https://"+conf["server"]+":"+conf["port"]+"/sdk", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := ioutil.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), "FetchResponse") {
		t.Errorf("status %d: %s", resp.StatusCode, out)
	}
}
