package main

// Inventory of the lab (SPEC section 6), built with the in-process client
// on an empty vCenter model, then adjusted directly in simulator.Map before
// the lab serves.

import (
	"context"
	"fmt"
	"io/ioutil"
	"path"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Inventory names.
const (
	DatacenterName  = "HPC_Datacenter"
	GPUClusterName  = "COMPUTE_GPU_Cluster"
	HPCClusterName  = "HPC_Cluster"
	DatastoreName   = "COMPUTE01_vsanDatastore"
	PortGroupName   = "vHPC-PG-VMNetwork"
	TemplateName    = "vhpc_clone"
	NumNamedHosts   = 8
	HPCClusterHost  = 1 // vhpc-esx-01 is HPC_Cluster's only host (the original's cluster-simple.conf)
	vSwitchName     = "vSwitch0"
	extraVMNameFmt  = "extra-vm-%04d"
	templateGuestId = string(types.VirtualMachineGuestOsIdentifierRhel7_64Guest)
)

// HostName returns the name of lab host i (1-based).
func HostName(i int) string { return fmt.Sprintf("vhpc-esx-%02d.hpc.vmware.com", i) }

// HostAddress returns the management address (vmk0) of lab host i: a
// loopback address (all of 127.0.0.0/8 is loopback on Linux) on which the
// lab serves the host's guest file transfers (host_endpoints.go).
func HostAddress(i int) string { return fmt.Sprintf("127.10.%d.%d", (i-1)/250, (i-1)%250+1) }

// setHostAddress gives host number i its own management address and DNS
// name (host name and domain from its name), as ESXi hosts have; the stock
// hosts all say 127.0.0.1 and localhost.
func setHostAddress(h *simulator.HostSystem, i int) {
	n := h.Config.Network
	for k := range n.Vnic {
		if n.Vnic[k].Device == "vmk0" && n.Vnic[k].Spec.Ip != nil {
			ip := *n.Vnic[k].Spec.Ip
			ip.Dhcp, ip.IpAddress, ip.SubnetMask = false, HostAddress(i), "255.255.0.0"
			n.Vnic[k].Spec.Ip = &ip
		}
	}
	name, domain := h.Name, ""
	if dot := strings.IndexByte(name, '.'); dot > 0 {
		name, domain = name[:dot], name[dot+1:]
	}
	named := func(c types.BaseHostDnsConfig) types.BaseHostDnsConfig {
		d, ok := c.(*types.HostDnsConfig)
		if !ok {
			return c
		}
		cp := *d
		cp.Dhcp, cp.HostName, cp.DomainName, cp.SearchDomain = false, name, domain, []string{domain}
		return &cp
	}
	setManagementVnic(h)
	n.DnsConfig = named(n.DnsConfig)
	for k := range n.NetStackInstance {
		if n.NetStackInstance[k].Key == "defaultTcpipStack" {
			n.NetStackInstance[k].DnsConfig = named(n.NetStackInstance[k].DnsConfig)
		}
	}
}

// setManagementVnic makes vmk0 the host's one selected management adapter
// (config.virtualNicManagerInfo), as on ESXi; clients such as govc take
// the host's management address from there. The stock host offers a
// vmk1 at 192.168.0.1.
func setManagementVnic(h *simulator.HostSystem) {
	var vmk0 *types.HostVirtualNic
	for k := range h.Config.Network.Vnic {
		if h.Config.Network.Vnic[k].Device == "vmk0" {
			nic := h.Config.Network.Vnic[k]
			vmk0 = &nic
		}
	}
	if vmk0 == nil {
		return
	}
	key := "management.key-vim.host.VirtualNic-vmk0"
	candidate := *vmk0
	candidate.Key = key
	info := &types.HostVirtualNicManagerInfo{}
	if old := h.Config.VirtualNicManagerInfo; old != nil {
		for _, nc := range old.NetConfig {
			if nc.NicType != string(types.HostVirtualNicManagerNicTypeManagement) {
				info.NetConfig = append(info.NetConfig, nc)
			}
		}
	}
	info.NetConfig = append(info.NetConfig, types.VirtualNicManagerNetConfig{
		NicType:            string(types.HostVirtualNicManagerNicTypeManagement),
		MultiSelectAllowed: true,
		CandidateVnic:      []types.HostVirtualNic{candidate},
		SelectedVnic:       []string{key},
	})
	h.Config.VirtualNicManagerInfo = info
}

func (l *Lab) buildInventory(ctx context.Context) error {
	m := simulator.VPX()
	m.Datacenter, m.Portgroup, m.Host, m.Cluster, m.ClusterHost, m.Datastore, m.Machine = 0, 0, 0, 0, 0, 0, 0
	m.Autostart = false
	// Announce vSphere 7.0 (the API level of govmomi 0.24's types): with
	// the stock 6.5, pyVmomi negotiates vim.version.version11 and cannot
	// decode newer host properties such as config.network.rdmaDevice.
	about := &m.ServiceContent.About
	about.FullName = "VMware vCenter Server 7.0.0 build-15952498 (vhpc-sim test lab)"
	about.Version = "7.0.0"
	about.Build = "15952498"
	about.ApiVersion = "7.0.0.0" // as vCenter 7.0 reports it; pyVmomi matches this string
	about.LicenseProductVersion = "7.0"
	if err := m.Create(); err != nil {
		return err
	}
	l.model = m

	c, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return err
	}
	l.client = c

	dc, err := object.NewRootFolder(c).CreateDatacenter(ctx, DatacenterName)
	if err != nil {
		return err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	gpu, err := folders.HostFolder.CreateCluster(ctx, GPUClusterName, types.ClusterConfigSpecEx{})
	if err != nil {
		return err
	}
	hpc, err := folders.HostFolder.CreateCluster(ctx, HPCClusterName, types.ClusterConfigSpecEx{})
	if err != nil {
		return err
	}

	var hosts []*simulator.HostSystem
	a100From = 0 // gpu_mig.go: the A100 hosts follow the named and extra hosts
	if l.opts.A100Hosts > 0 {
		a100From = NumNamedHosts + l.opts.ExtraHosts + 1
	}
	for i := 1; i <= NumNamedHosts+l.opts.ExtraHosts+l.opts.A100Hosts; i++ {
		cluster := gpu
		if i == HPCClusterHost {
			cluster = hpc
		}
		task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: HostName(i)}, true, nil, nil)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return fmt.Errorf("add host %s: %v", HostName(i), err)
		}
		h := simulator.Map.Get(info.Result.(types.ManagedObjectReference)).(*simulator.HostSystem)
		applyHostHardware(h, i)
		applyHostTopology(h)    // host_systems.go: CPU packages, power policies
		applyHostNUMA(h, i)     // host_numa.go: memory, NUMA nodes with their PCI devices
		applyHostServices(h, i) // host_setup.go
		setHostAddress(h, i)
		initHostNetworkInfo(h) // network_host.go
		hosts = append(hosts, h)
	}
	l.hosts = hosts
	settleClusterMemory()

	l.installHostSystems(hosts)
	if err := l.addDatastore(ctx, c, hosts); err != nil {
		return err
	}
	dcObj := simulator.Map.Get(dc.Reference()).(*simulator.Datacenter)
	if err := addPortGroup(ctx, c, dcObj, hosts); err != nil {
		return err
	}

	if err := createTemplate(ctx, c, folders.VmFolder, hostPool(c, hosts[0]), hosts[0]); err != nil {
		return err
	}
	templatesOutOfPools() // vanish.go: vCenter's pools list no template
	if err := createExtraVMs(ctx, c, folders.VmFolder, hosts, l.opts.ExtraVMs); err != nil {
		return err
	}

	if l.opts.Stock {
		return nil // stock.go: the stock simulator's behaviour on this inventory
	}
	l.fillForClients(hosts) // clients.go
	l.settleInventoryAdapters()
	installEnvironmentBrowsers()
	installAssignableHardwareManagers(hosts) // hardware_labels.go
	installVGPUSettings()                    // gpu_catalog.go
	installDVSManager()                      // network_dvs_manager.go
	l.installGuestWatcher()
	return nil
}

// settleInventoryAdapters gives the inventory's VMs and template what
// vCenter gives adapters (nics.go): vCenter MAC addresses, PCI slots.
func (l *Lab) settleInventoryAdapters() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			simulator.Map.WithLock(vm, func() { l.settleAdapters(vm, nil) })
		}
	}
}

// addDatastore creates the shared datastore on the first host and mounts it
// on the others. The stock CreateLocalDatastore makes a new Datastore object
// per host, so the other hosts are mounted here directly.
func (l *Lab) addDatastore(ctx context.Context, c *vim25.Client, hosts []*simulator.HostSystem) error {
	dir, err := ioutil.TempDir("", "vhpc-sim-ds-")
	if err != nil {
		return err
	}
	l.dsDir = dir

	first := object.NewHostSystem(c, hosts[0].Self)
	dss, err := first.ConfigManager().DatastoreSystem(ctx)
	if err != nil {
		return err
	}
	dsObj, err := dss.CreateLocalDatastore(ctx, DatastoreName, dir)
	if err != nil {
		return err
	}
	ds := simulator.Map.Get(dsObj.Reference()).(*simulator.Datastore)
	ds.Summary.Type = "vsan"
	if info := ds.Info.GetDatastoreInfo(); info != nil {
		info.Url = dir
	}

	for _, h := range hosts[1:] {
		hdss := simulator.Map.Get(*h.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
		hdss.Datastore = append(hdss.Datastore, ds.Self)
		h.Datastore = hdss.Datastore
		ds.Host = append(ds.Host, types.DatastoreHostMount{
			Key: h.Self,
			MountInfo: types.HostMountInfo{
				Path:       dir,
				AccessMode: string(types.HostMountModeReadWrite),
				Mounted:    types.NewBool(true),
				Accessible: types.NewBool(true),
			},
		})
	}
	return nil
}

// addPortGroup adds the standard port group to vSwitch0 of every host and
// attaches its Network object to every host and to the cluster.
func addPortGroup(ctx context.Context, c *vim25.Client, dc *simulator.Datacenter, hosts []*simulator.HostSystem) error {
	spec := types.HostPortGroupSpec{Name: PortGroupName, VswitchName: vSwitchName, Policy: types.HostNetworkPolicy{}}

	// The first AddPortGroup creates the Network object in the datacenter.
	ns, err := object.NewHostSystem(c, hosts[0].Self).ConfigManager().NetworkSystem(ctx)
	if err != nil {
		return err
	}
	if err := ns.AddPortGroup(ctx, spec); err != nil {
		return err
	}
	netEntity := simulator.Map.FindByName(PortGroupName, dc.Network)
	if netEntity == nil {
		return fmt.Errorf("network %s not created", PortGroupName)
	}
	network := netEntity.(*mo.Network)

	pg := types.HostPortGroup{
		Key:     "key-vim.host.PortGroup-" + PortGroupName,
		Vswitch: "key-vim.host.VirtualSwitch-" + vSwitchName,
		Spec:    spec,
	}
	for _, h := range hosts {
		hns := simulator.Map.Get(*h.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
		if !hasPortGroup(hns.NetworkInfo.Portgroup) {
			hns.NetworkInfo.Portgroup = append(hns.NetworkInfo.Portgroup, pg)
			for i := range hns.NetworkInfo.Vswitch {
				if hns.NetworkInfo.Vswitch[i].Name == vSwitchName {
					hns.NetworkInfo.Vswitch[i].Portgroup = append(hns.NetworkInfo.Vswitch[i].Portgroup, PortGroupName)
				}
			}
		}
		// host.config.network is a separate copy.
		if !hasPortGroup(h.Config.Network.Portgroup) {
			h.Config.Network.Portgroup = append(append([]types.HostPortGroup(nil), h.Config.Network.Portgroup...), pg)
			for i := range h.Config.Network.Vswitch {
				if h.Config.Network.Vswitch[i].Name == vSwitchName {
					h.Config.Network.Vswitch[i].Portgroup = append(h.Config.Network.Vswitch[i].Portgroup, pg.Key)
				}
			}
		}
		h.Network = appendRef(h.Network, network.Self)
		network.Host = appendRef(network.Host, h.Self)
		if cr, ok := simulator.Map.Get(*h.Parent).(*simulator.ClusterComputeResource); ok {
			cr.Network = appendRef(cr.Network, network.Self)
		}
	}
	return nil
}

func hasPortGroup(pgs []types.HostPortGroup) bool {
	for _, p := range pgs {
		if p.Spec.Name == PortGroupName {
			return true
		}
	}
	return false
}

func appendRef(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, r := range refs {
		if r == ref {
			return refs
		}
	}
	return append(refs, ref)
}

func vmxnet3Card(devices object.VirtualDeviceList) (types.BaseVirtualDevice, error) {
	backing := &types.VirtualEthernetCardNetworkBackingInfo{
		VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: PortGroupName},
	}
	return devices.CreateEthernetCard("vmxnet3", backing)
}

// createTemplate creates the EFI template VM vhpc_clone on host.
func createTemplate(ctx context.Context, c *vim25.Client, folder *object.Folder, pool *object.ResourcePool, host *simulator.HostSystem) error {
	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return err
	}
	devices = append(devices, scsi)
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{},
		fmt.Sprintf("[%s] %s", DatastoreName, path.Join(TemplateName, TemplateName+".vmdk")))
	disk.CapacityInKB = 16 * 1024 * 1024
	nic, err := vmxnet3Card(devices)
	if err != nil {
		return err
	}
	devices = append(devices, disk, nic)
	change, err := devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	if err != nil {
		return err
	}
	spec := types.VirtualMachineConfigSpec{
		Name:         TemplateName,
		GuestId:      templateGuestId,
		NumCPUs:      2,
		MemoryMB:     4096,
		Firmware:     string(types.GuestOsDescriptorFirmwareTypeEfi),
		Annotation:   "vHPC toolkit template (vhpc-sim lab)",
		Files:        &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", DatastoreName)},
		DeviceChange: change,
	}
	hostRef := object.NewHostSystem(c, host.Self)
	task, err := folder.CreateVM(ctx, spec, pool, hostRef)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return fmt.Errorf("create %s: %v", TemplateName, err)
	}
	vm := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference))
	// One snapshot, as an administrator prepares a template for linked clones.
	task, err = vm.CreateSnapshot(ctx, LinkedCloneSnapshot, "base of linked clones", false, false)
	if err != nil {
		return err
	}
	if _, err := task.WaitForResult(ctx, nil); err != nil {
		return fmt.Errorf("snapshot of %s: %v", TemplateName, err)
	}
	sim := simulator.Map.Get(vm.Reference()).(*simulator.VirtualMachine)
	var fault types.BaseMethodFault
	simulator.Map.WithLock(sim, func() { fault = markAsTemplate(sim) }) // templates.go
	if fault != nil {
		return fmt.Errorf("mark %s as a template: %s", TemplateName, faultText(fault))
	}
	return nil
}

// hostPool is the root resource pool of host's cluster.
func hostPool(c *vim25.Client, host *simulator.HostSystem) *object.ResourcePool {
	cr := simulator.Map.Get(*host.Parent).(*simulator.ClusterComputeResource)
	return object.NewResourcePool(c, *cr.ResourcePool)
}

// createExtraVMs adds n small powered-off VMs, round-robin over hosts.
func createExtraVMs(ctx context.Context, c *vim25.Client, folder *object.Folder, hosts []*simulator.HostSystem, n int) error {
	for i := 1; i <= n; i++ {
		var devices object.VirtualDeviceList
		nic, err := vmxnet3Card(devices)
		if err != nil {
			return err
		}
		change, err := object.VirtualDeviceList{nic}.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
		if err != nil {
			return err
		}
		name := fmt.Sprintf(extraVMNameFmt, i)
		spec := types.VirtualMachineConfigSpec{
			Name:         name,
			GuestId:      string(types.VirtualMachineGuestOsIdentifierOtherLinux64Guest),
			NumCPUs:      1,
			MemoryMB:     1024,
			Files:        &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", DatastoreName)},
			DeviceChange: change,
		}
		h := hosts[(i-1)%len(hosts)]
		task, err := folder.CreateVM(ctx, spec, hostPool(c, h), object.NewHostSystem(c, h.Self))
		if err != nil {
			return err
		}
		if _, err := task.WaitForResult(ctx, nil); err != nil {
			return fmt.Errorf("create %s: %v", name, err)
		}
	}
	return nil
}
