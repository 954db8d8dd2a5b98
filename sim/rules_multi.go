package main

// Datacenter.PowerOnMultiVM_Task through the power-on rules.
//
// The stock implementation calls each VM's PowerOnVMTask directly, so it
// would bypass the rules. routeCall (hooks.go) sends the call here instead,
// the same way it sends VirtualMachine methods to vmHook: _this is retyped
// to LabDatacenter and a dcHook registered under that reference receives it.
//
// Each VM is powered on through Lab.powerOn (rules checked under
// l.rulesMu, VM locked). As vCenter does, the multi task itself succeeds and
// reports per VM in its ClusterPowerOnVmResult: attempted VMs with their
// powerOn task (failed when a rule refused the VM), and VMs that could not
// be attempted (not found, or a template) with their fault.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const dcHookType = "LabDatacenter"

// routeDatacenterCall returns body with _this pointing to the datacenter's
// hook when the call is PowerOnMultiVM_Task on a Datacenter; else body.
func (l *Lab) routeDatacenterCall(c soapCall, body []byte) []byte {
	if c.thisType != "Datacenter" || c.method != "PowerOnMultiVM_Task" {
		return body
	}
	dcRef := types.ManagedObjectReference{Type: "Datacenter", Value: c.thisVal}
	if _, ok := simulator.Map.Get(dcRef).(*simulator.Datacenter); !ok {
		return body // the simulator reports ManagedObjectNotFound
	}
	ref := types.ManagedObjectReference{Type: dcHookType, Value: c.thisVal}
	if simulator.Map.Get(ref) == nil {
		h := &dcHook{lab: l}
		h.Self = ref
		simulator.Map.Put(h)
	}
	return rewriteThisType(body, "Datacenter", dcHookType) // network_route.go
}

// dcHook receives the overridden methods of one Datacenter.
type dcHook struct {
	mo.ExtensibleManagedObject
	lab *Lab
}

// Lock and Unlock: the hook locks each VM itself.
func (*dcHook) Lock()   {}
func (*dcHook) Unlock() {}

// PowerOnMultiVMTask powers on each VM through the rules.
func (h *dcHook) PowerOnMultiVMTask(ctx *simulator.Context, req *types.PowerOnMultiVM_Task) soap.HasFault {
	dcRef := types.ManagedObjectReference{Type: "Datacenter", Value: h.Self.Value}
	dc, ok := simulator.Map.Get(dcRef).(*simulator.Datacenter)
	if !ok {
		return &methods.PowerOnMultiVM_TaskBody{Fault_: notFound(dcRef)}
	}
	l := h.lab
	task := simulator.CreateTask(dc, "powerOnMultiVM", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		res := &types.ClusterPowerOnVmResult{}
		for _, ref := range req.Vm {
			vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
			if !ok {
				res.NotAttempted = append(res.NotAttempted, types.ClusterNotAttemptedVmInfo{
					Vm:    ref,
					Fault: localized(withMessage(&types.ManagedObjectNotFound{Obj: ref}, "notFound", "VM "+ref.Value+" not found.")),
				})
				continue
			}
			var notAttempted types.BaseMethodFault
			var taskRef types.ManagedObjectReference
			withVM(ctx, vm, func() {
				if vm.Config != nil && vm.Config.Template {
					notAttempted = withMessage(&types.InvalidState{}, "template", "VM "+vm.Name+" is a template and cannot be powered on.")
					return
				}
				t, fault := l.powerOn(ctx, vm, &types.PowerOnVM_Task{This: vm.Self})
				if t != nil {
					taskRef = t.Self
				} else {
					taskRef = failedTask(vm, "powerOn", fault)
				}
			})
			if notAttempted != nil {
				res.NotAttempted = append(res.NotAttempted, types.ClusterNotAttemptedVmInfo{Vm: ref, Fault: localized(notAttempted)})
				continue
			}
			setTaskFaultMessage(taskRef)
			tr := taskRef
			res.Attempted = append(res.Attempted, types.ClusterAttemptedVmInfo{Vm: ref, Task: &tr})
		}
		return res, nil
	})
	return &methods.PowerOnMultiVM_TaskBody{Res: &types.PowerOnMultiVM_TaskResponse{Returnval: task.Run()}}
}
