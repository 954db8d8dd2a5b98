package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// searchWorld is what useLabMethods made.
type searchWorld struct {
	host    *object.HostSystem
	vm, vm2 *object.VirtualMachine
	pg      string // standard port group on host
	dvs     *object.DistributedVirtualSwitch
}

const (
	searchIP1, searchIP2 = "172.16.9.9", "172.16.19.9"
	searchGuestName      = "search-node"
)

// useLabMethods calls every method the lab implements itself (routes.go),
// QueryConfigTarget (LabEnvironmentBrowser) and a guest operation, leaving
// two booted VMs on host h, a port group and a switch.
func (e *labEnv) useLabMethods(h *object.HostSystem) searchWorld {
	t := e.t
	w := searchWorld{host: h, pg: "search-pg"}
	ns := e.networkSystem(h) // HostNetworkSystem routes
	if err := ns.AddVirtualSwitch(e.ctx, "search-sw", &types.HostVirtualSwitchSpec{NumPorts: 64}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.RemoveVirtualSwitch(e.ctx, "search-sw") })
	if err := ns.AddPortGroup(e.ctx, types.HostPortGroupSpec{Name: w.pg, VswitchName: "search-sw"}); err != nil {
		t.Fatal(err)
	}
	w.dvs = e.createDVS("search-dvs", h) // Folder route
	t.Cleanup(func() { destroyDVS(t, e, w.dvs) })
	tk, err := w.dvs.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{{Name: "search-dvpg", Type: "earlyBinding", NumPorts: 4}})
	if err != nil || tk.Wait(e.ctx) != nil { // DVS route
		t.Fatal("AddDVPortgroup", err)
	}
	for _, r := range e.dvsProps(w.dvs).Portgroup {
		var pg mo.DistributedVirtualPortgroup
		_ = e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name"}, &pg)
		if pg.Name == "search-dvpg" {
			tk, _ := object.NewDistributedVirtualPortgroup(e.c.Client, r).Destroy(e.ctx) // DVPG route
			if err := tk.Wait(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	// VirtualMachine and Datacenter routes: clone, customize, reconfigure,
	// PowerOnMultiVM; a clone powered on by CloneVM_Task.
	w.vm = e.mustClone("search-vm", h, addDevices(netBacking(w.pg)))
	ip := func(addr string) types.CustomizationAdapterMapping {
		return types.CustomizationAdapterMapping{Adapter: types.CustomizationIPSettings{
			Ip: &types.CustomizationFixedIp{IpAddress: addr}, SubnetMask: "255.255.255.0"}}
	}
	tk, err = w.vm.Customize(e.ctx, types.CustomizationSpec{
		Identity:      &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: searchGuestName}, Domain: "hpc.local"},
		NicSettingMap: []types.CustomizationAdapterMapping{ip(searchIP1), ip(searchIP2)},
	})
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatal("customize", err)
	}
	if err := e.reconfigure(w.vm, types.VirtualMachineConfigSpec{NumCPUs: 4}); err != nil {
		t.Fatal(err)
	}
	tk, err = e.dc.PowerOnVM(e.ctx, []types.ManagedObjectReference{w.vm.Reference()})
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatal("PowerOnMultiVM", err)
	}
	e.waitTools(w.vm)
	w.vm2 = e.bootedVM("search-vm-2")

	var vm mo.VirtualMachine
	if err := w.vm.Properties(e.ctx, w.vm.Reference(), []string{"environmentBrowser"}, &vm); err != nil {
		t.Fatal(err)
	}
	ref := h.Reference()
	if _, err := methods.QueryConfigTarget(e.ctx, e.c.Client, &types.QueryConfigTarget{This: vm.EnvironmentBrowser, Host: &ref}); err != nil {
		t.Fatal(err)
	}
	pm, err := guest.NewOperationsManager(e.c.Client, w.vm.Reference()).ProcessManager(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pm.ListProcesses(e.ctx, &types.NamePasswordAuthentication{Username: "root", Password: "VMware1!"}, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func refOf(r object.Reference) types.ManagedObjectReference {
	if r == nil {
		return types.ManagedObjectReference{}
	}
	return r.Reference()
}

func refsOf(rs []object.Reference) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, r := range rs {
		out = append(out, r.Reference())
	}
	return out
}

// Third-party clients (pyVmomi's SearchIndex, Ansible's vmware_guest, govc)
// search the inventory after the lab's own methods have run: every search
// gives the right answer, and no walk meets a lab-internal object.
func TestSearchIndexAfterLabMethods(t *testing.T) {
	e := newLabEnv(t)
	w := e.useLabMethods(e.host(6))
	ctx := e.ctx
	si := object.NewSearchIndex(e.c.Client)

	var vm mo.VirtualMachine
	if err := w.vm.Properties(ctx, w.vm.Reference(), []string{"config.uuid", "config.instanceUuid", "config.files", "guest"}, &vm); err != nil {
		t.Fatal(err)
	}
	if vm.Guest.IpAddress != searchIP1 || vm.Guest.HostName != searchGuestName {
		t.Fatalf("guest %s %s", vm.Guest.IpAddress, vm.Guest.HostName)
	}
	var vm2 mo.VirtualMachine
	if err := w.vm2.Properties(ctx, w.vm2.Reference(), []string{"guest.ipAddress"}, &vm2); err != nil || vm2.Guest.IpAddress == "" {
		t.Fatalf("second VM's address %q %v", vm2.Guest.IpAddress, err)
	}
	var host mo.HostSystem
	if err := w.host.Properties(ctx, w.host.Reference(), []string{"name", "hardware.systemInfo", "config.network"}, &host); err != nil {
		t.Fatal(err)
	}
	hostIP := host.Config.Network.Vnic[0].Spec.Ip.IpAddress
	if dns := host.Config.Network.DnsConfig.GetHostDnsConfig(); hostIP != HostAddress(6) || dns.HostName+"."+dns.DomainName != host.Name {
		t.Errorf("host 6: vmk0 %s, DNS %s.%s", hostIP, dns.HostName, dns.DomainName)
	}
	yes, no := types.NewBool(true), types.NewBool(false)
	vmRef, vm2Ref, hostRef := w.vm.Reference(), w.vm2.Reference(), w.host.Reference()
	none := types.ManagedObjectReference{}

	one := func(what string, r object.Reference, err error, want types.ManagedObjectReference) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		} else if refOf(r) != want {
			t.Errorf("%s = %v, want %v", what, refOf(r), want)
		}
	}
	all := func(what string, rs []object.Reference, err error, want ...types.ManagedObjectReference) {
		t.Helper()
		got := refsOf(rs)
		if err != nil {
			t.Errorf("%s: %v", what, err)
		} else if len(got) != len(want) || (len(want) > 0 && !refsHas(got, want[0])) || (len(want) > 1 && !refsHas(got, want[1])) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}

	r, err := si.FindByUuid(ctx, nil, vm.Config.Uuid, true, nil)
	one("FindByUuid(vm BIOS uuid)", r, err, vmRef)
	r, err = si.FindByUuid(ctx, e.dc, strings.ToUpper(vm.Config.Uuid), true, no)
	one("FindByUuid(dc, vm BIOS uuid upper case)", r, err, vmRef)
	r, err = si.FindByUuid(ctx, nil, vm.Config.InstanceUuid, true, yes)
	one("FindByUuid(vm instance uuid)", r, err, vmRef)
	r, err = si.FindByUuid(ctx, nil, vm.Config.Uuid, true, yes)
	one("FindByUuid(BIOS uuid as instance uuid)", r, err, none)
	r, err = si.FindByUuid(ctx, nil, host.Hardware.SystemInfo.Uuid, false, nil)
	one("FindByUuid(host uuid)", r, err, hostRef)
	r, err = si.FindByUuid(ctx, nil, vm.Config.Uuid, false, nil)
	one("FindByUuid(vm uuid, host search)", r, err, none)
	r, err = si.FindByUuid(ctx, nil, "00000000-0000-0000-0000-000000000000", true, nil)
	one("FindByUuid(unknown)", r, err, none)
	rs, err := si.FindAllByUuid(ctx, nil, vm.Config.Uuid, true, nil)
	all("FindAllByUuid(vm uuid)", rs, err, vmRef)
	rs, err = si.FindAllByUuid(ctx, e.dc, vm.Config.InstanceUuid, true, yes)
	all("FindAllByUuid(vm instance uuid)", rs, err, vmRef)
	rs, err = si.FindAllByUuid(ctx, nil, host.Hardware.SystemInfo.Uuid, false, nil)
	all("FindAllByUuid(host uuid)", rs, err, hostRef)

	// datacenter restricts the search; an unknown one is refused.
	dc2, err := object.NewRootFolder(e.c.Client).CreateDatacenter(ctx, "search-dc2")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if tk, err := dc2.Destroy(ctx); err == nil {
			_ = tk.Wait(ctx)
		}
	}()
	r, err = si.FindByUuid(ctx, dc2, vm.Config.Uuid, true, nil)
	one("FindByUuid(other datacenter)", r, err, none)
	rs, err = si.FindAllByIp(ctx, dc2, hostIP, false)
	all("FindAllByIp(other datacenter, host)", rs, err)
	gone := object.NewDatacenter(e.c.Client, types.ManagedObjectReference{Type: "Datacenter", Value: "datacenter-0"})
	if _, err := si.FindAllByUuid(ctx, gone, vm.Config.Uuid, true, nil); faultName(err) != "ManagedObjectNotFound" {
		t.Errorf("FindAllByUuid(unknown datacenter): %v", err)
	}

	r, err = si.FindByIp(ctx, nil, searchIP1, true)
	one("FindByIp(vm)", r, err, vmRef)
	r, err = si.FindByIp(ctx, e.dc, searchIP2, true)
	one("FindByIp(vm's second adapter)", r, err, vmRef)
	r, err = si.FindByIp(ctx, nil, vm2.Guest.IpAddress, true)
	one("FindByIp(second vm)", r, err, vm2Ref)
	r, err = si.FindByIp(ctx, nil, "192.0.2.1", true)
	one("FindByIp(unknown)", r, err, none)
	rs, err = si.FindAllByIp(ctx, nil, searchIP1, true)
	all("FindAllByIp(vm)", rs, err, vmRef)
	r, err = si.FindByIp(ctx, nil, hostIP, false)
	one("FindByIp(host "+hostIP+")", r, err, hostRef)
	rs, err = si.FindAllByIp(ctx, nil, hostIP, false)
	all("FindAllByIp(host)", rs, err, hostRef)

	r, err = si.FindByDnsName(ctx, nil, searchGuestName, true)
	one("FindByDnsName(vm)", r, err, vmRef)
	rs, err = si.FindAllByDnsName(ctx, e.dc, searchGuestName, true)
	all("FindAllByDnsName(vm)", rs, err, vmRef)
	r, err = si.FindByDnsName(ctx, nil, host.Name, false)
	one("FindByDnsName(host)", r, err, hostRef)
	rs, err = si.FindAllByDnsName(ctx, nil, host.Name, false)
	all("FindAllByDnsName(host)", rs, err, hostRef)
	r, err = si.FindByDnsName(ctx, nil, "nosuch.hpc.local", true)
	one("FindByDnsName(unknown)", r, err, none)

	r, err = si.FindByDatastorePath(ctx, e.dc, vm.Config.Files.VmPathName)
	one("FindByDatastorePath", r, err, vmRef)

	dcPath := "/" + DatacenterName
	r, err = si.FindByInventoryPath(ctx, dcPath+"/vm/search-vm")
	one("FindByInventoryPath(vm)", r, err, vmRef)
	r, err = si.FindByInventoryPath(ctx, dcPath+"/host/"+GPUClusterName+"/"+host.Name)
	one("FindByInventoryPath(host)", r, err, hostRef)
	r, err = si.FindByInventoryPath(ctx, dcPath+"/network/search-dvs")
	one("FindByInventoryPath(switch)", r, err, w.dvs.Reference())
	r, err = si.FindByInventoryPath(ctx, dcPath+"/network/"+w.pg)
	if err != nil || r == nil || r.Reference().Type != "Network" {
		t.Errorf("FindByInventoryPath(port group) = %v %v", r, err)
	}
	r, err = si.FindByInventoryPath(ctx, dcPath+"/vm/no-such-vm")
	one("FindByInventoryPath(unknown)", r, err, none)
	r, err = si.FindChild(ctx, e.folders.VmFolder, "search-vm-2")
	one("FindChild(vm folder, vm)", r, err, vm2Ref)
	r, err = si.FindChild(ctx, e.dc, "vm")
	one("FindChild(datacenter, vm)", r, err, e.folders.VmFolder.Reference())

	checkNoLabObjects(t, e, vmRef, vm2Ref, hostRef, w.dvs.Reference())
}

// checkNoLabObjects walks the whole inventory as clients do (a container
// view, a PropertyCollector traversal from the root folder) and the
// simulator's /about type list: all of want show, nothing lab-internal.
func checkNoLabObjects(t *testing.T, e *labEnv, want ...types.ManagedObjectReference) {
	t.Helper()
	root := e.c.ServiceContent.RootFolder
	v, err := view.NewManager(e.c.Client).CreateContainerView(e.ctx, root, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Destroy(e.ctx)
	var viewed []mo.ManagedEntity
	if err := v.Retrieve(e.ctx, []string{"ManagedEntity"}, []string{"name"}, &viewed); err != nil {
		t.Fatalf("container view: %v", err)
	}
	var refs []types.ManagedObjectReference
	for _, m := range viewed {
		refs = append(refs, m.Self)
	}
	checkRefs(t, "container view", refs, want)

	// RetrievePropertiesEx from the root folder with the classic full
	// traversal of pyVmomi scripts. (The stock PropertyCollector applies a
	// TraversalSpec to objects of any type, so a spec set that leads back
	// to where it started, e.g. ResourcePool.vm -> ResourcePool.resourcePool
	// for every object, never ends; this one does.)
	spec := func(name, typ, path string, next ...string) types.BaseSelectionSpec {
		ts := &types.TraversalSpec{SelectionSpec: types.SelectionSpec{Name: name}, Type: typ, Path: path}
		for _, n := range next {
			ts.SelectSet = append(ts.SelectSet, &types.SelectionSpec{Name: n})
		}
		return ts
	}
	visit := []string{"visitFolders", "dcToVm", "dcToHost", "dcToNet", "dcToDs", "crToHost", "crToRp", "hostToVm", "rpToVm"}
	req := types.RetrievePropertiesEx{
		This: e.c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			PropSet: []types.PropertySpec{{Type: "ManagedEntity", PathSet: []string{"name"}}},
			ObjectSet: []types.ObjectSpec{{Obj: root, SelectSet: []types.BaseSelectionSpec{
				spec("visitFolders", "Folder", "childEntity", visit...),
				spec("dcToVm", "Datacenter", "vmFolder", "visitFolders"),
				spec("dcToHost", "Datacenter", "hostFolder", "visitFolders"),
				spec("dcToNet", "Datacenter", "networkFolder", "visitFolders"),
				spec("dcToDs", "Datacenter", "datastoreFolder", "visitFolders"),
				spec("crToHost", "ComputeResource", "host"),
				spec("crToRp", "ComputeResource", "resourcePool", "rpToRp", "rpToVm"),
				spec("rpToRp", "ResourcePool", "resourcePool", "rpToRp", "rpToVm"),
				spec("rpToVm", "ResourcePool", "vm"),
				spec("hostToVm", "HostSystem", "vm", "visitFolders"),
			}}},
		}},
	}
	res, err := methods.RetrievePropertiesEx(e.ctx, e.c.Client, &req)
	if err != nil {
		t.Fatalf("RetrievePropertiesEx: %v", err)
	}
	refs = nil
	for _, oc := range res.Returnval.Objects {
		refs = append(refs, oc.Obj)
	}
	checkRefs(t, "RetrievePropertiesEx from the root folder", refs, want)

	resp, err := labHTTP(t).Get(labURL(t, "/about"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var about struct{ Types []string }
	if err := json.NewDecoder(resp.Body).Decode(&about); err != nil {
		t.Fatal(err)
	}
	for _, typ := range about.Types {
		if strings.HasPrefix(typ, "Lab") {
			t.Errorf("/about lists the lab-internal type %s", typ)
		}
	}
}

func checkRefs(t *testing.T, what string, refs, want []types.ManagedObjectReference) {
	t.Helper()
	for _, r := range refs {
		if strings.HasPrefix(r.Type, "Lab") {
			t.Errorf("%s shows lab-internal %v", what, r)
		}
	}
	for _, w := range want {
		if !refsHas(refs, w) {
			t.Errorf("%s lacks %v", what, w)
		}
	}
}
