package main

// The lab hosts' GPUs and their graphics configuration, as ESXi reports it:
//
//   - config.graphicsInfo: one entry per GPU with its graphicsType: "direct"
//     (passthrough-enabled, for DirectPath I/O) or "sharedDirect" (serving
//     NVIDIA vGPUs), its frame buffer (memorySizeInKB) and the powered-on
//     VMs using it (vm);
//   - config.graphicsConfig: the host default ("shared") and the GPUs set to
//     "sharedDirect" (the config type has no "direct": a passthrough-enabled
//     GPU is simply not listed), and the assignment policy for vGPUs
//     ("performance": spread over GPUs, or "consolidation");
//   - config.sharedPassthruGpuTypes: the vGPU profiles of the models the
//     host has in shared direct mode (and config.sharedGpuCapabilities).
//
// A GPU is either passthrough-enabled or serving vGPUs, never both: a GPU in
// shared direct mode is passthrough-capable but not enabled in
// config.pciPassthruInfo. /debug/graphics (rules_debug.go) switches a GPU's
// mode with both kept consistent.

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	graphicsDirect       = string(types.HostGraphicsInfoGraphicsTypeDirect)
	graphicsSharedDirect = string(types.HostGraphicsInfoGraphicsTypeSharedDirect)
	policyPerformance    = string(types.HostGraphicsConfigSharedPassthruAssignmentPolicyPerformance)
	policyConsolidation  = string(types.HostGraphicsConfigSharedPassthruAssignmentPolicyConsolidation)
)

// gpuModel is a GPU board: its PCI ids and name, frame buffer, and its
// NVIDIA vGPU profiles (gpu_catalog.go): time-sliced grid_KEY-N<series> (N
// GB of frame buffer; series q, c, a, b) and, on MIG-capable boards,
// MIG-backed grid_KEY-S-Nc (S compute slices, gpu_mig.go).
type gpuModel struct {
	key               string // NVIDIA's board name in profile spelling, e.g. "v100", "v100d"
	device, subDevice uint16
	name              string
	memoryMB          int64
	series            []vgpuSeries  // time-sliced types, by series (gpu_catalog.go)
	mig               []*migProfile // MIG-backed profiles (nil: no MIG)
}

// profiles are the model's time-sliced profiles.
func (m *gpuModel) profiles() []string {
	var out []string
	for _, s := range m.series {
		for _, n := range s.sizesGB {
			out = append(out, fmt.Sprintf("grid_%s-%d%s", m.key, n, s.letter))
		}
	}
	return out
}

// hostGPU is one GPU of a host and its mode at start.
type hostGPU struct {
	id     string
	model  *gpuModel
	shared bool // shared direct (vGPU); else passthrough-enabled
	mig    bool // MIG mode (a shared GPU of a MIG-capable model)
}

// hostGPUs is the GPU layout of host number index (1-based): two
// passthrough V100s and a shared V100 everywhere, a shared P100 on hosts 05
// and later (the extra hosts too); the A100 hosts (gpu_mig.go) have their own.
func hostGPUs(index int) []hostGPU {
	if isA100Host(index) {
		return a100HostGPUs(index)
	}
	gpus := []hostGPU{{GPUIds[0], v100dModel, false, false}, {SharedV100Id, v100Model, true, false},
		{GPUIds[1], v100dModel, false, false}}
	if index >= firstP100 {
		gpus = append(gpus, hostGPU{P100Id, p100Model, true, false})
	}
	sort.Slice(gpus, func(i, j int) bool { return gpus[i].id < gpus[j].id })
	return gpus
}

var profileRE = regexp.MustCompile(`^grid_([a-z0-9]+)-(\d+)([a-z]+)$`)

// profileModel is the model and frame buffer (MB) of a time-sliced vGPU
// profile under NVIDIA's naming, or nil (MIG-backed profiles: migProfileOf).
func profileModel(profile string) (*gpuModel, int64) {
	m := profileRE.FindStringSubmatch(profile)
	if m == nil {
		return nil, 0
	}
	gb, _ := strconv.Atoi(m[2])
	for _, model := range gpuModels {
		if model.key != m[1] {
			continue
		}
		for _, s := range model.series {
			for _, n := range s.sizesGB {
				if s.letter == m[3] && n == gb {
					return model, int64(gb) * 1024
				}
			}
		}
	}
	return nil, 0
}

// modelNamed is the model whose device name is name, or nil.
func modelNamed(name string) *gpuModel {
	for _, m := range gpuModels {
		if m.name == name {
			return m
		}
	}
	return nil
}

// applyGraphics gives host (not yet serving) its GPUs' graphics entries.
func applyGraphics(host *simulator.HostSystem, gpus []hostGPU) {
	cfg := &types.HostGraphicsConfig{
		HostDefaultGraphicsType:        string(types.HostGraphicsConfigGraphicsTypeShared),
		SharedPassthruAssignmentPolicy: policyPerformance,
	}
	var info []types.HostGraphicsInfo
	for _, g := range gpus {
		kind := graphicsDirect
		if g.shared {
			kind = graphicsSharedDirect
		}
		info = append(info, types.HostGraphicsInfo{
			DeviceName:     g.model.name,
			VendorName:     "NVIDIA Corporation",
			PciId:          g.id,
			GraphicsType:   kind,
			MemorySizeInKB: g.model.memoryMB * 1024,
		})
		if g.shared {
			cfg.DeviceType = append(cfg.DeviceType, types.HostGraphicsConfigDeviceType{DeviceId: g.id, GraphicsType: kind})
		}
	}
	for _, g := range gpus {
		setMIG(host.Self, g.id, g.shared && g.mig)
	}
	host.Config.GraphicsInfo = info
	host.Config.GraphicsConfig = cfg
	host.Config.SharedPassthruGpuTypes = offeredProfiles(host.Self, info)
	host.Config.SharedGpuCapabilities = gpuCapabilities(host.Config.SharedPassthruGpuTypes)
}

// offeredProfiles are the vGPU profiles of the models among info's GPUs in
// shared direct mode, in the lab's model order: the time-sliced profiles of
// a model with a GPU not in MIG mode, the MIG-backed ones of a model with a
// GPU in MIG mode (an idle GPU serves the profiles of its mode only, as the
// NVIDIA vGPU manager reports them).
func offeredProfiles(host types.ManagedObjectReference, info []types.HostGraphicsInfo) []string {
	var out []string
	for _, m := range gpuModels {
		timeSliced, mig := false, false
		for _, g := range info {
			if g.GraphicsType == graphicsSharedDirect && modelNamed(g.DeviceName) == m {
				if migMode(host, g.PciId) {
					mig = true
				} else {
					timeSliced = true
				}
			}
		}
		if timeSliced {
			out = append(out, m.profiles()...)
		}
		if mig {
			out = append(out, m.migProfileNames()...)
		}
	}
	return out
}

func gpuCapabilities(profiles []string) []types.HostSharedGpuCapabilities {
	var out []types.HostSharedGpuCapabilities
	for _, p := range profiles {
		out = append(out, types.HostSharedGpuCapabilities{Vgpu: p, DiskSnapshotSupported: true,
			MemorySnapshotSupported: true, SuspendSupported: true, MigrateSupported: true})
	}
	return out
}

// hostGraphics returns copies of host's graphics entries (host locked by
// the caller or not changing).
func hostGraphics(host *simulator.HostSystem) []types.HostGraphicsInfo {
	if host.Config == nil {
		return nil
	}
	return append([]types.HostGraphicsInfo(nil), host.Config.GraphicsInfo...)
}

// assignmentPolicy is host's sharedPassthruAssignmentPolicy.
func assignmentPolicy(host *simulator.HostSystem) string {
	if host.Config != nil && host.Config.GraphicsConfig != nil && host.Config.GraphicsConfig.SharedPassthruAssignmentPolicy != "" {
		return host.Config.GraphicsConfig.SharedPassthruAssignmentPolicy
	}
	return policyPerformance
}

// setGraphicsType switches GPU id of host to kind ("direct" or
// "sharedDirect"): graphicsInfo, graphicsConfig, the offered profiles and
// the device's passthrough state change together. host is locked by the
// caller.
func setGraphicsType(host *simulator.HostSystem, id, kind string) bool {
	info := hostGraphics(host)
	found := false
	for i := range info {
		if strings.EqualFold(info[i].PciId, id) {
			info[i].GraphicsType, found = kind, true
		}
	}
	if !found {
		return false
	}
	cfg := *host.Config.GraphicsConfig
	cfg.DeviceType = nil
	for _, d := range host.Config.GraphicsConfig.DeviceType {
		if !strings.EqualFold(d.DeviceId, id) {
			cfg.DeviceType = append(cfg.DeviceType, d)
		}
	}
	if kind == graphicsSharedDirect {
		cfg.DeviceType = append(cfg.DeviceType, types.HostGraphicsConfigDeviceType{DeviceId: id, GraphicsType: kind})
	}
	passthru := append([]types.BaseHostPciPassthruInfo(nil), host.Config.PciPassthruInfo...)
	for i, bi := range passthru {
		if p, ok := bi.(*types.HostPciPassthruInfo); ok && strings.EqualFold(p.Id, id) {
			c := *p
			c.PassthruEnabled, c.PassthruActive = kind == graphicsDirect, kind == graphicsDirect
			passthru[i] = &c
		}
	}
	profiles := offeredProfiles(host.Self, info)
	simulator.Map.Update(host, []types.PropertyChange{
		{Name: "config.graphicsInfo", Val: info},
		{Name: "config.graphicsConfig", Val: &cfg},
		{Name: "config.pciPassthruInfo", Val: passthru},
		{Name: "config.sharedPassthruGpuTypes", Val: profiles},
		{Name: "config.sharedGpuCapabilities", Val: gpuCapabilities(profiles)},
	})
	return true
}
