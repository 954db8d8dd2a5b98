package main

// EnvironmentBrowser with the lab's QueryConfigTarget: the stock answer
// (datastores, networks, CPUs) plus PCI passthrough, SR-IOV and vGPU
// targets derived from the host's hardware (hardware.go).

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LabEnvironmentBrowser replaces the stock simulator.EnvironmentBrowser
// objects (same moref), inheriting QueryConfigOption etc.
type LabEnvironmentBrowser struct {
	simulator.EnvironmentBrowser
}

// installEnvironmentBrowsers swaps every compute resource's environment
// browser for a LabEnvironmentBrowser. VMs share their compute resource's
// browser (vm.environmentBrowser), as the stock simulator sets it.
func installEnvironmentBrowsers() {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		cr := e.(*simulator.ClusterComputeResource)
		if cr.EnvironmentBrowser == nil {
			continue
		}
		if old, ok := simulator.Map.Get(*cr.EnvironmentBrowser).(*simulator.EnvironmentBrowser); ok {
			simulator.Map.Put(&LabEnvironmentBrowser{EnvironmentBrowser: *old})
		}
	}
}

// browserHosts returns the hosts of the compute resource owning browser b.
func browserHosts(b types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		cr := e.(*simulator.ClusterComputeResource)
		if cr.EnvironmentBrowser != nil && *cr.EnvironmentBrowser == b {
			return append([]types.ManagedObjectReference(nil), cr.Host...)
		}
	}
	for _, e := range simulator.Map.All("ComputeResource") {
		if cr, ok := e.(*mo.ComputeResource); ok && cr.EnvironmentBrowser != nil && *cr.EnvironmentBrowser == b {
			return append([]types.ManagedObjectReference(nil), cr.Host...)
		}
	}
	return nil
}

// QueryConfigTarget implements EnvironmentBrowser.QueryConfigTarget.
func (b *LabEnvironmentBrowser) QueryConfigTarget(ctx *simulator.Context, req *types.QueryConfigTarget) soap.HasFault {
	var hosts []types.ManagedObjectReference
	if req.Host != nil {
		if _, ok := ctx.Map.Get(*req.Host).(*simulator.HostSystem); !ok {
			return &methods.QueryConfigTargetBody{
				Fault_: simulator.Fault("host is not a HostSystem of this lab", &types.InvalidArgument{InvalidProperty: "host"}),
			}
		}
		hosts = []types.ManagedObjectReference{*req.Host}
	} else {
		hosts = browserHosts(b.Self)
	}

	target := &types.ConfigTarget{SmcPresent: types.NewBool(false)}
	if len(hosts) != 0 {
		// CPUs, datastores and networks (network_envbrowser.go).
		target = configTargetBase(ctx, hosts[0])
		// Without a host vSphere returns the union over the compute
		// resource's hosts; the lab's hosts are identical, so the first
		// host's devices stand for all.
		if host, ok := ctx.Map.Get(hosts[0]).(*simulator.HostSystem); ok {
			addDeviceTargets(target, host)
		}
	}
	return &methods.QueryConfigTargetBody{Res: &types.QueryConfigTargetResponse{Returnval: target}}
}

// addDeviceTargets adds the host's passthrough GPUs (also as Dynamic
// DirectPath candidates), SR-IOV PFs and vGPU profiles to target.
func addDeviceTargets(target *types.ConfigTarget, host *simulator.HostSystem) {
	systemId := host.Hardware.SystemInfo.Uuid
	for _, bi := range host.Config.PciPassthruInfo {
		switch info := bi.(type) {
		case *types.HostSriovInfo:
			if !info.SriovEnabled || !info.SriovActive { // virtual functions exist once booted
				continue
			}
			dev, ok := hostPciDevice(host, info.Id)
			if !ok {
				continue
			}
			target.Sriov = append(target.Sriov, types.VirtualMachineSriovInfo{
				VirtualMachinePciPassthroughInfo: types.VirtualMachinePciPassthroughInfo{
					VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: dev.DeviceName},
					PciDevice:                dev,
					SystemId:                 systemId,
				},
				VirtualFunction: false,
				Pnic:            pnicForPCI(host, info.Id),
			})
		case *types.HostPciPassthruInfo:
			if !info.PassthruEnabled {
				continue
			}
			dev, ok := hostPciDevice(host, info.Id)
			if !ok {
				continue
			}
			target.PciPassthrough = append(target.PciPassthrough, &types.VirtualMachinePciPassthroughInfo{
				VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: info.Id + " | " + dev.DeviceName},
				PciDevice:                dev,
				SystemId:                 systemId,
			})
			// The same device for Dynamic DirectPath I/O (gpu_rules.go).
			target.DynamicPassthrough = append(target.DynamicPassthrough, types.VirtualMachineDynamicPassthroughInfo{
				VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: dev.DeviceName},
				VendorName:               dev.VendorName,
				DeviceName:               dev.DeviceName,
				CustomLabel:              hardwareLabel(host, info.Id),
				VendorId:                 int32(uint16(dev.VendorId)),
				DeviceId:                 int32(uint16(dev.DeviceId)),
			})
		}
	}
	for _, profile := range host.Config.SharedPassthruGpuTypes {
		target.SharedGpuPassthroughTypes = append(target.SharedGpuPassthroughTypes, types.VirtualMachinePciSharedGpuPassthroughInfo{
			VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: profile},
			Vgpu:                     profile,
		})
	}
}
