package main

// Device keys, unit numbers and labels as vSphere gives them to the devices
// a client adds (the client sends a temporary key, 0 or negative): each
// kind of device has its own key range, and the label vSphere shows
// (govc device.ls, Ansible's vmware_guest_network and _disk, the vSphere
// Client, and the toolkit's view and messages):
//
//	network adapters (VMXNET3, E1000, SR-IOV, PVRDMA)  4000 + n   unit 7 + n on the PCI bus   "Network adapter n+1"
//	SCSI controller on bus b                           1000 + b   unit 3 + b                   "SCSI controller b"
//	disks on a SCSI controller                         2000 + 16 b + unit                      "Hard disk N"
//	disks on another controller                        the lowest free key from 2000           "Hard disk N"
//	SATA (AHCI) controller b                           15000 + b                               "SATA controller b"
//	NVMe controller b                                  31000 + b                               "NVME controller b"
//	CD/DVD drives                                      3000 + n                                "CD/DVD drive N"
//	PCI devices (DirectPath, vGPU)                     13000 + n                               "PCI device n"
//	floppy, serial, parallel                           8000, 9000, 10000 + n                   "Floppy drive N", ...
//
// n is the lowest free index, N the lowest free number from 1; a disk
// without a unit number gets the lowest free unit of its controller (7 is
// the SCSI controller's own). The stock simulator numbered every device
// from 201 in the order it came and labelled it with its type
// ("ethernet--7", "disk-202-0", "pvscsi-202"). The inventory's template and
// VMs are numbered so at start, so their clones carry vSphere's keys too.

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// keyRange is one key range: its base, how labels read, whether the
// index starts at 0 in the label.
type keyRange struct {
	base       int32
	label      string // fmt format with the label's number
	labelFrom0 bool
}

var (
	kindNIC      = keyRange{4000, "Network adapter %d", false}
	kindDisk     = keyRange{2000, "Hard disk %d", false}
	kindCDROM    = keyRange{3000, "CD/DVD drive %d", false}
	kindPCI      = keyRange{13000, "PCI device %d", true}
	kindFloppy   = keyRange{8000, "Floppy drive %d", false}
	kindSerial   = keyRange{9000, "Serial port %d", false}
	kindParallel = keyRange{10000, "Parallel port %d", false}
)

// kindOf is d's key range, or false for devices the lab leaves as they are
// (controllers are handled by bus number).
func kindOf(d types.BaseVirtualDevice) (keyRange, bool) {
	switch d.(type) {
	case types.BaseVirtualEthernetCard:
		return kindNIC, true
	case *types.VirtualDisk:
		return kindDisk, true
	case *types.VirtualCdrom:
		return kindCDROM, true
	case *types.VirtualPCIPassthrough:
		return kindPCI, true
	case *types.VirtualFloppy:
		return kindFloppy, true
	case *types.VirtualSerialPort:
		return kindSerial, true
	case *types.VirtualParallelPort:
		return kindParallel, true
	}
	return keyRange{}, false
}

// controllerKind is a controller's key base and label, or false.
func controllerKind(d types.BaseVirtualDevice) (int32, string, bool) {
	switch d.(type) {
	case types.BaseVirtualSCSIController:
		return 1000, "SCSI controller %d", true
	case *types.VirtualAHCIController:
		return 15000, "SATA controller %d", true
	case *types.VirtualNVMEController:
		return 31000, "NVME controller %d", true
	}
	return 0, "", false
}

// keyPlan numbers devices against a VM's device list.
type keyPlan struct {
	keys   map[int32]bool
	labels map[string]bool
	byKey  map[int32]types.BaseVirtualDevice
}

func newKeyPlan(devices []types.BaseVirtualDevice) *keyPlan {
	p := &keyPlan{keys: map[int32]bool{}, labels: map[string]bool{}, byKey: map[int32]types.BaseVirtualDevice{}}
	for _, d := range devices {
		p.add(d)
	}
	return p
}

func (p *keyPlan) add(d types.BaseVirtualDevice) {
	v := d.GetVirtualDevice()
	p.keys[v.Key] = true
	p.byKey[v.Key] = d
	if v.DeviceInfo != nil {
		p.labels[v.DeviceInfo.GetDescription().Label] = true
	}
}

// free is the lowest free key from base (its index from base).
func (p *keyPlan) free(base int32) int32 {
	k := base
	for p.keys[k] {
		k++
	}
	return k
}

// freeLabel is the lowest free label number of format.
func (p *keyPlan) freeLabel(format string, from0 bool) string {
	n := 1
	if from0 {
		n = 0
	}
	for p.labels[fmt.Sprintf(format, n)] {
		n++
	}
	return fmt.Sprintf(format, n)
}

func setLabel(d types.BaseVirtualDevice, label string) {
	v := d.GetVirtualDevice()
	if v.DeviceInfo == nil {
		v.DeviceInfo = &types.Description{Label: label} // the summary is the stock one (network, size)
		return
	}
	v.DeviceInfo.GetDescription().Label = label
}

// number gives device d (not yet in the plan) vSphere's key, unit number
// and label, and adds it to the plan; it returns the key.
func (p *keyPlan) number(d types.BaseVirtualDevice) int32 {
	v := d.GetVirtualDevice()
	if base, format, ok := controllerKind(d); ok {
		bus := controllerBus(d)
		key := base + bus
		if p.keys[key] {
			key = p.free(base)
		}
		v.Key = key
		if _, scsi := d.(types.BaseVirtualSCSIController); scsi {
			v.ControllerKey = 100
			v.UnitNumber = types.NewInt32(3 + bus)
		}
		setLabel(d, fmt.Sprintf(format, bus))
		p.add(d)
		return key
	}
	kind, ok := kindOf(d)
	if !ok {
		return v.Key
	}
	switch kind {
	case kindNIC:
		v.Key = p.free(kind.base)
		v.ControllerKey = 100
		v.UnitNumber = types.NewInt32(7 + v.Key - kind.base)
		setLabel(d, fmt.Sprintf(kind.label, v.Key-kind.base+1))
	case kindDisk:
		v.Key = p.diskKey(d)
		setLabel(d, p.freeLabel(kind.label, false))
	default:
		v.Key = p.free(kind.base)
		setLabel(d, p.freeLabel(kind.label, kind.labelFrom0))
	}
	p.add(d)
	return v.Key
}

// diskKey is a disk's key: 2000 + 16 x bus + unit on a SCSI controller
// (the lowest free unit when it has none), else the lowest free from 2000.
func (p *keyPlan) diskKey(d types.BaseVirtualDevice) int32 {
	v := d.GetVirtualDevice()
	ctl, ok := p.byKey[v.ControllerKey].(types.BaseVirtualSCSIController)
	if !ok {
		return p.free(kindDisk.base)
	}
	if v.UnitNumber == nil {
		used := map[int32]bool{7: true}
		for _, o := range p.byKey {
			if ov := o.GetVirtualDevice(); ov.ControllerKey == v.ControllerKey && ov.UnitNumber != nil {
				used[*ov.UnitNumber] = true
			}
		}
		u := int32(0)
		for used[u] {
			u++
		}
		v.UnitNumber = types.NewInt32(u)
	}
	key := kindDisk.base + 16*ctl.GetVirtualSCSIController().BusNumber + *v.UnitNumber
	if p.keys[key] {
		key = p.free(kindDisk.base)
	}
	return key
}

func controllerBus(d types.BaseVirtualDevice) int32 {
	switch c := d.(type) {
	case types.BaseVirtualController:
		return c.GetVirtualController().BusNumber
	}
	return 0
}

// assignDeviceKeys numbers the devices spec adds with a temporary key (0
// or negative) against the VM's devices, controllers first, and points the
// spec's references to a temporary key at the new one.
func assignDeviceKeys(devices []types.BaseVirtualDevice, spec *types.VirtualMachineConfigSpec) {
	if spec == nil || len(spec.DeviceChange) == 0 {
		return
	}
	p := newKeyPlan(devices)
	renamed := map[int32]int32{}
	for pass := 0; pass < 2; pass++ { // controllers, then the rest
		for _, c := range spec.DeviceChange {
			ds := c.GetVirtualDeviceConfigSpec()
			if ds.Operation != types.VirtualDeviceConfigSpecOperationAdd || ds.Device == nil {
				continue
			}
			_, _, isController := controllerKind(ds.Device)
			if isController != (pass == 0) {
				continue
			}
			v := ds.Device.GetVirtualDevice()
			if k, ok := renamed[v.ControllerKey]; ok {
				v.ControllerKey = k
			}
			if v.Key > 0 {
				p.add(ds.Device)
				continue
			}
			old := v.Key
			if key := p.number(ds.Device); old != key {
				renamed[old] = key
			}
		}
	}
	for _, c := range spec.DeviceChange {
		if ds := c.GetVirtualDeviceConfigSpec(); ds.Device != nil {
			if k, ok := renamed[ds.Device.GetVirtualDevice().ControllerKey]; ok {
				ds.Device.GetVirtualDevice().ControllerKey = k
			}
		}
	}
}

// renumberDevices gives vm's devices (made before the lab served: the
// template, the extra VMs) vSphere's keys and labels, in its
// configuration, snapshots and disk layout.
func renumberDevices(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	var keep, renum []types.BaseVirtualDevice
	for _, d := range vm.Config.Hardware.Device {
		_, _, isController := controllerKind(d)
		if _, ok := kindOf(d); ok || isController {
			renum = append(renum, d)
		} else {
			keep = append(keep, d)
		}
	}
	p := newKeyPlan(keep)
	renamed := map[int32]int32{}
	for pass := 0; pass < 2; pass++ {
		for _, d := range renum {
			if _, _, isController := controllerKind(d); isController != (pass == 0) {
				continue
			}
			v := d.GetVirtualDevice()
			if k, ok := renamed[v.ControllerKey]; ok {
				v.ControllerKey = k
			}
			old := v.Key
			renamed[old] = p.number(d)
		}
	}
	if vm.LayoutEx != nil {
		for i := range vm.LayoutEx.Disk {
			if k, ok := renamed[vm.LayoutEx.Disk[i].Key]; ok {
				vm.LayoutEx.Disk[i].Key = k
			}
		}
	}
	for i := range vm.Guest.Net {
		if k, ok := renamed[vm.Guest.Net[i].DeviceConfigId]; ok {
			vm.Guest.Net[i].DeviceConfigId = k
		}
	}
}

// numberInventoryDevices renumbers the devices of every VM made before the
// lab served (snapshots taken then keep their own copy).
func numberInventoryDevices() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			renumberDevices(vm)
		}
	}
}
