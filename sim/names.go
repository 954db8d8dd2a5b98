package main

// VM names as vCenter checks them when a VM is made (CloneVM_Task,
// Folder.CreateVM_Task): a name of 1 to 80 characters (InvalidName), and
// no other VM or template of that name in the target folder (DuplicateName,
// "The name 'x' already exists."). The check and the creation are one step
// (namesMu), so two concurrent clones of one name into one folder make one
// VM. The stock simulator puts a new VM into the folder before it checks
// the name; the lab checks first, so a refused VM never appears anywhere.

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// maxEntityName is vCenter's limit for an inventory object's name.
const maxEntityName = 80

var namesMu sync.Mutex

// newVMNameFault is why vCenter would refuse a new VM name in folder, or nil.
func newVMNameFault(folder types.ManagedObjectReference, name string) types.BaseMethodFault {
	if n := utf8.RuneCountInString(name); n == 0 || n > maxEntityName {
		return withMessage(&types.InvalidName{Name: name, Entity: &folder}, "invalidName",
			fmt.Sprintf("The name '%s' is invalid: a virtual machine name has 1 to %d characters.", name, maxEntityName))
	}
	f, ok := simulator.Map.Get(folder).(*simulator.Folder)
	if !ok {
		return nil // the stock code reports the folder
	}
	var children []types.ManagedObjectReference
	simulator.Map.WithLock(f, func() { children = append(children, f.ChildEntity...) })
	for _, ref := range children {
		if ref.Type != "VirtualMachine" {
			continue
		}
		if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok && vm.Name == name {
			return withMessage(&types.DuplicateName{Name: name, Object: ref}, "duplicateName",
				fmt.Sprintf("The name '%s' already exists.", name))
		}
	}
	return nil
}

// CreateVMTask checks the new VM's name, then creates it (stock).
func (h *netFolderHook) CreateVMTask(ctx *simulator.Context, req *types.CreateVM_Task) soap.HasFault {
	f := h.folder(ctx)
	if f == nil {
		return &methods.CreateVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = f.Self
	namesMu.Lock()
	defer namesMu.Unlock()
	fault := newVMNameFault(f.Self, req.Config.Name)
	if fault == nil {
		fault = hostAdmitsFault(hostByRef(req.Host), "make VM "+req.Config.Name) // host_state.go
	}
	if fault == nil {
		fault = createVMDatacenterFault(req) // vm_datacenter.go
	}
	if fault != nil {
		task := simulator.CreateTask(f, "createVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, fault
		})
		return &methods.CreateVM_TaskBody{Res: &types.CreateVM_TaskResponse{Returnval: h.lab.runTask(task, false)}}
	}
	assignDeviceKeys(esx.VirtualDevice, &req.Config) // device_keys.go: the new VM has the default devices
	var res soap.HasFault
	withLocked(ctx, f, func() { res = f.CreateVMTask(ctx, req) })
	return res
}
