package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) hostConfig(h *object.HostSystem) *types.HostConfigInfo {
	var hs mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), []string{"config"}, &hs); err != nil {
		e.t.Fatal(err)
	}
	return hs.Config
}

func graphicsOf(cfg *types.HostConfigInfo) map[string]types.HostGraphicsInfo {
	out := map[string]types.HostGraphicsInfo{}
	for _, g := range cfg.GraphicsInfo {
		out[g.PciId] = g
	}
	return out
}

func passthruEnabled(cfg *types.HostConfigInfo, id string) bool {
	for _, p := range cfg.PciPassthruInfo {
		if info := p.GetHostPciPassthruInfo(); info.Id == id {
			return info.PassthruEnabled
		}
	}
	return false
}

// The layout: two passthrough V100s and a shared V100 on every host, a
// shared 16 GB P100 on hosts 05 and later; profiles only of shared models.
func TestGPULayoutAndModes(t *testing.T) {
	e := newLabEnv(t)
	for _, n := range []int{2, 6} {
		cfg := e.hostConfig(e.host(n))
		g := graphicsOf(cfg)
		for _, id := range GPUIds {
			if g[id].GraphicsType != "direct" || !passthruEnabled(cfg, id) {
				t.Errorf("host %d GPU %s: %+v", n, id, g[id])
			}
		}
		if v := g[SharedV100Id]; v.GraphicsType != "sharedDirect" || v.MemorySizeInKB != 16*1024*1024 ||
			v.DeviceName != v100SharedName || passthruEnabled(cfg, SharedV100Id) {
			t.Errorf("host %d shared V100: %+v", n, v)
		}
		p, hasP100 := g[P100Id]
		if hasP100 != (n >= 5) {
			t.Errorf("host %d P100: %v", n, hasP100)
		}
		if hasP100 && (p.GraphicsType != "sharedDirect" || p.MemorySizeInKB != 16*1024*1024 || passthruEnabled(cfg, P100Id)) {
			t.Errorf("host %d P100 %+v", n, p)
		}
		profiles := strings.Join(cfg.SharedPassthruGpuTypes, " ")
		if strings.Contains(profiles, "grid_p100") != (n >= 5) || !strings.Contains(profiles, "grid_v100-16q") {
			t.Errorf("host %d profiles %s", n, profiles)
		}
		shared := map[string]bool{}
		for _, d := range cfg.GraphicsConfig.DeviceType {
			shared[d.DeviceId] = d.GraphicsType == "sharedDirect"
		}
		if !shared[SharedV100Id] || shared[GPUIds[0]] || cfg.GraphicsConfig.SharedPassthruAssignmentPolicy != "performance" {
			t.Errorf("host %d graphicsConfig %+v", n, cfg.GraphicsConfig)
		}
		if len(cfg.SharedGpuCapabilities) != len(cfg.SharedPassthruGpuTypes) {
			t.Errorf("host %d capabilities %+v", n, cfg.SharedGpuCapabilities)
		}
	}
	// A GPU in shared direct mode is not a DirectPath device.
	h := e.host(2)
	vm := e.mustClone("gpu-shared-direct", h, reserved(gpuDevice(SharedV100Id, e.hostUUID(h))))
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "not enabled for passthrough")
	// A host offers no profile of a model it lacks.
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{vgpuDevice("grid_p100-4q")}}),
		&types.InvalidDeviceSpec{}, "grid_p100-4q is not supported by host "+HostName(2))
}

// A 16 GB P100 holds four grid_p100-4q, one profile at a time.
func TestGPUVGPUCapacityPerPhysicalGPU(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(6)
	var vms []*object.VirtualMachine
	for i := 0; i < 5; i++ {
		vms = append(vms, e.mustClone(fmt.Sprintf("gpu-p100-4q-%d", i), h, reserved(vgpuDevice("grid_p100-4q"))))
	}
	for _, vm := range vms[:4] {
		if err := e.powerOn(vm); err != nil {
			t.Fatal(err)
		}
	}
	expectFault(t, e.powerOn(vms[4]), &types.GenericVmConfigFault{}, "grid_p100-4q", "holds 4 of 4 grid_p100-4q vGPUs")
	g := graphicsOf(e.hostConfig(h))[P100Id]
	if len(g.Vm) != 4 {
		t.Errorf("graphicsInfo vm %v", g.Vm)
	}
	other := e.mustClone("gpu-p100-8q", h, reserved(vgpuDevice("grid_p100-8q")))
	e.powerOff(vms[0])
	expectFault(t, e.powerOn(other), &types.GenericVmConfigFault{}, "runs grid_p100-4q vGPUs", "one profile at a time")
	if err := e.powerOn(vms[4]); err != nil { // the freed slot
		t.Errorf("after a power-off: %v", err)
	}
	for _, vm := range vms[1:] {
		e.powerOff(vm)
	}
	if g := graphicsOf(e.hostConfig(h))[P100Id]; len(g.Vm) != 0 {
		t.Errorf("graphicsInfo vm after power-off %v", g.Vm)
	}
	if err := e.powerOn(other); err != nil {
		t.Errorf("8q on an idle P100: %v", err)
	}
	// The shared V100 (a 16 GB one: NVIDIA's board V100) serves grid_v100 profiles beside it; a
	// grid_v100-32q is no NVIDIA type (a 32 GB V100 PCIe is board V100D: grid_v100d-32q).
	_, err := e.clone("gpu-v100-32q", h, reserved(vgpuDevice("grid_v100-32q")), false)
	expectFault(t, err, &types.InvalidDeviceSpec{}, "grid_v100-32q is not supported")
	v := e.mustClone("gpu-v100-16q", h, reserved(vgpuDevice("grid_v100-16q")))
	if err := e.powerOn(v); err != nil {
		t.Fatal(err)
	}
	if g := graphicsOf(e.hostConfig(h))[SharedV100Id]; len(g.Vm) != 1 || g.Vm[0] != v.Reference() {
		t.Errorf("V100 graphicsInfo vm %v", g.Vm)
	}
}

// /debug/graphics switches a GPU between passthrough and vGPU; not while used.
func TestGPUModeSwitch(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(3)
	path := "/debug/graphics?host=" + HostName(3) + "&id=" + SharedV100Id + "&type="
	defer e.debug(path + "sharedDirect")
	vm := e.mustClone("gpu-mode-vgpu", h, reserved(vgpuDevice("grid_v100-8q")))
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	if code, body := e.debug(path + "direct"); code != 409 || !strings.Contains(body, "gpu-mode-vgpu") {
		t.Errorf("switching a GPU in use: %d %s", code, body)
	}
	e.powerOff(vm)
	if code, body := e.debug(path + "direct"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	cfg := e.hostConfig(h)
	if !passthruEnabled(cfg, SharedV100Id) || graphicsOf(cfg)[SharedV100Id].GraphicsType != "direct" || len(cfg.SharedPassthruGpuTypes) != 0 {
		t.Errorf("after the switch: passthrough %v, profiles %v", passthruEnabled(cfg, SharedV100Id), cfg.SharedPassthruGpuTypes)
	}
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "not supported by host")
	if code, _ := e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + SharedV100Id + "&enabled=false"); code != 200 {
		t.Error("passthrough off")
	}
	e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + SharedV100Id + "&enabled=true")
	if code, body := e.debug(path + "sharedDirect"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := e.debug("/debug/passthru?host=" + HostName(3) + "&id=" + SharedV100Id + "&enabled=true"); code != 404 {
		t.Error("passthrough on for a GPU in shared direct mode")
	}
	if err := e.powerOn(vm); err != nil {
		t.Errorf("back in shared direct mode: %v", err)
	}
}

func dynamicDevice100(key int32, vendor, device int32, label string) types.BaseVirtualDeviceConfigSpec {
	return &types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationAdd,
		Device: &types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{
			Key: key,
			Backing: &types.VirtualPCIPassthroughDynamicBackingInfo{
				AllowedDevice: []types.VirtualPCIPassthroughAllowedDevice{{VendorId: vendor, DeviceId: device}},
				CustomLabel:   label,
			},
		}},
	}
}

func (e *labEnv) dynamicIds(vm *object.VirtualMachine) []string {
	var v mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"config.hardware.device"}, &v); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range v.Config.Hardware.Device {
		if b := dynamicDevice(d); b != nil {
			out = append(out, b.AssignedId)
		}
	}
	return out
}

// Dynamic DirectPath: a free matching passthrough device at power-on,
// recorded in assignedId, in use for everybody else, freed at power-off.
func TestGPUDynamicDirectPath(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(4)
	uuid := e.hostUUID(h)
	static := e.mustClone("gpu-dyn-static", h, reserved(gpuDevice(GPUIds[0], uuid)))
	if err := e.powerOn(static); err != nil {
		t.Fatal(err)
	}
	dyn := e.mustCloneV17("gpu-dyn-1", h, reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "")))
	if err := e.powerOn(dyn); err != nil {
		t.Fatal(err)
	}
	if ids := e.dynamicIds(dyn); len(ids) != 1 || ids[0] != GPUIds[1] {
		t.Fatalf("assignedId %v, want the free V100 %s", ids, GPUIds[1])
	}
	cfg := e.hostConfig(h)
	if len(cfg.AssignableHardwareBinding) != 1 || cfg.AssignableHardwareBinding[0].InstanceId != GPUIds[1] ||
		cfg.AssignableHardwareBinding[0].Vm != dyn.Reference() {
		t.Errorf("bindings %+v", cfg.AssignableHardwareBinding)
	}
	// The assigned device is in use for a static VM, and no V100 is left.
	taker := e.mustClone("gpu-dyn-taker", h, reserved(gpuDevice(GPUIds[1], uuid)))
	expectFault(t, e.powerOn(taker), &types.GenericVmConfigFault{}, "already in use by VM gpu-dyn-1")
	second := e.mustCloneV17("gpu-dyn-2", h, reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "")))
	expectFault(t, e.powerOn(second), &types.GenericVmConfigFault{}, "every matching device is in use", "gpu-dyn-static", "gpu-dyn-1")
	// No match at all (a P100 id; a label no device has).
	noMatch := e.mustCloneV17("gpu-dyn-p100", h, reserved(dynamicDevice100(-200, 0x10de, 0x15f8, "")))
	expectFault(t, e.powerOn(noMatch), &types.GenericVmConfigFault{}, "no passthrough-enabled device of the host matches")
	labelled := e.mustCloneV17("gpu-dyn-label", h, reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "training")))
	expectFault(t, e.powerOn(labelled), &types.GenericVmConfigFault{}, "label training")
	// Memory reservation is needed as for any DirectPath device.
	unres := e.mustCloneV17("gpu-dyn-unreserved", h, &types.VirtualMachineConfigSpec{
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{dynamicDevice100(-200, 0x10de, 0x1db4, "")}})
	expectFault(t, e.powerOn(unres), &types.GenericVmConfigFault{}, "memsize(4096)")
	// Power-off frees the device.
	e.powerOff(dyn)
	if ids := e.dynamicIds(dyn); len(ids) != 1 || ids[0] != "" {
		t.Errorf("assignedId after power-off %v", ids)
	}
	if cfg := e.hostConfig(h); len(cfg.AssignableHardwareBinding) != 0 {
		t.Errorf("bindings after power-off %+v", cfg.AssignableHardwareBinding)
	}
	if err := e.powerOn(second); err != nil {
		t.Errorf("after the release: %v", err)
	}
}
