package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

// TestMovedDirectPathDeviceMustBeChosenAgain: a VM moved powered off keeps
// its DirectPath device's old systemId and does not power on on the new
// host until the device's backing names that host.
func TestMovedDirectPathDeviceMustBeChosenAgain(t *testing.T) {
	e := newLabEnv(t)
	h2, h3 := e.host(2), e.host(3)
	vm := e.mustClone("sysid-moved", h2, reserved(gpuDevice(GPUIds[1], e.hostUUID(h2))))
	ref3 := h3.Reference()
	if err := e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref3}); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "The systemId does not match the current system",
		"currently at d8:0.0", e.hostUUID(h2))
	devs := e.vmMo(vm, "config.hardware.device").Config.Hardware.Device
	for _, d := range devs {
		if p, ok := d.(*types.VirtualPCIPassthrough); ok {
			p.Backing.(*types.VirtualPCIPassthroughDeviceBackingInfo).SystemId = e.hostUUID(h3)
			if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
				&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: p}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.powerOn(vm); err != nil {
		t.Errorf("after choosing the device on the new host: %v", err)
	}
}
