package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func devicesByLabel(t *testing.T, e *labEnv, ref types.ManagedObjectReference) map[string]types.BaseVirtualDevice {
	var m mo.VirtualMachine
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, ref, []string{"config.hardware.device"}, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]types.BaseVirtualDevice{}
	for _, d := range m.Config.Hardware.Device {
		if info := d.GetVirtualDevice().DeviceInfo; info != nil {
			out[info.GetDescription().Label] = d
		}
	}
	return out
}

func expectDevice(t *testing.T, devs map[string]types.BaseVirtualDevice, label string, key int32, unit int32) {
	t.Helper()
	d, ok := devs[label]
	if !ok {
		t.Errorf("no %q in %v", label, keysOf(devs))
		return
	}
	v := d.GetVirtualDevice()
	if v.Key != key || (unit >= 0 && (v.UnitNumber == nil || *v.UnitNumber != unit)) {
		t.Errorf("%s: key %d unit %v, want %d unit %d", label, v.Key, v.UnitNumber, key, unit)
	}
}

func keysOf(m map[string]types.BaseVirtualDevice) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The template's devices and the devices clients add get vSphere's keys,
// unit numbers and labels.
func TestDeviceKeysAndLabels(t *testing.T) {
	e := newLabEnv(t)
	tmpl := devicesByLabel(t, e, e.tmpl.Reference())
	expectDevice(t, tmpl, "Network adapter 1", 4000, 7)
	expectDevice(t, tmpl, "SCSI controller 0", 1000, 3)
	expectDevice(t, tmpl, "Hard disk 1", 2000, 0)

	vm := e.mustClone("device-keys", e.host(2), nil)
	nic := &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{VirtualDevice: types.VirtualDevice{
		Key: -1, Backing: &types.VirtualEthernetCardNetworkBackingInfo{
			VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: PortGroupName}}}}}}
	disk := func(key, ctl int32, unit *int32) *types.VirtualDisk {
		return &types.VirtualDisk{CapacityInKB: 1024, VirtualDevice: types.VirtualDevice{Key: key, ControllerKey: ctl, UnitNumber: unit,
			Backing: &types.VirtualDiskFlatVer2BackingInfo{DiskMode: "persistent", VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: ""}}}}
	}
	scsi := &types.ParaVirtualSCSIController{VirtualSCSIController: types.VirtualSCSIController{
		VirtualController: types.VirtualController{BusNumber: 1, VirtualDevice: types.VirtualDevice{Key: -5}},
		SharedBus:         types.VirtualSCSISharingNoSharing}}
	spec := types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		&types.VirtualDeviceConfigSpec{Operation: "add", Device: nic},
		&types.VirtualDeviceConfigSpec{Operation: "add", FileOperation: "create", Device: disk(-2, 1000, types.NewInt32(1))},
		&types.VirtualDeviceConfigSpec{Operation: "add", FileOperation: "create", Device: disk(-3, -5, types.NewInt32(0))},
		&types.VirtualDeviceConfigSpec{Operation: "add", Device: scsi},
	}}
	if err := e.reconfigure(vm, spec); err != nil {
		t.Fatal(err)
	}
	devs := devicesByLabel(t, e, vm.Reference())
	expectDevice(t, devs, "Network adapter 1", 4000, 7)
	expectDevice(t, devs, "Network adapter 2", 4001, 8)
	expectDevice(t, devs, "Hard disk 2", 2001, 1)
	expectDevice(t, devs, "SCSI controller 1", 1001, 4)
	expectDevice(t, devs, "Hard disk 3", 2016, 0)
	if d, ok := devs["Hard disk 3"]; ok && d.GetVirtualDevice().ControllerKey != 1001 {
		t.Errorf("the new disk's controller is %d, want the new controller 1001", d.GetVirtualDevice().ControllerKey)
	}
}
