package main

// A100-class GPUs: time-sliced and MIG-backed NVIDIA vGPU profiles, and the
// lab's A100 hosts (--a100-hosts N).
//
// NVIDIA's rules (Virtual GPU Software User Guide, MIG User Guide), as the
// lab enforces them at power-on (gpu_rules.go):
//
//   - A GPU in shared direct mode is either in MIG mode or not (a GPU
//     setting, made with nvidia-smi on the host). Without MIG it serves
//     time-sliced vGPUs (grid_a100-4c: 4 GB of frame buffer), of one
//     profile at a time, frame buffer / size of them (ten grid_a100-4c).
//   - In MIG mode it serves MIG-backed vGPUs only (grid_a100-3-20c: a GPU
//     instance of 3 compute slices and 20 GB). An A100 has 7 compute slices
//     and 8 memory slices of 5 GB; each instance size can start only at
//     certain memory slices (the placement table below) and instances do
//     not overlap. So a GPU holds at most seven 1-slice instances, three
//     2-slice, two 3-slice, one 4-slice or one 7-slice instance, and mixes
//     of sizes only where the placements fit (4+3, 3+2+1+1, 2+2+3, ...).
//   - The host's config.sharedPassthruGpuTypes offers the profiles of the
//     modes its shared GPUs are in; the vSphere 7.0 API reports a GPU's MIG
//     mode nowhere else (vSphere 8 adds VgpuProfileInfo with the profile's
//     sharing mode and size; the mode of each GPU is still not reported).

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const a100DeviceName = "GA100 [A100 PCIe 40GB]"

// migProfile is a MIG GPU instance size: compute slices, memory slices and
// the memory slices it may start at.
type migProfile struct {
	slices, memSlices int
	starts            []int
}

const (
	migComputeSlices = 7
	migMemorySlices  = 8
)

var a100Model = &gpuModel{key: "a100", device: 0x20f1, subDevice: 0x145f, name: a100DeviceName,
	memoryMB: 40 * 1024, series: []vgpuSeries{{"c", []int{4, 5, 8, 10, 20, 40}}},
	mig: []*migProfile{
		{slices: 1, memSlices: 1, starts: []int{0, 1, 2, 3, 4, 5, 6}},
		{slices: 2, memSlices: 2, starts: []int{0, 2, 4}},
		{slices: 3, memSlices: 4, starts: []int{0, 4}},
		{slices: 4, memSlices: 4, starts: []int{0}},
		{slices: 7, memSlices: 8, starts: []int{0}},
	}}

// memSliceGB is the frame buffer of one memory slice.
func (m *gpuModel) memSliceGB() int { return int(m.memoryMB / 1024 / migMemorySlices) }

func (m *gpuModel) migProfileName(p *migProfile) string {
	return fmt.Sprintf("grid_%s-%d-%d%s", m.key, p.slices, p.memSlices*m.memSliceGB(), migSeries)
}

// migProfileNames are the model's MIG-backed profiles (none without MIG).
func (m *gpuModel) migProfileNames() []string {
	var out []string
	for _, p := range m.mig {
		out = append(out, m.migProfileName(p))
	}
	return out
}

var migProfileRE = regexp.MustCompile(`^grid_([a-z0-9]+)-(\d+)-(\d+)([a-z]+)$`)

// migProfileOf is the model and instance size of a MIG-backed profile, or
// nil.
func migProfileOf(profile string) (*gpuModel, *migProfile) {
	m := migProfileRE.FindStringSubmatch(profile)
	if m == nil {
		return nil, nil
	}
	slices, _ := strconv.Atoi(m[2])
	gb, _ := strconv.Atoi(m[3])
	for _, model := range gpuModels {
		if model.key != m[1] || m[4] != migSeries {
			continue
		}
		for _, p := range model.mig {
			if p.slices == slices && p.memSlices*model.memSliceGB() == gb {
				return model, p
			}
		}
	}
	return nil, nil
}

// migPlacement is the first start of an instance of p that overlaps none
// of held (memory slices [start, start+memSlices)) and keeps the compute
// slices within the GPU's seven, or -1.
func migPlacement(p *migProfile, held []vgpuSlot) int {
	used := make([]bool, migMemorySlices)
	compute := 0
	for _, s := range held {
		for i := s.start; i < s.start+s.memSlices && i < migMemorySlices; i++ {
			used[i] = true
		}
		compute += s.slices
	}
	if compute+p.slices > migComputeSlices {
		return -1
	}
	for _, start := range p.starts {
		free := true
		for i := start; i < start+p.memSlices; i++ {
			free = free && !used[i]
		}
		if free {
			return start
		}
	}
	return -1
}

// migHeld describes a MIG GPU's instances for messages.
func migHeld(held []vgpuSlot) string {
	var parts []string
	for _, s := range held {
		parts = append(parts, fmt.Sprintf("%s at memory slices %d-%d (VM %s)", s.profile, s.start, s.start+s.memSlices-1, s.vmName))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func startsText(p *migProfile) string {
	var parts []string
	for _, s := range p.starts {
		parts = append(parts, strconv.Itoa(s))
	}
	return strings.Join(parts, ", ")
}

// The A100 hosts: after the named and extra hosts (inventory.go sets
// a100From before adding hosts). Each has four A100 PCIe 40GB: one
// passthrough-enabled and one in shared direct mode on each NUMA node; the
// shared ones are in MIG mode on odd-numbered A100 hosts (the first, the
// third, ...) and time-sliced on the others.
var a100From int // host number of the first A100 host (0: none)

// A100 PCI ids (bus < 0x80: NUMA node 0).
const (
	A100DirectId0 = "0000:17:00.0"
	A100SharedId0 = "0000:65:00.0"
	A100DirectId1 = "0000:ca:00.0"
	A100SharedId1 = "0000:e3:00.0"
)

func isA100Host(index int) bool { return a100From > 0 && index >= a100From }

// a100MIG tells whether A100 host number index has its shared GPUs in MIG mode.
func a100MIG(index int) bool { return (index-a100From)%2 == 0 }

func a100HostGPUs(index int) []hostGPU {
	mig := a100MIG(index)
	return []hostGPU{
		{A100DirectId0, a100Model, false, false},
		{A100SharedId0, a100Model, true, mig},
		{A100DirectId1, a100Model, false, false},
		{A100SharedId1, a100Model, true, mig},
	}
}

// MIG mode of the GPUs (host moref value and lower-case PCI id): a GPU
// setting, kept across graphics mode switches.
var gpuMIG = struct {
	sync.Mutex
	on map[string]bool
}{on: map[string]bool{}}

func setMIG(host types.ManagedObjectReference, id string, on bool) {
	gpuMIG.Lock()
	defer gpuMIG.Unlock()
	gpuMIG.on[host.Value+"/"+strings.ToLower(id)] = on
}

func migMode(host types.ManagedObjectReference, id string) bool {
	gpuMIG.Lock()
	defer gpuMIG.Unlock()
	return gpuMIG.on[host.Value+"/"+strings.ToLower(id)]
}

// gpuSupportsMIG tells whether GPU id of host is of a MIG-capable model.
func gpuSupportsMIG(host *simulator.HostSystem, id string) bool {
	for _, g := range hostGraphics(host) {
		if strings.EqualFold(g.PciId, id) {
			m := modelNamed(g.DeviceName)
			return m != nil && len(m.mig) != 0
		}
	}
	return false
}
