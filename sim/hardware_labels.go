package main

// Hardware labels for Dynamic DirectPath I/O (vSphere 7.0): an administrator
// labels a host's PCI devices (Host > Configure > PCI Devices, "Hardware
// Label"), which the API shows as config.assignableHardwareConfig
// attributeOverride entries {instanceId: the PCI id, name: "customLabel",
// value: the label}. A Dynamic DirectPath device whose backing names a
// customLabel is given only a device with that label (gpu_rules.go).
//
// HostSystem.UpdateAssignableHardwareConfig(config) sets the host's
// overrides to config's (the lab replaces the whole list). Refused with
// InvalidArgument: an instanceId that is no PCI device of the host
// (config.attributeOverride.instanceId), an attribute other than
// customLabel (config.attributeOverride.name), a label that is not a string
// (config.attributeOverride.value).

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const customLabelAttr = "customLabel"

// hostHook receives the routed methods of one host.
type hostHook struct{ labHook }

func (h *hostHook) UpdateAssignableHardwareConfig(ctx *simulator.Context, req *types.UpdateAssignableHardwareConfig) soap.HasFault {
	host, ok := h.target(ctx).(*simulator.HostSystem)
	if !ok {
		return &methods.UpdateAssignableHardwareConfigBody{Fault_: notFound(h.real)}
	}
	var fault types.BaseMethodFault
	simulator.Map.WithLock(host, func() {
		var overrides []types.HostAssignableHardwareConfigAttributeOverride
		for _, o := range req.Config.AttributeOverride {
			dev, found := hostPciDevice(host, strings.ToLower(o.InstanceId))
			if !found {
				fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.instanceId"}, "hardwareLabel",
					fmt.Sprintf("Host %s has no PCI device %s.", host.Name, o.InstanceId))
				return
			}
			if o.Name != customLabelAttr {
				fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.name"}, "hardwareLabel",
					fmt.Sprintf("Unknown attribute %q of PCI device %s (the assignable hardware attribute is %s).",
						o.Name, o.InstanceId, customLabelAttr))
				return
			}
			label, isString := o.Value.(string)
			if !isString {
				fault = withMessage(&types.InvalidArgument{InvalidProperty: "config.attributeOverride.value"}, "hardwareLabel",
					fmt.Sprintf("The label of PCI device %s must be a string.", o.InstanceId))
				return
			}
			overrides = append(overrides, types.HostAssignableHardwareConfigAttributeOverride{
				InstanceId: dev.Id, Name: o.Name, Value: label})
		}
		simulator.Map.Update(host, []types.PropertyChange{{Name: "config.assignableHardwareConfig",
			Val: &types.HostAssignableHardwareConfig{AttributeOverride: overrides}}})
	})
	if fault != nil {
		return &methods.UpdateAssignableHardwareConfigBody{Fault_: simulator.Fault(faultText(fault), fault)}
	}
	return &methods.UpdateAssignableHardwareConfigBody{Res: &types.UpdateAssignableHardwareConfigResponse{}}
}
