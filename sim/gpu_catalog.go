package main

// The NVIDIA vGPU types of the lab's GPU boards, and what NVIDIA lets one VM
// hold, from NVIDIA Virtual GPU Software 14.0 (the release for vSphere 7.0
// U3; its driver 510.47.03 lists the types and their "multiple vGPU
// support" in vgpuConfig.xml, as the User Guide's "Virtual GPU Types for
// Supported GPUs" tables do):
//
//   - A board's profiles are grid_<board>-<GB><series>: series q (virtual
//     workstations), c (compute), a (virtual applications), b (virtual PCs),
//     each with the frame-buffer sizes NVIDIA lists for the board; MIG-backed
//     profiles on A100 (gpu_mig.go). The board is NVIDIA's name for the exact
//     part: a Tesla V100 PCIe 16GB is "v100", a V100 PCIe 32GB "v100d" (so a
//     32 GB V100 has no grid_v100-32q).
//   - Several vGPUs in one VM: on vSphere 7 only time-sliced Q- and C-series
//     types that take the whole frame buffer of their GPU (grid_v100-16q,
//     grid_a100-40c) support it, and all of the VM's vGPUs must be the same
//     board and series (NVIDIA vGPU 14.0 "Multiple vGPU Support"; NVIDIA AI
//     Enterprise: "VMware vSphere 7.x releases: Only NVIDIA vGPU (C-Series)
//     allocated all of the physical GPU's framebuffer are supported"; MIG-backed
//     vGPUs one per VM). The vGPU manager refuses the rest at power-on
//     ("multiple vGPUs in a VM not supported"): GenericVmConfigFault.
//   - vMotion of a running vGPU VM needs vCenter's advanced setting
//     vgpu.hotmigrate.enabled = true (vSphere 7.0 vCenter and Host
//     Management, "vMotion of vGPU virtual machines"; the lab's vCenter starts
//     with it false, OptionManager content.setting): otherwise
//     DisallowedMigrationDeviceAttached "vGPU hot migration is not enabled"
//     (vm_move.go).

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// vgpuSeries is one series of a board's time-sliced types and its sizes.
type vgpuSeries struct {
	letter  string // q, c, a, b
	sizesGB []int
}

const (
	migSeries      = "c" // MIG-backed types are compute types
	vgpuHotMigrate = "vgpu.hotmigrate.enabled"
)

var (
	// Tesla V100 PCIe 16GB (NVIDIA's V100 types).
	v100Model = &gpuModel{key: "v100", device: 0x1db4, subDevice: 0x1214, name: v100SharedName,
		memoryMB: 16 * 1024, series: []vgpuSeries{{"q", []int{1, 2, 4, 8, 16}}, {"c", []int{4, 8, 16}},
			{"a", []int{1, 2, 4, 8, 16}}, {"b", []int{1, 2}}}}
	// Tesla V100 PCIe 32GB (NVIDIA's V100D types).
	v100dModel = &gpuModel{key: "v100d", device: 0x1db4, subDevice: 0x124a, name: gpuDeviceName,
		memoryMB: 32 * 1024, series: []vgpuSeries{{"q", []int{1, 2, 4, 8, 16, 32}}, {"c", []int{4, 8, 16, 32}},
			{"a", []int{1, 2, 4, 8, 16, 32}}, {"b", []int{1, 2}}}}
	// Tesla P100 PCIe 16GB (NVIDIA's P100 types).
	p100Model = &gpuModel{key: "p100", device: 0x15f8, subDevice: 0x118f, name: p100DeviceName,
		memoryMB: 16 * 1024, series: []vgpuSeries{{"q", []int{1, 2, 4, 8, 16}}, {"c", []int{4, 8, 16}},
			{"a", []int{1, 2, 4, 8, 16}}, {"b", []int{1, 2}}}}
	gpuModels = []*gpuModel{p100Model, v100Model, v100dModel, a100Model}
)

// allProfiles lists every profile of the lab's boards.
func allProfiles() []string {
	var out []string
	for _, m := range gpuModels {
		out = append(out, m.profiles()...)
		out = append(out, m.migProfileNames()...)
	}
	return out
}

// multiVGPUCapable tells whether NVIDIA lets a VM hold several vGPUs of
// profile on vSphere 7: a time-sliced Q or C type with its GPU's whole
// frame buffer.
func multiVGPUCapable(profile string) bool {
	model, mb := profileModel(profile)
	if model == nil || mb != model.memoryMB {
		return false
	}
	return strings.HasSuffix(profile, "q") || strings.HasSuffix(profile, "c")
}

// multiVGPUFault refuses a VM's several vGPUs that NVIDIA does not support
// together, or nil.
func multiVGPUFault(vmName string, profiles []string) types.BaseMethodFault {
	if len(profiles) < 2 {
		return nil
	}
	for _, p := range profiles {
		if p != profiles[0] || !multiVGPUCapable(p) {
			return powerOnFault("multiVgpu", fmt.Sprintf(
				"Could not initialize plugin for vGPU '%s' of VM %s: multiple vGPUs in a VM not supported for "+
					"%s. On vSphere 7 NVIDIA vGPU allows several vGPUs in one VM only of one time-sliced Q- or "+
					"C-series type with its GPU's whole frame buffer (e.g. grid_v100-16q, grid_a100-40c).",
				p, vmName, strings.Join(profiles, ", ")))
		}
	}
	return nil
}

// installVGPUSettings adds vgpu.hotmigrate.enabled (false) to vCenter's
// advanced settings, as a vCenter without vGPU vMotion enabled has it.
func installVGPUSettings() {
	content := simulator.Map.Get(types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}).(*simulator.ServiceInstance).Content
	if content.Setting == nil {
		return
	}
	if m, ok := simulator.Map.Get(*content.Setting).(*simulator.OptionManager); ok {
		m.Setting = append(m.Setting, &types.OptionValue{Key: vgpuHotMigrate, Value: "false"})
	}
}

// vgpuHotMigrateEnabled reads vCenter's vgpu.hotmigrate.enabled.
func vgpuHotMigrateEnabled() bool {
	content := simulator.Map.Get(types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}).(*simulator.ServiceInstance).Content
	m, ok := simulator.Map.Get(*content.Setting).(*simulator.OptionManager)
	if !ok {
		return false
	}
	for _, o := range m.Setting {
		if v := o.GetOptionValue(); v.Key == vgpuHotMigrate {
			return strings.EqualFold(fmt.Sprint(v.Value), "true")
		}
	}
	return false
}

// vmVGPUProfiles are the vGPU profiles of vm's devices.
func vmVGPUProfiles(vm *simulator.VirtualMachine) []string {
	var out []string
	for _, d := range vm.Config.Hardware.Device {
		if p := vgpuProfile(d); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// vgpuHotMigrateFault is vCenter's refusal to vMotion a vGPU VM while
// vgpu.hotmigrate.enabled is not true.
func vgpuHotMigrateFault(vmName, label, profile string) types.BaseMethodFault {
	inner := withMessage(&types.DeviceNotSupported{Device: label, Reason: vgpuHotMigrate}, "deviceNotSupported",
		fmt.Sprintf("Device '%s' (vGPU %s) is not supported for vMotion: vGPU hot migration is not enabled.", label, profile))
	return withMessage(&types.DisallowedMigrationDeviceAttached{Fault: localized(inner)}, "vgpuHotMigrate",
		fmt.Sprintf("vGPU hot migration is not enabled: VM %s runs vGPU %s; set vCenter's advanced setting %s "+
			"to true to vMotion it, or power it off.", vmName, profile, vgpuHotMigrate))
}
