package main

// Hardware tables of every lab host: PCI devices, physical NICs, RDMA
// devices, passthrough / SR-IOV state and vGPU profiles. Everything else
// (QueryConfigTarget, later the power-on and reconfigure rules) derives from
// what applyHostHardware puts on the host, so this file is the one place to
// change the lab's hardware.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	pciVendorNVIDIA   = 0x10de
	pciVendorMellanox = 0x15b3
	pciVendorIntel    = 0x8086

	pciClassVGA3D      = 0x0302 // 3D controller
	pciClassEthernet   = 0x0200
	pciClassInfiniband = 0x0207

	gpuDeviceName  = "GV100GL [Tesla V100 PCIe 32GB]" // the passthrough V100s (NVIDIA's board V100D)
	v100SharedName = "GV100GL [Tesla V100 PCIe 16GB]" // the one serving vGPUs (board V100)
	p100DeviceName = "GP100GL [Tesla P100 PCIe 16GB]"
	cx4PFName      = "MT27700 Family [ConnectX-4]"
	cx4VFName      = "MT27700 Family [ConnectX-4 Virtual Function]"

	// SRIOVPFId is the ConnectX-4 physical function with SR-IOV enabled (vmnic4).
	SRIOVPFId  = "0000:af:00.0"
	SRIOVPnic  = "vmnic4"
	numVFs     = 8
	rdmaPnic   = "vmnic5"
	rdmaPCI    = "0000:12:00.0"
	rdmaDevice = "vmrdma0"

	// SharedV100Id is every host's V100 in shared direct mode (vGPU);
	// P100Id the 16 GB P100 in shared direct mode of hosts 05 and later.
	SharedV100Id = "0000:5e:00.0"
	P100Id       = "0000:86:00.0"
	firstP100    = 5
)

// GPUIds are the passthrough-enabled GPUs of every host.
var GPUIds = []string{"0000:3b:00.0", "0000:d8:00.0"}

// VGPUProfiles are all the vGPU profiles of the lab's GPU models; a host
// offers those of the models it has in shared direct mode (gpu.go).
var VGPUProfiles = allProfiles() // gpu_catalog.go

type pciDev struct {
	id                     string
	class, vendor, device  uint16
	subVendor, subDevice   uint16
	vendorName, deviceName string
	parentBridge           string
}

// sriovVFIds returns the ids of the PF's virtual functions: the PF is
// function 0 of its slot; VFs follow at function 1..7 and the next slots.
func sriovVFIds() []string {
	bus, slot, fn := parsePCIId(SRIOVPFId)
	var ids []string
	for i := 0; i < numVFs; i++ {
		fn++
		if fn > 7 {
			fn = 0
			slot++
		}
		ids = append(ids, fmt.Sprintf("0000:%02x:%02x.%d", bus, slot, fn))
	}
	return ids
}

func hostPCIDevices(index int) []pciDev {
	devs := []pciDev{
		{id: "0000:00:00.0", class: 0x0600, vendor: pciVendorIntel, device: 0x2020, subVendor: pciVendorIntel, subDevice: 0x0000,
			vendorName: "Intel Corporation", deviceName: "Sky Lake-E DMI3 Registers"},
	}
	for _, g := range hostGPUs(index) {
		devs = append(devs, pciDev{id: g.id, class: pciClassVGA3D, vendor: pciVendorNVIDIA, device: g.model.device,
			subVendor: pciVendorNVIDIA, subDevice: g.model.subDevice, vendorName: "NVIDIA Corporation", deviceName: g.model.name})
	}
	for i := 0; i < 4; i++ { // vmnic0..3
		devs = append(devs, pciDev{id: fmt.Sprintf("0000:18:00.%d", i), class: pciClassEthernet, vendor: pciVendorIntel,
			device: 0x1572, subVendor: pciVendorIntel, subDevice: 0x0006, vendorName: "Intel Corporation",
			deviceName: "Ethernet Controller X710 for 10GbE SFP+"})
	}
	devs = append(devs, pciDev{id: SRIOVPFId, class: pciClassEthernet, vendor: pciVendorMellanox, device: 0x1013,
		subVendor: pciVendorMellanox, subDevice: 0x0008, vendorName: "Mellanox Technologies", deviceName: cx4PFName})
	for _, id := range sriovVFIds() {
		devs = append(devs, pciDev{id: id, class: pciClassEthernet, vendor: pciVendorMellanox, device: 0x1014,
			subVendor: pciVendorMellanox, subDevice: 0x0008, vendorName: "Mellanox Technologies", deviceName: cx4VFName,
			parentBridge: ""})
	}
	// vmnic5: a second ConnectX-4, RDMA (RoCE) capable, no SR-IOV.
	devs = append(devs, pciDev{id: rdmaPCI, class: pciClassEthernet, vendor: pciVendorMellanox, device: 0x1013,
		subVendor: pciVendorMellanox, subDevice: 0x0008, vendorName: "Mellanox Technologies", deviceName: cx4PFName})
	return devs
}

type pnicDef struct {
	device, pci, driver string
	speedMb             int32
	rdma                string
}

func hostPnics() []pnicDef {
	return []pnicDef{
		{"vmnic0", "0000:18:00.0", "i40en", 10000, ""},
		{"vmnic1", "0000:18:00.1", "i40en", 10000, ""},
		{"vmnic2", "0000:18:00.2", "i40en", 10000, ""},
		{"vmnic3", "0000:18:00.3", "i40en", 10000, ""},
		{SRIOVPnic, SRIOVPFId, "nmlx5_core", 100000, ""},
		{rdmaPnic, rdmaPCI, "nmlx5_core", 100000, rdmaDevice},
	}
}

// parsePCIId splits "0000:3b:00.0" into bus, slot and function.
func parsePCIId(id string) (bus, slot, fn int) {
	parts := strings.Split(id, ":")
	if len(parts) != 3 {
		return
	}
	b, _ := strconv.ParseUint(parts[1], 16, 8)
	sf := strings.SplitN(parts[2], ".", 2)
	s, _ := strconv.ParseUint(sf[0], 16, 8)
	var f uint64
	if len(sf) == 2 {
		f, _ = strconv.ParseUint(sf[1], 16, 8)
	}
	return int(b), int(s), int(f)
}

// pciId16 converts a 16-bit PCI id to the vim API's int16 (the API uses
// signed shorts; ids above 0x7fff wrap around as they do on the wire).
func pciId16(v uint16) int16 { return int16(v) }

func (d pciDev) hostPciDevice() types.HostPciDevice {
	bus, slot, fn := parsePCIId(d.id)
	return types.HostPciDevice{
		Id:           d.id,
		ClassId:      pciId16(d.class),
		Bus:          byte(bus),
		Slot:         byte(slot),
		Function:     byte(fn),
		VendorId:     pciId16(d.vendor),
		SubVendorId:  pciId16(d.subVendor),
		VendorName:   d.vendorName,
		DeviceId:     pciId16(d.device),
		SubDeviceId:  pciId16(d.subDevice),
		ParentBridge: d.parentBridge,
		DeviceName:   d.deviceName,
	}
}

// applyHostHardware gives host the lab hardware. index numbers the host
// (1-based) and makes MAC addresses unique. Call before the lab serves.
func applyHostHardware(host *simulator.HostSystem, index int) {
	var pci []types.HostPciDevice
	for _, d := range hostPCIDevices(index) {
		pci = append(pci, d.hostPciDevice())
	}
	host.Hardware.PciDevice = pci

	var passthru []types.BaseHostPciPassthruInfo
	for _, g := range hostGPUs(index) {
		// A GPU in shared direct mode (vGPU) is not passthrough-enabled.
		passthru = append(passthru, &types.HostPciPassthruInfo{
			Id:              g.id,
			DependentDevice: g.id,
			PassthruCapable: true,
			PassthruEnabled: !g.shared,
			PassthruActive:  !g.shared,
		})
	}
	passthru = append(passthru, &types.HostSriovInfo{
		HostPciPassthruInfo: types.HostPciPassthruInfo{
			Id:              SRIOVPFId,
			DependentDevice: SRIOVPFId,
			PassthruCapable: true,
			PassthruEnabled: false, // an SR-IOV PF is not passed through itself
			PassthruActive:  false,
		},
		SriovCapable:                true,
		SriovEnabled:                true,
		SriovActive:                 true,
		NumVirtualFunctionRequested: numVFs,
		NumVirtualFunction:          numVFs,
		MaxVirtualFunctionSupported: numVFs,
	})
	host.Config.PciPassthruInfo = passthru
	applyGraphics(host, hostGPUs(index)) // graphicsInfo, graphicsConfig, vGPU profiles (gpu_host.go)

	var pnics []types.PhysicalNic
	for i, p := range hostPnics() {
		link := &types.PhysicalNicLinkInfo{SpeedMb: p.speedMb, Duplex: true}
		rdma := ""
		if p.rdma != "" {
			rdma = rdmaDeviceKey(p.rdma) // a link to the RdmaDevice by its key, as ESXi gives it
		}
		pnics = append(pnics, types.PhysicalNic{
			Key:                           pnicKey(p.device),
			Device:                        p.device,
			Pci:                           p.pci,
			Driver:                        p.driver,
			LinkSpeed:                     link,
			ValidLinkSpecification:        []types.PhysicalNicLinkInfo{*link},
			Spec:                          types.PhysicalNicSpec{Ip: &types.HostIpConfig{}, LinkSpeed: link},
			Mac:                           fmt.Sprintf("0c:42:a1:%02x:%02x:%02x", (index>>8)&0xff, index&0xff, i),
			VmDirectPathGen2Supported:     types.NewBool(false),
			ResourcePoolSchedulerAllowed:  types.NewBool(true),
			AutoNegotiateSupported:        types.NewBool(false),
			RdmaDevice:                    rdma,
			VmDirectPathGen2SupportedMode: "",
		})
	}
	host.Config.Network.Pnic = pnics
	host.Config.Network.RdmaDevice = []types.HostRdmaDevice{{
		Key:         rdmaDeviceKey(rdmaDevice),
		Device:      rdmaDevice,
		Driver:      "nmlx5_rdma",
		Description: "MT27700 Family [ConnectX-4]",
		Backing:     &types.HostRdmaDevicePnicBacking{PairedUplink: pnicKey(rdmaPnic)},
		ConnectionInfo: types.HostRdmaDeviceConnectionInfo{
			State:       "active",
			Mtu:         4096,
			SpeedInMbps: 100000,
		},
		Capability: types.HostRdmaDeviceCapability{RoceV1Capable: true, RoceV2Capable: true},
	}}
}

// pnicKey is a physical NIC's key, the link other host objects name it by
// (HostVirtualSwitch.pnic, HostRdmaDevicePnicBacking.pairedUplink: both
// "vim.host.PhysicalNic" links in the API's type information).
func pnicKey(device string) string { return "key-vim.host.PhysicalNic-" + device }

// rdmaDeviceKey is an RDMA device's key (PhysicalNic.rdmaDevice links it).
func rdmaDeviceKey(device string) string { return "key-vim.host.RdmaDevice-" + device }

// hostPciDevice finds a PCI device of host by id.
func hostPciDevice(host *simulator.HostSystem, id string) (types.HostPciDevice, bool) {
	for _, d := range host.Hardware.PciDevice {
		if d.Id == id {
			return d, true
		}
	}
	return types.HostPciDevice{}, false
}

// pnicForPCI returns the vmnic backed by the PCI device id ("" if none).
func pnicForPCI(host *simulator.HostSystem, id string) string {
	if host.Config == nil || host.Config.Network == nil {
		return ""
	}
	for _, p := range host.Config.Network.Pnic {
		if p.Pci == id {
			return p.Device
		}
	}
	return ""
}
