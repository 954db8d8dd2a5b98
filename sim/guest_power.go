package main

// The guest's own power operations, which VMware Tools carries out
// (API reference: VirtualMachine.RebootGuest, ShutdownGuest):
//
//   - both need the VM powered on (InvalidPowerState) and Tools running
//     (ToolsUnavailable, "Cannot complete operation because VMware Tools is
//     not running in this virtual machine."); they return at once, the
//     guest acts afterwards;
//   - RebootGuest restarts the guest: Tools stops and the guest's address
//     goes (guest programs end, as in any reboot), and after --boot-delay
//     Tools and the address come back; the VM stays powered on. vCenter
//     logs VmGuestRebootEvent. The stock simulator has no RebootGuest
//     (MethodNotFound: Ansible's vmware_guest_powerstate reboot-guest
//     failed);
//   - ShutdownGuest powers the VM off (the stock one, which did not ask for
//     Tools).

import (
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// guestPowerFault is why a guest power operation cannot run on vm (locked).
func guestPowerFault(vm *simulator.VirtualMachine) *soap.Fault {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return simulator.Fault("The attempted operation cannot be performed in the current state (Powered off).",
			&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState})
	}
	if vm.Guest == nil || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return simulator.Fault("Cannot complete operation because VMware Tools is not running in this virtual machine.",
			&types.ToolsUnavailable{})
	}
	return nil
}

// RebootGuest restarts the guest of a powered-on VM whose Tools run.
func (h *vmHook) RebootGuest(ctx *simulator.Context, req *types.RebootGuest) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.RebootGuestBody{Fault_: notFound(h.real)}
	}
	var fault *soap.Fault
	withVM(ctx, vm, func() {
		if fault = guestPowerFault(vm); fault == nil {
			h.lab.rebootGuest(vm)
		}
	})
	if fault != nil {
		return &methods.RebootGuestBody{Fault_: fault}
	}
	return &methods.RebootGuestBody{Res: &types.RebootGuestResponse{}}
}

// rebootGuest takes the guest down and brings it up again after the boot
// delay (vm locked by the caller).
func (l *Lab) rebootGuest(vm *simulator.VirtualMachine) {
	ref := vm.Self
	l.mu.Lock()
	g := l.guest(ref.Value)
	g.gen++
	next := g.gen
	l.mu.Unlock()
	if l.events != nil {
		l.events.post(&types.VmGuestRebootEvent{VmEvent: vmEvent(vm)}) // customization.go
	}
	simulator.Map.Update(vm, guestDownChanges(vm)) // guest.go
	if l.guestOps != nil {
		l.guestOps.endAll(ref.Value, false) // its programs end with it
	}
	time.AfterFunc(l.opts.BootDelay, func() { l.finishBoot(ref, next) })
}

// ShutdownGuest asks Tools to shut the guest down: the stock power-off,
// once Tools is known to run.
func (h *vmHook) ShutdownGuest(ctx *simulator.Context, req *types.ShutdownGuest) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.ShutdownGuestBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	var res soap.HasFault
	withVM(ctx, vm, func() {
		if fault := guestPowerFault(vm); fault != nil {
			res = &methods.ShutdownGuestBody{Fault_: fault}
			return
		}
		res = vm.ShutdownGuest(ctx, req)
	})
	return res
}
