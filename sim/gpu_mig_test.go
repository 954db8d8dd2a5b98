package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// The test lab's A100 hosts: after the eight named hosts and one extra host.
const (
	a100MIGHost   = NumNamedHosts + 2 // the first A100 host: shared GPUs in MIG mode
	a100SlicedHst = NumNamedHosts + 3 // the second: time-sliced
)

// vgpus is a config spec (1 GB, all reserved) with one vGPU per profile.
func vgpus(profiles ...string) *types.VirtualMachineConfigSpec {
	spec := reserved()
	for i, p := range profiles {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd,
			Device: &types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{
				Key: int32(-300 - i), Backing: &types.VirtualPCIPassthroughVmiopBackingInfo{Vgpu: p}}},
		})
	}
	return spec
}

// The A100 hosts: a passthrough and a shared A100 on each NUMA node; the
// profiles offered are those of the shared GPUs' mode.
func TestA100HostLayout(t *testing.T) {
	e := newLabEnv(t)
	for _, n := range []int{a100MIGHost, a100SlicedHst} {
		cfg := e.hostConfig(e.host(n))
		g := graphicsOf(cfg)
		for _, id := range []string{A100DirectId0, A100DirectId1} {
			if g[id].GraphicsType != "direct" || !passthruEnabled(cfg, id) || g[id].DeviceName != a100DeviceName {
				t.Errorf("host %d %s: %+v", n, id, g[id])
			}
		}
		for _, id := range []string{A100SharedId0, A100SharedId1} {
			if g[id].GraphicsType != "sharedDirect" || g[id].MemorySizeInKB != 40*1024*1024 {
				t.Errorf("host %d %s: %+v", n, id, g[id])
			}
		}
		if _, v100 := g[GPUIds[0]]; v100 {
			t.Errorf("host %d has a V100", n)
		}
		profiles := strings.Join(cfg.SharedPassthruGpuTypes, " ")
		mig := n == a100MIGHost
		if strings.Contains(profiles, "grid_a100-3-20c") != mig || strings.Contains(profiles, "grid_a100-4c") == mig {
			t.Errorf("host %d (MIG %v) profiles %s", n, mig, profiles)
		}
	}
	if p := strings.Join(e.hostConfig(e.host(a100MIGHost)).SharedPassthruGpuTypes, " "); p !=
		"grid_a100-1-5c grid_a100-2-10c grid_a100-3-20c grid_a100-4-20c grid_a100-7-40c" {
		t.Errorf("MIG profiles %s", p)
	}
}

// A MIG GPU holds at most seven 1-slice instances; sizes mix only where the
// A100's placements fit (4+3 does, 3 then 4 does not). A VM holds one
// MIG-backed vGPU (gpu_catalog.go).
func TestMIGCapacityAndPlacement(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(a100MIGHost)
	two := e.mustClone("mig-two", h, vgpus("grid_a100-1-5c", "grid_a100-1-5c"))
	expectFault(t, e.powerOn(two), &types.GenericVmConfigFault{}, "multiple vGPUs in a VM not supported")
	var small []*object.VirtualMachine
	for i := 0; i < 15; i++ { // the policy spreads them: seven on each of the two MIG GPUs
		small = append(small, e.mustClone(fmt.Sprintf("mig-1g-%d", i), h, vgpus("grid_a100-1-5c")))
	}
	for _, vm := range small[:14] {
		if err := e.powerOn(vm); err != nil {
			t.Fatal(err)
		}
	}
	expectFault(t, e.powerOn(small[14]), &types.GenericVmConfigFault{},
		"grid_a100-1-5c", "has no free GPU instance", "memory slices 6-6")
	if g := graphicsOf(e.hostConfig(h))[A100SharedId0]; len(g.Vm) != 7 {
		t.Errorf("graphicsInfo vm %v", g.Vm)
	}
	for _, vm := range small[:14] {
		e.powerOff(vm)
	}

	// 3-slice at slice 0 first (one on each GPU): a 4-slice instance (start 0 only) no longer fits.
	threes := []*object.VirtualMachine{e.mustClone("mig-3g-a", h, vgpus("grid_a100-3-20c")),
		e.mustClone("mig-3g-b", h, vgpus("grid_a100-3-20c"))}
	four := e.mustClone("mig-4g", h, vgpus("grid_a100-4-20c"))
	for _, vm := range threes {
		if err := e.powerOn(vm); err != nil {
			t.Fatal(err)
		}
	}
	expectFault(t, e.powerOn(four), &types.GenericVmConfigFault{}, "no free GPU instance", "grid_a100-3-20c at memory slices 0-3")
	for _, vm := range threes {
		e.powerOff(vm)
	}
	// 4-slice first, then a 3-slice beside it (slices 4-7): 7 compute slices, nothing more on that GPU.
	if err := e.powerOn(four); err != nil {
		t.Fatal(err)
	}
	for _, vm := range threes { // the first beside the 4-slice or on the idle GPU, the second on the other
		if err := e.powerOn(vm); err != nil {
			t.Fatalf("3-slice instances with a 4-slice: %v", err)
		}
	}
	one := e.mustClone("mig-1g-extra", h, vgpus("grid_a100-1-5c"))
	if err := e.powerOn(one); err != nil { // the GPU with one 3-slice instance has room
		t.Fatal(err)
	}
	full := e.mustClone("mig-1g-full", h, vgpus("grid_a100-3-20c"))
	expectFault(t, e.powerOn(full), &types.GenericVmConfigFault{}, "no free GPU instance")

	// A MIG host offers no time-sliced profile.
	sliced := e.mustClone("mig-host-sliced", h, nil)
	expectFault(t, e.reconfigure(sliced, *vgpus("grid_a100-4c")), &types.InvalidDeviceSpec{}, "grid_a100-4c is not supported")
}

// Time-sliced A100: one profile per GPU, frame buffer / size of them; a MIG
// profile needs a GPU in MIG mode (switched by /debug/graphics).
func TestA100TimeSlicedAndMIGSwitch(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(a100SlicedHst)
	var vms []*object.VirtualMachine
	for i := 0; i < 3; i++ {
		vms = append(vms, e.mustClone(fmt.Sprintf("a100-20c-%d", i), h, vgpus("grid_a100-20c")))
	}
	for _, vm := range vms[:2] { // one per GPU (performance policy), then...
		if err := e.powerOn(vm); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.powerOn(vms[2]); err != nil { // ... a second 20 GB on one of them
		t.Fatal(err)
	}
	more := e.mustClone("a100-20c-more", h, vgpus("grid_a100-20c"))
	four := e.mustClone("a100-4c", h, vgpus("grid_a100-4c"))
	if err := e.powerOn(more); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.powerOn(four), &types.GenericVmConfigFault{}, "runs grid_a100-20c vGPUs", "one profile at a time")
	fifth := e.mustClone("a100-20c-fifth", h, vgpus("grid_a100-20c"))
	expectFault(t, e.powerOn(fifth), &types.GenericVmConfigFault{}, "holds 2 of 2 grid_a100-20c")

	path := fmt.Sprintf("/debug/graphics?host=%s&id=%s&type=sharedDirect&mig=", HostName(a100SlicedHst), A100SharedId1)
	if code, body := e.debug(path + "true"); code != 409 {
		t.Errorf("MIG on a GPU in use: %d %s", code, body)
	}
	for _, vm := range append(vms, more) {
		e.powerOff(vm)
	}
	defer e.debug(path + "false")
	if code, body := e.debug(path + "true"); code != 200 || !strings.Contains(body, "grid_a100-3-20c") || !strings.Contains(body, "grid_a100-4c") {
		t.Fatalf("MIG on: %d %s", code, body)
	}
	mig := e.mustClone("a100-switched-mig", h, vgpus("grid_a100-7-40c"))
	if err := e.powerOn(mig); err != nil {
		t.Fatalf("MIG profile on the switched GPU: %v", err)
	}
	if g := graphicsOf(e.hostConfig(h))[A100SharedId1]; len(g.Vm) != 1 || g.Vm[0] != mig.Reference() {
		t.Errorf("MIG vGPU not on the switched GPU: %v", g.Vm)
	}
	twice := e.mustClone("a100-switched-mig2", h, vgpus("grid_a100-1-5c"))
	expectFault(t, e.powerOn(twice), &types.GenericVmConfigFault{}, "is not in MIG mode", "no free GPU instance")
}
