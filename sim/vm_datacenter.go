package main

// A new VM's folder, resource pool, host and datastore are of one
// datacenter (CreateVM_Task, CloneVM_Task), as vCenter keeps them: a
// datacenter is the unit a VM's placement lives in, and a datacenter made
// with CreateDatacenter holds no host, pool or datastore until some are
// added, so no VM can be made there.
//
//   - The folder must be a VM folder (childType VirtualMachine): else
//     NotSupported (vSphere API reference, CreateVM_Task: "if the virtual
//     machine is being created within a folder whose childType property is
//     not set to VirtualMachine"); a reference that is no folder is
//     ManagedObjectNotFound.
//   - The pool (CreateVM_Task's pool; a clone's spec.location.pool, else its
//     source's) and the host must be in the folder's datacenter:
//     InvalidArgument pool / host (spec.location.pool / spec.location.host).
//   - The VM's files go to a datastore of the folder's datacenter: the one
//     named by config.files.vmPathName ("[name] path"; unparsable:
//     InvalidDatastorePath), a clone's spec.location.datastore, else its
//     source's: InvalidDatastore otherwise (the API reference's fault "if the
//     operation cannot be performed on the target datastores").
//
// The stock simulator put the VM into the folder, then panicked looking the
// datastore up in the wrong datacenter: the call failed with an internal
// error, left a nameless VM in the folder and its lock held.

import (
	"regexp"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var datastorePathRe = regexp.MustCompile(`^\[([^\]]+)\]`)

// entityDatacenter is the datacenter ref holds (nil when none: a root folder, an unknown object).
func entityDatacenter(ref types.ManagedObjectReference) *simulator.Datacenter {
	for i := 0; i < 64; i++ {
		obj := simulator.Map.Get(ref)
		if dc, ok := obj.(*simulator.Datacenter); ok {
			return dc
		}
		e, ok := obj.(mo.Entity)
		if !ok || e.Entity().Parent == nil {
			return nil
		}
		ref = *e.Entity().Parent
	}
	return nil
}

// vmFolderFault refuses a folder that cannot hold VMs.
func vmFolderFault(ref types.ManagedObjectReference) types.BaseMethodFault {
	f, ok := simulator.Map.Get(ref).(*simulator.Folder)
	if !ok {
		return &types.ManagedObjectNotFound{Obj: ref}
	}
	for _, t := range f.ChildType {
		if t == "VirtualMachine" {
			return nil
		}
	}
	return withMessage(&types.NotSupported{}, "vmFolder", "folder "+f.Name+" cannot hold virtual machines")
}

// placementDatacenterFault refuses a new VM in folder whose pool, host or
// datastore (named dsName) is not of the folder's datacenter. property is the
// request's name of the pool ("pool" or "spec.location.pool").
func placementDatacenterFault(folder types.ManagedObjectReference, pool, host *types.ManagedObjectReference, dsName, at string) types.BaseMethodFault {
	dc := entityDatacenter(folder)
	if dc == nil {
		return withMessage(&types.NotSupported{}, "vmFolder", "the folder is in no datacenter")
	}
	for _, p := range []struct {
		ref  *types.ManagedObjectReference
		name string
	}{{pool, at + "pool"}, {host, at + "host"}} {
		if p.ref == nil {
			continue
		}
		if other := entityDatacenter(*p.ref); other == nil || other.Self != dc.Self {
			where := "no datacenter"
			if other != nil {
				where = "datacenter " + other.Name
			}
			return withMessage(&types.InvalidArgument{InvalidProperty: p.name}, "vmDatacenter",
				"the "+p.name+" is in "+where+", the folder in datacenter "+dc.Name+": a VM's folder, pool, host and datastore are of one datacenter")
		}
	}
	for _, ref := range dc.Datastore {
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok && ds.Name == dsName {
			return nil
		}
	}
	return withMessage(&types.InvalidDatastore{Name: dsName}, "vmDatacenter",
		"datastore "+dsName+" is not a datastore of datacenter "+dc.Name)
}

// createVMDatacenterFault checks a CreateVM_Task request.
func createVMDatacenterFault(req *types.CreateVM_Task) types.BaseMethodFault {
	if f := vmFolderFault(req.This); f != nil {
		return f
	}
	switch simulator.Map.Get(req.Pool).(type) {
	case *simulator.ResourcePool, *simulator.VirtualApp:
	default:
		return withMessage(&types.InvalidArgument{InvalidProperty: "pool"}, "vmDatacenter", "pool is no resource pool")
	}
	if req.Config.Files == nil || req.Config.Files.VmPathName == "" {
		return nil // the stock check: InvalidVmConfig configSpec.files.vmPathName
	}
	m := datastorePathRe.FindStringSubmatch(req.Config.Files.VmPathName)
	if m == nil {
		return withMessage(&types.InvalidDatastorePath{DatastorePath: req.Config.Files.VmPathName}, "vmDatacenter",
			"vmPathName "+req.Config.Files.VmPathName+" is not a datastore path ([datastore] path)")
	}
	return placementDatacenterFault(req.This, &req.Pool, req.Host, m[1], "")
}

// cloneDatacenterFault checks a CloneVM_Task of src into folder.
func cloneDatacenterFault(src *simulator.VirtualMachine, folder types.ManagedObjectReference, spec *types.VirtualMachineCloneSpec) types.BaseMethodFault {
	if f := vmFolderFault(folder); f != nil {
		return f
	}
	pool := spec.Location.Pool
	if pool == nil {
		pool = src.ResourcePool
	}
	var dsName string
	if ref := spec.Location.Datastore; ref != nil {
		ds, ok := simulator.Map.Get(*ref).(*simulator.Datastore)
		if !ok {
			return withMessage(&types.InvalidArgument{InvalidProperty: "spec.location.datastore"}, "vmDatacenter", "no such datastore")
		}
		dsName = ds.Name
	} else if src.Config != nil && src.Config.Files.VmPathName != "" {
		if m := datastorePathRe.FindStringSubmatch(src.Config.Files.VmPathName); m != nil {
			dsName = m[1]
		}
	}
	return placementDatacenterFault(folder, pool, spec.Location.Host, dsName, "spec.location.")
}
