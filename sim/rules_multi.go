package main

// Datacenter.PowerOnMultiVM_Task through the power-on rules.
//
// The stock implementation calls each VM's PowerOnVMTask directly, so it
// would bypass the rules; the lab routes the method (routes.go) to a
// dcHook instead.
//
// Each VM is powered on through Lab.powerOn (rules checked under
// l.rulesMu, VM locked). As vCenter does, the multi task itself succeeds and
// reports per VM in its ClusterPowerOnVmResult: attempted VMs with their
// powerOn task (failed when a rule refused the VM), and VMs that could not
// be attempted (not found, or a template) with their fault.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// dcHook receives the routed methods of one Datacenter. It locks each VM
// itself.
type dcHook struct{ labHook }

// PowerOnMultiVMTask powers on each VM through the rules.
func (h *dcHook) PowerOnMultiVMTask(ctx *simulator.Context, req *types.PowerOnMultiVM_Task) soap.HasFault {
	dc, ok := h.target(ctx).(*simulator.Datacenter)
	if !ok {
		return &methods.PowerOnMultiVM_TaskBody{Fault_: notFound(h.real)}
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
