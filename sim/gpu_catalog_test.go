package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

// TestVGPUCatalogueFollowsNVIDIA: each board offers NVIDIA's types for it
// (vGPU 14.0), and a VM holds several vGPUs only of one whole-GPU Q or C
// type.
func TestVGPUCatalogueFollowsNVIDIA(t *testing.T) {
	has := func(list []string, p string) bool {
		for _, q := range list {
			if q == p {
				return true
			}
		}
		return false
	}
	v100, v100d := v100Model.profiles(), v100dModel.profiles()
	if has(v100, "grid_v100-32q") || !has(v100, "grid_v100-16c") || !has(v100, "grid_v100-2b") || has(v100, "grid_v100-2c") {
		t.Errorf("V100 16GB types %v", v100)
	}
	if !has(v100d, "grid_v100d-32q") || !has(v100d, "grid_v100d-32c") || len(v100d) != 18 {
		t.Errorf("V100D types %v", v100d)
	}
	for p, want := range map[string]bool{"grid_v100-16q": true, "grid_v100-16c": true, "grid_v100-8q": false,
		"grid_v100-16a": false, "grid_a100-40c": true, "grid_a100-7-40c": false, "grid_v100d-32q": true} {
		if multiVGPUCapable(p) != want {
			t.Errorf("multiple vGPUs of %s: %v", p, !want)
		}
	}

	e := newLabEnv(t)
	h := e.host(a100SlicedHst)
	ok := e.mustClone("cat-two-40c", h, vgpus("grid_a100-40c", "grid_a100-40c"))
	if err := e.powerOn(ok); err != nil {
		t.Errorf("two whole-GPU C-series vGPUs: %v", err)
	}
	e.powerOff(ok)
	halves := e.mustClone("cat-two-20c", h, vgpus("grid_a100-20c", "grid_a100-20c"))
	expectFault(t, e.powerOn(halves), &types.GenericVmConfigFault{}, "multiple vGPUs in a VM not supported", "grid_a100-20c")
	mixed := e.mustClone("cat-q-and-c", e.host(5), vgpus("grid_v100-16q", "grid_v100-16c"))
	expectFault(t, e.powerOn(mixed), &types.GenericVmConfigFault{}, "grid_v100-16q, grid_v100-16c")
}
