package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func gpuDevice(id, systemId string) types.BaseVirtualDeviceConfigSpec {
	return &types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationAdd,
		Device: &types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{
			Key: -100,
			Backing: &types.VirtualPCIPassthroughDeviceBackingInfo{
				Id: id, DeviceId: "1db4", SystemId: systemId, VendorId: pciId16(pciVendorNVIDIA),
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: gpuDeviceName},
			},
		}},
	}
}

func vgpuDevice(profile string) types.BaseVirtualDeviceConfigSpec {
	return &types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationAdd,
		Device: &types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{
			Key: -101, Backing: &types.VirtualPCIPassthroughVmiopBackingInfo{Vgpu: profile},
		}},
	}
}

func sriovDevice(pf, systemId string) types.BaseVirtualDeviceConfigSpec {
	return &types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationAdd,
		Device: &types.VirtualSriovEthernetCard{
			VirtualEthernetCard: types.VirtualEthernetCard{VirtualDevice: types.VirtualDevice{
				Key:     -102,
				Backing: &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: PortGroupName}},
			}},
			SriovBacking: &types.VirtualSriovEthernetCardSriovBackingInfo{
				PhysicalFunctionBacking: &types.VirtualPCIPassthroughDeviceBackingInfo{Id: pf, DeviceId: "1013", SystemId: systemId, VendorId: pciId16(pciVendorMellanox)},
			},
		},
	}
}

func reserved(devs ...types.BaseVirtualDeviceConfigSpec) *types.VirtualMachineConfigSpec {
	return &types.VirtualMachineConfigSpec{MemoryMB: 1024, MemoryReservationLockedToMax: types.NewBool(true), DeviceChange: devs}
}

func TestRulePassthroughNeedsFullMemoryReservation(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(2)
	uuid := e.hostUUID(h)
	vm := e.mustClone("rule-mem", h, &types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{gpuDevice(GPUIds[0], uuid)}})
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{},
		"Invalid memory setting: memory reservation (sched.mem.min) should be equal to memsize(4096).", "rule-mem")

	// A partial reservation is not enough; reservation == memory size is.
	res := int64(2048)
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{MemoryAllocation: &types.ResourceAllocationInfo{Reservation: &res}}); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "memsize(4096)", "2048 MB reserved")
	res = 4096
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{MemoryAllocation: &types.ResourceAllocationInfo{Reservation: &res}}); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatalf("fully reserved: %v", err)
	}
	// Running: the reservation cannot be lowered, the device not removed.
	res = 0
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{MemoryAllocation: &types.ResourceAllocationInfo{Reservation: &res}}),
		&types.GenericVmConfigFault{}, "memsize(4096)")
	e.powerOff(vm)

	// vGPU: the same rule; memoryReservationLockedToMax satisfies it.
	vg := e.mustClone("rule-mem-vgpu", h, &types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{vgpuDevice("grid_v100-8q")}})
	expectFault(t, e.powerOn(vg), &types.GenericVmConfigFault{}, "memsize(4096)", "vGPU grid_v100-8q")
	if err := e.reconfigure(vg, types.VirtualMachineConfigSpec{MemoryReservationLockedToMax: types.NewBool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vg); err != nil {
		t.Fatalf("locked to max: %v", err)
	}
	// A VM without such devices needs no reservation.
	plain := e.mustClone("rule-mem-plain", h, nil)
	if err := e.powerOn(plain); err != nil {
		t.Fatal(err)
	}
}

func TestRulePassthroughDeviceOneVMAtATime(t *testing.T) {
	e := newLabEnv(t)
	h3, h5 := e.host(3), e.host(5)
	u3, u5 := e.hostUUID(h3), e.hostUUID(h5)
	a := e.mustClone("rule-gpu-a", h3, reserved(gpuDevice(GPUIds[0], u3)))
	b := e.mustClone("rule-gpu-b", h3, reserved(gpuDevice(strings.ToUpper(GPUIds[0]), u3)))
	other := e.mustClone("rule-gpu-other-host", h5, reserved(gpuDevice(GPUIds[0], u5)))
	second := e.mustClone("rule-gpu-second", h3, reserved(gpuDevice(GPUIds[1], u3)))

	if err := e.powerOn(a); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.powerOn(b), &types.GenericVmConfigFault{}, "Device 0000:3B:00.0 is already in use by VM rule-gpu-a", HostName(3))
	for _, vm := range []*object.VirtualMachine{other, second} { // another host, another GPU
		if err := e.powerOn(vm); err != nil {
			t.Errorf("%s: %v", vm.Reference(), err)
		}
	}
	// Hot-plugging a passthrough device into a running VM is refused.
	expectFault(t, e.reconfigure(a, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{gpuDevice(GPUIds[1], u3)}}),
		&types.DeviceHotPlugNotSupported{}, "rule-gpu-a is powered on")
	e.powerOff(a)
	if err := e.powerOn(b); err != nil {
		t.Fatalf("after the holder powered off: %v", err)
	}
	e.powerOff(b)

	// Passthrough disabled on the host: refused until enabled again.
	if code, body := e.debug("/debug/passthru?host=" + HostName(3) + "&id=0000:3B:00.0&enabled=false"); code != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Fatalf("disable: %d %s", code, body)
	}
	defer e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + GPUIds[0] + "&enabled=true")
	var hm mo.HostSystem
	if err := h3.Properties(e.ctx, h3.Reference(), []string{"config.pciPassthruInfo"}, &hm); err != nil {
		t.Fatal(err)
	}
	for _, p := range hm.Config.PciPassthruInfo {
		if info := p.GetHostPciPassthruInfo(); info.Id == GPUIds[0] && info.PassthruEnabled {
			t.Error("host still reports passthrough enabled")
		}
	}
	expectFault(t, e.powerOn(a), &types.GenericVmConfigFault{}, "Device 0000:3b:00.0 of VM rule-gpu-a is not enabled for passthrough on host "+HostName(3))
	if code, _ := e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + GPUIds[0] + "&enabled=true"); code != 200 {
		t.Fatal("enable failed")
	}
	if err := e.powerOn(a); err != nil {
		t.Fatal(err)
	}

	if code, _ := e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + SRIOVPFId + "&enabled=false"); code != 404 {
		t.Errorf("passthru switch on the SR-IOV PF: %d", code)
	}
	if code, _ := e.debug("/debug/passthru?host=nosuchhost&id=" + GPUIds[0] + "&enabled=false"); code != 404 {
		t.Errorf("unknown host: %d", code)
	}
}

func TestRuleVGPUProfileMustBeOffered(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(2)
	vm := e.mustClone("rule-vgpu", h, nil)
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{vgpuDevice("grid_a100-8c")}}),
		&types.InvalidDeviceSpec{}, "vGPU profile grid_a100-8c is not supported by host "+HostName(2), "grid_v100-8q")
	if err := e.reconfigure(vm, *reserved(vgpuDevice("grid_v100-16q"))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.clone("rule-vgpu-clone", h, reserved(vgpuDevice("grid_a100-8c")), false); err == nil {
		t.Error("clone with an unknown vGPU profile accepted")
	} else {
		expectFault(t, err, &types.InvalidDeviceSpec{}, "grid_a100-8c is not supported")
	}
}

func TestRuleSriov(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(6)
	uuid := e.hostUUID(h)

	// SR-IOV disabled on the PF: the host, QueryConfigTarget and ReconfigVM follow.
	vm := e.mustClone("rule-sriov", h, nil)
	code, body := e.debug("/debug/sriov?host=" + HostName(6) + "&pf=" + SRIOVPFId + "&enabled=false")
	if code != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Fatalf("disable: %d %s", code, body)
	}
	enabled := false
	defer func() {
		if !enabled {
			e.debug("/debug/sriov?host=" + HostName(6) + "&pf=" + SRIOVPFId + "&enabled=true")
		}
	}()
	var vmMo mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"environmentBrowser"}, &vmMo); err != nil {
		t.Fatal(err)
	}
	ref := h.Reference()
	ct, err := methods.QueryConfigTarget(e.ctx, e.c.Client, &types.QueryConfigTarget{This: vmMo.EnvironmentBrowser, Host: &ref})
	if err != nil || len(ct.Returnval.Sriov) != 0 {
		t.Errorf("QueryConfigTarget with SR-IOV off: %v %+v", err, ct)
	}
	expectFault(t, e.reconfigure(vm, *reserved(sriovDevice(SRIOVPFId, uuid))), &types.InvalidDeviceSpec{},
		"physical function 0000:af:00.0 does not have SR-IOV enabled on host "+HostName(6))
	expectFault(t, e.reconfigure(vm, *reserved(sriovDevice(GPUIds[0], uuid))), &types.InvalidDeviceSpec{},
		"0000:3b:00.0 is not an SR-IOV physical function of host "+HostName(6))
	if code, _ := e.debug("/debug/sriov?host=" + HostName(6) + "&pf=" + SRIOVPFId + "&enabled=true"); code != 200 {
		t.Fatal("enable failed")
	}
	enabled = true
	ct, _ = methods.QueryConfigTarget(e.ctx, e.c.Client, &types.QueryConfigTarget{This: vmMo.EnvironmentBrowser, Host: &ref})
	if len(ct.Returnval.Sriov) != 1 {
		t.Errorf("QueryConfigTarget with SR-IOV on: %+v", ct.Returnval.Sriov)
	}
	if err := e.reconfigure(vm, *reserved(sriovDevice(strings.ToUpper(SRIOVPFId), uuid))); err != nil {
		t.Fatal(err)
	}

	// Eight VFs: eight VMs power on, the ninth does not; a VF comes back at power-off.
	vms := []*object.VirtualMachine{vm}
	for i := 2; i <= numVFs+1; i++ {
		vms = append(vms, e.mustClone(fmt.Sprintf("rule-sriov-%d", i), h, reserved(sriovDevice(SRIOVPFId, uuid))))
	}
	for _, v := range vms[:numVFs] {
		if err := e.powerOn(v); err != nil {
			t.Fatalf("power on: %v", err)
		}
	}
	expectFault(t, e.powerOn(vms[numVFs]), &types.GenericVmConfigFault{},
		"No free virtual function on physical function 0000:af:00.0 of host "+HostName(6), "8 of 8 in use")
	// Reconfigure counts powered-on VMs too.
	extra := e.mustClone("rule-sriov-extra", h, nil)
	expectFault(t, e.reconfigure(extra, *reserved(sriovDevice(SRIOVPFId, uuid))), &types.InvalidDeviceSpec{}, "8 of 8 in use")
	e.powerOff(vms[0])
	if err := e.powerOn(vms[numVFs]); err != nil {
		t.Fatalf("after a VF was freed: %v", err)
	}
	// Without full memory reservation an SR-IOV VM does not start either.
	h9 := e.host(NumNamedHosts + 1)
	noRes := e.mustClone("rule-sriov-nores", h9, &types.VirtualMachineConfigSpec{
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{sriovDevice(SRIOVPFId, e.hostUUID(h9))}})
	expectFault(t, e.powerOn(noRes), &types.GenericVmConfigFault{}, "memsize(4096)", "SR-IOV adapter on 0000:af:00.0")
}

func TestRulePowerOnMultiVM(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(7)
	uuid := e.hostUUID(h)
	a := e.mustClone("rule-multi-a", h, reserved(gpuDevice(GPUIds[0], uuid)))
	b := e.mustClone("rule-multi-b", h, reserved(gpuDevice(GPUIds[0], uuid)))
	c := e.mustClone("rule-multi-c", h, &types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{gpuDevice(GPUIds[1], uuid)}})
	tk, err := e.dc.PowerOnVM(e.ctx, []types.ManagedObjectReference{a.Reference(), b.Reference(), c.Reference(), e.tmpl.Reference()})
	if err != nil {
		t.Fatal(err)
	}
	info, err := tk.WaitForResult(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, ok := info.Result.(types.ClusterPowerOnVmResult)
	if !ok {
		t.Fatalf("result %T", info.Result)
	}
	if len(res.Attempted) != 3 || len(res.NotAttempted) != 1 || res.NotAttempted[0].Vm != e.tmpl.Reference() {
		t.Fatalf("result %+v", res)
	}
	outcome := map[types.ManagedObjectReference]error{}
	for _, at := range res.Attempted {
		_, err := object.NewTask(e.c.Client, *at.Task).WaitForResult(e.ctx, nil)
		outcome[at.Vm] = err
	}
	if outcome[a.Reference()] != nil {
		t.Errorf("a: %v", outcome[a.Reference()])
	}
	expectFault(t, outcome[b.Reference()], &types.GenericVmConfigFault{}, "already in use by VM rule-multi-a")
	expectFault(t, outcome[c.Reference()], &types.GenericVmConfigFault{}, "memsize(4096)")
	var m mo.VirtualMachine
	for vm, want := range map[*object.VirtualMachine]types.VirtualMachinePowerState{a: "poweredOn", b: "poweredOff", c: "poweredOff"} {
		if err := vm.Properties(e.ctx, vm.Reference(), []string{"runtime.powerState"}, &m); err != nil || m.Runtime.PowerState != want {
			t.Errorf("%s: %s, want %s", vm.Reference(), m.Runtime.PowerState, want)
		}
	}
}

// A clone with powerOn is checked at power-on as well.
func TestRuleCloneWithPowerOn(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(8)
	uuid := e.hostUUID(h)
	_, err := e.clone("rule-clone-on", h, &types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{gpuDevice(GPUIds[0], uuid)}}, true)
	expectFault(t, err, &types.GenericVmConfigFault{}, "memsize(4096)")
	if _, err := e.clone("rule-clone-on-ok", h, reserved(gpuDevice(GPUIds[0], uuid)), true); err != nil {
		t.Fatal(err)
	}
}
