package main

// Hardware labels for Dynamic DirectPath I/O (vSphere 7.0): an administrator
// labels a host's PCI devices (Host > Configure > PCI Devices, "Hardware
// Label"), which the API shows as config.assignableHardwareConfig
// attributeOverride entries {instanceId: the PCI id, name: "customLabel",
// value: the label}. A Dynamic DirectPath device whose backing names a
// customLabel is given only a device with that label (gpu_rules.go).
//
// Each host has its HostAssignableHardwareManager
// (configManager.assignableHardwareManager; the stock simulator has none):
// its config is the host's config.assignableHardwareConfig and its binding
// the host's config.assignableHardwareBinding (gpu_ledger.go keeps both).
// UpdateAssignableHardwareConfig(config) sets the host's overrides to
// config's (the lab replaces the whole list). Refused with InvalidArgument:
// an instanceId that is no PCI device of the host
// (config.attributeOverride.instanceId), an attribute other than customLabel
// (config.attributeOverride.name), a label that is not a string
// (config.attributeOverride.value).

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const customLabelAttr = "customLabel"

// LabAssignableHardwareManager is a host's HostAssignableHardwareManager.
type LabAssignableHardwareManager struct {
	mo.HostAssignableHardwareManager
	host types.ManagedObjectReference
}

// installAssignableHardwareManagers gives every host (not yet serving) its
// manager.
func installAssignableHardwareManagers(hosts []*simulator.HostSystem) {
	for _, h := range hosts {
		m := &LabAssignableHardwareManager{host: h.Self}
		m.Self = types.ManagedObjectReference{Type: "HostAssignableHardwareManager", Value: "assignable-hw-" + h.Self.Value}
		simulator.Map.Put(m)
		ref := m.Self
		h.ConfigManager.AssignableHardwareManager = &ref
		h.Config.AssignableHardwareConfig = &types.HostAssignableHardwareConfig{}
	}
}

// assignableHardwareManager is host's manager, or nil (--stock).
func assignableHardwareManager(host *simulator.HostSystem) *LabAssignableHardwareManager {
	if host.ConfigManager.AssignableHardwareManager == nil {
		return nil
	}
	m, _ := simulator.Map.Get(*host.ConfigManager.AssignableHardwareManager).(*LabAssignableHardwareManager)
	return m
}

// UpdateAssignableHardwareConfig implements HostAssignableHardwareManager.UpdateAssignableHardwareConfig.
func (m *LabAssignableHardwareManager) UpdateAssignableHardwareConfig(ctx *simulator.Context, req *types.UpdateAssignableHardwareConfig) soap.HasFault {
	host, ok := simulator.Map.Get(m.host).(*simulator.HostSystem)
	if !ok {
		return &methods.UpdateAssignableHardwareConfigBody{Fault_: notFound(m.host)}
	}
	var fault types.BaseMethodFault
	var overrides []types.HostAssignableHardwareConfigAttributeOverride
	for _, o := range req.Config.AttributeOverride {
		dev, found := hostPciDevice(host, strings.ToLower(o.InstanceId))
		label, isString := o.Value.(string)
		switch {
		case !found:
			fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.instanceId"}, "hardwareLabel",
				fmt.Sprintf("Host %s has no PCI device %s.", host.Name, o.InstanceId))
		case o.Name != customLabelAttr:
			fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.name"}, "hardwareLabel",
				fmt.Sprintf("Unknown attribute %q of PCI device %s (the assignable hardware attribute is %s).",
					o.Name, o.InstanceId, customLabelAttr))
		case !isString:
			fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.value"}, "hardwareLabel",
				fmt.Sprintf("The label of PCI device %s must be a string.", o.InstanceId))
		}
		if fault != nil {
			return &methods.UpdateAssignableHardwareConfigBody{Fault_: simulator.Fault(faultText(fault), fault)}
		}
		overrides = append(overrides, types.HostAssignableHardwareConfigAttributeOverride{
			InstanceId: dev.Id, Name: o.Name, Value: label})
	}
	cfg := types.HostAssignableHardwareConfig{AttributeOverride: overrides}
	simulator.Map.Update(m, []types.PropertyChange{{Name: "config", Val: cfg}})
	simulator.Map.WithLock(host, func() {
		c := cfg
		simulator.Map.Update(host, []types.PropertyChange{{Name: "config.assignableHardwareConfig", Val: &c}})
	})
	return &methods.UpdateAssignableHardwareConfigBody{Res: &types.UpdateAssignableHardwareConfigResponse{}}
}
