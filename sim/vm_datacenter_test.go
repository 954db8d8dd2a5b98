package main

import (
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// A datacenter made with CreateDatacenter has no pool, host or datastore: a
// clone or a new VM in its folder is refused (no panic, no nameless VM), as
// is a datastore the folder's datacenter does not have.
func TestNewVMsStayInOneDatacenter(t *testing.T) {
	e := newLabEnv(t)
	dc, err := object.NewRootFolder(e.c.Client).CreateDatacenter(e.ctx, "vmdc-new")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if tk, err := dc.Destroy(e.ctx); err == nil {
			_ = tk.Wait(e.ctx)
		}
	}()
	folders, err := dc.Folders(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool := e.poolOf(nil)
	tk, err := e.tmpl.Clone(e.ctx, folders.VmFolder, "vmdc-clone", types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &pool}})
	if err != nil {
		t.Fatal(err)
	}
	err = tk.Wait(e.ctx)
	if faultName(err) != "InvalidArgument" || !strings.Contains(err.Error(), "spec.location.pool is in datacenter") {
		t.Errorf("a clone into a new datacenter with another's pool: %v", err)
	}
	create := func(folder *object.Folder, path string) error {
		tk, err := folder.CreateVM(e.ctx, types.VirtualMachineConfigSpec{Name: "vmdc-create",
			Files: &types.VirtualMachineFileInfo{VmPathName: path}}, object.NewResourcePool(e.c.Client, pool), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Wait(e.ctx)
	}
	if err := create(folders.VmFolder, "["+DatastoreName+"]"); faultName(err) != "InvalidArgument" {
		t.Errorf("CreateVM_Task into a new datacenter: %v", err)
	}
	if err := create(e.folders.VmFolder, "[no-such-datastore] x"); faultName(err) != "InvalidDatastore" {
		t.Errorf("CreateVM_Task on a datastore the datacenter lacks: %v", err)
	}
	if err := create(e.folders.VmFolder, "no brackets"); faultName(err) != "InvalidDatastorePath" {
		t.Errorf("CreateVM_Task with a vmPathName that is no datastore path: %v", err)
	}
	if err := create(e.folders.HostFolder, "["+DatastoreName+"]"); faultName(err) != "NotSupported" {
		t.Errorf("CreateVM_Task in a host folder: %v", err)
	}
	var f mo.Folder
	if err := folders.VmFolder.Properties(e.ctx, folders.VmFolder.Reference(), []string{"childEntity"}, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.ChildEntity) != 0 {
		t.Errorf("the new datacenter's VM folder holds %v", f.ChildEntity)
	}
	if _, err := e.clone("vmdc-after", nil, nil, false); err != nil {
		t.Errorf("the lab after the refusals: %v", err)
	}
}
