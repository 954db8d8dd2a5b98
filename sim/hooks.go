package main

// The VirtualMachine methods the lab implements itself (routes.go): clone,
// customize, power-on and reconfigure check the lab's rules (rules.go) and
// the VM's DVS ports (network_vm.go), then call the stock implementation
// under the VM's lock.

import (
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vmHook receives the routed methods of one VM.
type vmHook struct{ labHook }

// vm is the real VM (nil once it is gone); see labHook.target.
func (h *vmHook) vm(ctx *simulator.Context) *simulator.VirtualMachine {
	vm, _ := h.target(ctx).(*simulator.VirtualMachine)
	return vm
}

func notFound(ref types.ManagedObjectReference) *soap.Fault {
	return simulator.Fault("managed object not found: "+ref.Value, &types.ManagedObjectNotFound{Obj: ref})
}

// withVM runs f holding vm's lock, as the simulator does for a call on vm.
func withVM(ctx *simulator.Context, vm mo.Reference, f func()) {
	ref := vm.Reference()
	simulator.Map.WithLock(vm, func() {
		saved := ctx.Caller
		ctx.Caller = &ref
		defer func() { ctx.Caller = saved }()
		f()
	})
}

// taskOutcome returns the Task of a stock *_Task method's response, and its
// fault if the call or the task failed.
func taskOutcome(res soap.HasFault) (*simulator.Task, types.BaseMethodFault) {
	if f := res.Fault(); f != nil {
		if mf, ok := f.Detail.Fault.(types.BaseMethodFault); ok {
			return nil, mf
		}
		return nil, &types.SystemError{Reason: f.String}
	}
	rv := reflect.ValueOf(res).Elem().FieldByName("Res")
	if !rv.IsValid() || rv.IsNil() {
		return nil, &types.SystemError{Reason: "no task"}
	}
	ref, ok := rv.Elem().FieldByName("Returnval").Interface().(types.ManagedObjectReference)
	if !ok {
		return nil, &types.SystemError{Reason: "no task"}
	}
	t, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok {
		return nil, &types.SystemError{Reason: "task not found"}
	}
	if t.Info.Error != nil {
		return t, t.Info.Error.Fault
	}
	return t, nil
}

// failedTask returns a finished task for vm that failed with fault (with
// the fault's own message, rules_fault.go).
func failedTask(vm mo.Reference, name string, fault types.BaseMethodFault) types.ManagedObjectReference {
	ref := simulator.CreateTask(vm, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, fault
	}).Run()
	setTaskFaultMessage(ref)
	return ref
}

// PowerOnVMTask checks the power-on rules, then powers on.
func (h *vmHook) PowerOnVMTask(ctx *simulator.Context, req *types.PowerOnVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.PowerOnVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	var ref types.ManagedObjectReference
	withVM(ctx, vm, func() {
		t, fault := h.lab.powerOn(ctx, vm, req)
		if t != nil {
			ref = t.Self
		} else {
			ref = failedTask(vm, "powerOn", fault)
		}
	})
	return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: ref}}
}

// powerOn powers on vm (whose lock the caller holds) if the rules allow it.
// It returns the stock power-on task, or the rule's fault.
func (l *Lab) powerOn(ctx *simulator.Context, vm *simulator.VirtualMachine, req *types.PowerOnVM_Task) (*simulator.Task, types.BaseMethodFault) {
	l.rulesMu.Lock()
	defer l.rulesMu.Unlock()
	fault, claim := l.checkPowerOn(vm, req)
	if fault != nil {
		return nil, fault
	}
	t, fault := taskOutcome(vm.PowerOnVMTask(ctx, req))
	if fault == nil {
		l.commitClaim(vm, claim) // gpu_rules.go
	}
	return t, fault
}

// ReconfigVMTask checks the DVS ports and the reconfigure rules, then
// reconfigures.
func (h *vmHook) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.ReconfigVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	return reconfigWithDVSPorts(vm, req, func() soap.HasFault { return h.lab.reconfigVM(ctx, vm, req) })
}

// reconfigVM checks the reconfigure rules, then reconfigures vm.
func (l *Lab) reconfigVM(ctx *simulator.Context, vm *simulator.VirtualMachine, req *types.ReconfigVM_Task) soap.HasFault {
	var res soap.HasFault
	withVM(ctx, vm, func() {
		l.rulesMu.Lock()
		defer l.rulesMu.Unlock()
		fault := templateReconfigFault(vm, &req.Spec) // templates.go
		if fault == nil {
			fault = l.checkConfigSpec(vm, vm, &req.Spec)
		}
		if fault != nil {
			res = &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: failedTask(vm, "reconfigVm", fault)}}
			return
		}
		assignDeviceKeys(vm.Config.Hardware.Device, &req.Spec) // device_keys.go
		before := adapterMACs(vm)
		req.Spec.Version = ""                     // for new VMs only: UpgradeVM_Task changes it (vm_hardware_version.go)
		after := prepareConfigSpec(vm, &req.Spec) // rules_tuning.go
		res = vm.ReconfigVMTask(ctx, req)
		if _, fault := taskOutcome(res); fault == nil {
			after()
			if len(req.Spec.DeviceChange) > 0 {
				l.settleAdapters(vm, before) // nics.go
			}
		}
	})
	return res
}

// CustomizeVMTask records the customization; the guest applies it at its
// next boot (guest.go).
func (h *vmHook) CustomizeVMTask(ctx *simulator.Context, req *types.CustomizeVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.CustomizeVM_TaskBody{Fault_: notFound(h.real)}
	}
	var ref types.ManagedObjectReference
	withVM(ctx, vm, func() {
		ref = simulator.CreateTask(vm, "customizeVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
				return nil, &types.InvalidPowerState{
					RequestedState: types.VirtualMachinePowerStatePoweredOff,
					ExistingState:  vm.Runtime.PowerState,
				}
			}
			if fault := checkCustomization(vm, &req.Spec); fault != nil {
				return nil, fault
			}
			h.lab.setCustomization(vm, &req.Spec)
			return nil, nil
		}).Run()
		setTaskFaultMessage(ref)
	})
	return &methods.CustomizeVM_TaskBody{Res: &types.CustomizeVM_TaskResponse{Returnval: ref}}
}

// CloneVMTask checks the DVS ports, then clones.
func (h *vmHook) CloneVMTask(ctx *simulator.Context, req *types.CloneVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.CloneVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	if fault := placeClone(vm, &req.Spec); fault != nil { // clone_placement.go: a pool and no host
		return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: failedTask(vm, "cloneVm", fault)}}
	}
	assignDeviceKeys(vm.Config.Hardware.Device, req.Spec.Config) // device_keys.go
	return cloneWithDVSPorts(vm, req, func() soap.HasFault { return h.lab.cloneVM(ctx, vm, req) })
}

// cloneVM clones vm with the stock implementation (from a copy of its
// devices), then applies what it leaves out: the rest of spec.config, the
// source's firmware, new MAC addresses and PCI slots, spec.location.host,
// spec.customization, spec.template and spec.powerOn.
func (l *Lab) cloneVM(ctx *simulator.Context, vm *simulator.VirtualMachine, req *types.CloneVM_Task) soap.HasFault {
	spec := req.Spec
	task := simulator.CreateTask(vm, "cloneVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		fault := checkLinkedClone(vm, &spec) // templates.go
		if fault == nil {
			fault = cloneHostFault(vm, &spec, req.Name) // host_state.go
		}
		if fault == nil {
			fault = cloneDatacenterFault(vm, req.Folder, &spec) // vm_datacenter.go
		}
		if fault == nil {
			l.rulesMu.Lock()
			fault = l.checkCloneSpec(vm, &spec)
			l.rulesMu.Unlock()
		}
		if fault != nil {
			return nil, fault
		}
		if spec.Location.Host != nil {
			if _, ok := simulator.Map.Get(*spec.Location.Host).(*simulator.HostSystem); !ok {
				return nil, &types.InvalidArgument{InvalidProperty: "spec.location.host"}
			}
		}
		stock := *req
		stock.Spec.Customization = nil
		stock.Spec.PowerOn = false
		stock.Spec.Template = false
		if spec.Template && stock.Spec.Location.Pool == nil && vm.Config.Template {
			stock.Spec.Location.Pool = clonePool(vm, &spec) // templates.go
		}
		var res soap.HasFault
		var srcExtra []types.BaseOptionValue // the source's advanced settings: a clone carries them
		namesMu.Lock()                       // names.go: the name check and the new VM are one step
		if fault = newVMNameFault(req.Folder, req.Name); fault == nil {
			withVM(ctx, vm, func() {
				srcExtra = append(srcExtra, vm.Config.ExtraConfig...)
				devices := vm.Config.Hardware.Device
				vm.Config.Hardware.Device = copyDevices(devices) // deepcopy.go
				defer func() { vm.Config.Hardware.Device = devices }()
				res = vm.CloneVMTask(ctx, &stock)
			})
		}
		namesMu.Unlock()
		if fault != nil {
			return nil, fault
		}
		t, fault := taskOutcome(res)
		if fault != nil {
			return nil, fault
		}
		ref, ok := t.Info.Result.(types.ManagedObjectReference)
		if !ok {
			return nil, &types.SystemError{Reason: "clone returned no VM"}
		}
		clone, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			return nil, &types.SystemError{Reason: "clone not found"}
		}
		withVM(ctx, clone, func() { fault = l.finishClone(ctx, vm, clone, &spec, srcExtra) })
		if fault != nil {
			return nil, fault
		}
		if spec.Template {
			withVM(ctx, clone, func() { fault = markAsTemplate(clone) })
			if fault != nil {
				return nil, fault
			}
		} else if spec.PowerOn {
			withVM(ctx, clone, func() {
				_, fault = l.powerOn(ctx, clone, &types.PowerOnVM_Task{This: clone.Self})
			})
			if fault != nil {
				return nil, fault
			}
		}
		return ref, nil
	})
	// admission.go: charged on both hosts, queued until it fits; cancelable, and long with --clone-time
	ref := l.runProvisioning(task, cloneKind(&spec), vmHost(vm), hostOf(spec.Location.Host), true)
	return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: ref}}
}

// finishClone applies to clone (locked by the caller) the parts of the
// clone spec the stock CloneVM_Task ignores. srcExtra is the source's
// extraConfig: as on vSphere a clone carries its source's advanced settings
// (the VMX is copied), with the spec's keys applied over them (a key given
// again takes the new value, an empty value removes it); the stock clone
// keeps only the spec's.
func (l *Lab) finishClone(ctx *simulator.Context, src, clone *simulator.VirtualMachine, spec *types.VirtualMachineCloneSpec,
	srcExtra []types.BaseOptionValue) types.BaseMethodFault {
	var plain []types.BaseOptionValue
	if spec.Config != nil {
		for _, o := range spec.Config.ExtraConfig {
			if key := o.GetOptionValue().Key; !strings.HasPrefix(key, "SET.") && key != "ip0" {
				plain = append(plain, o)
			}
		}
	}
	simulator.Map.Update(clone, []types.PropertyChange{{Name: "config.extraConfig",
		Val: mergeExtraConfig(srcExtra, plain)}})
	var cfg types.VirtualMachineConfigSpec
	if spec.Config != nil {
		cfg = *spec.Config
		// Already applied by the stock clone, or not for reconfigure.
		cfg.DeviceChange = nil
		cfg.ExtraConfig = nil
		cfg.Name = ""
		cfg.Files = nil
		cfg.InstanceUuid = ""
		cfg.Uuid = ""
		cfg.Version = "" // a clone keeps its source's version (vm_hardware_version.go)
	}
	if cfg.Firmware == "" {
		cfg.Firmware = src.Config.Firmware
	}
	if _, fault := taskOutcome(clone.ReconfigVMTask(ctx, &types.ReconfigVM_Task{This: clone.Self, Spec: cfg})); fault != nil {
		return fault
	}
	simulator.Map.Update(clone, []types.PropertyChange{{Name: "config.version", Val: src.Config.Version}})
	l.settleAdapters(clone, nil) // nics.go: new MAC addresses, PCI slots
	if l.guestOps != nil {
		if err := l.guestOps.copyDisk(src.Name, clone.Name); err != nil { // guest_boot.go
			return &types.SystemError{Reason: "copying the guest disk: " + err.Error()}
		}
	}

	if ref := spec.Location.Host; ref != nil && (clone.Runtime.Host == nil || *clone.Runtime.Host != *ref) {
		moveVMToHost(clone, *ref)
	}

	if spec.Customization != nil {
		if fault := checkCustomization(clone, spec.Customization); fault != nil {
			return fault
		}
		l.setCustomization(clone, spec.Customization)
	}
	return nil
}

// moveVMToHost re-registers vm (locked by the caller) on host.
func moveVMToHost(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) {
	host, ok := simulator.Map.Get(ref).(*simulator.HostSystem)
	if !ok {
		return
	}
	if vm.Runtime.Host != nil {
		if old, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok {
			simulator.Map.RemoveReference(old, &old.Vm, vm.Self)
		}
	}
	simulator.Map.AddReference(host, &host.Vm, vm.Self)
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "runtime.host", Val: ref},
		{Name: "summary.runtime.host", Val: ref},
	})
}

// checkCustomization validates a customization spec against vm's adapters.
func checkCustomization(vm *simulator.VirtualMachine, spec *types.CustomizationSpec) types.BaseMethodFault {
	switch spec.Identity.(type) {
	case *types.CustomizationLinuxPrep, *types.CustomizationSysprep, *types.CustomizationSysprepText:
	default:
		return &types.InvalidArgument{InvalidProperty: "spec.identity"}
	}
	return checkNicSettings(vm, spec) // nics.go
}
