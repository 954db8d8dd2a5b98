package main

// Go tests of the lab's safety rules: VM names (names.go), removed objects
// leaving every view (vanish.go), custom attributes (custom_fields.go),
// ESXi's in-use refusals for standard networking (network_inuse.go).

import (
	"strings"
	"sync"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmNames lists every VM a container view of the root folder shows, read
// through the property collector (a stale reference fails the read).
func (e *labEnv) vmNames() []string {
	e.t.Helper()
	m := view.NewManager(e.c.Client)
	v, err := m.CreateContainerView(e.ctx, e.c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	defer v.Destroy(e.ctx)
	var vms []mo.VirtualMachine
	if err := v.Retrieve(e.ctx, []string{"VirtualMachine"}, []string{"name"}, &vms); err != nil {
		e.t.Fatal(err)
	}
	var cv mo.ContainerView
	if err := v.Properties(e.ctx, v.Reference(), []string{"view"}, &cv); err != nil {
		e.t.Fatal(err)
	}
	if len(cv.View) != len(vms) {
		e.t.Fatalf("the view lists %d VMs, %d of them exist", len(cv.View), len(vms))
	}
	var names []string
	for _, vm := range vms {
		names = append(names, vm.Name)
	}
	return names
}

func has(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func TestVMNameRules(t *testing.T) {
	e := newLabEnv(t)
	before := len(e.vmNames())
	for _, name := range []string{"", strings.Repeat("n", 81)} {
		_, err := e.clone(name, nil, nil, false)
		expectFault(t, err, &types.InvalidName{}, "invalid", "1 to 80")
	}
	e.mustClone(strings.Repeat("é", 80), nil, nil) // 80 characters (160 bytes) are fine
	e.mustClone("names-dup", nil, nil)
	_, err := e.clone("names-dup", nil, nil, false)
	expectFault(t, err, &types.DuplicateName{}, "The name 'names-dup' already exists.")
	if got := len(e.vmNames()); got != before+2 {
		t.Errorf("%d VMs, want %d: a refused clone left a VM", got, before+2)
	}
	// CreateVM_Task keeps the same rules.
	tk, err := e.folders.VmFolder.CreateVM(e.ctx, types.VirtualMachineConfigSpec{Name: "names-dup",
		Files: &types.VirtualMachineFileInfo{VmPathName: "[" + DatastoreName + "]"}}, object.NewResourcePool(e.c.Client, e.pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	expectFault(t, tk.Wait(e.ctx), &types.DuplicateName{}, "already exists")
	// A folder of an existing folder's name is DuplicateName (stock).
	if _, err := e.folders.VmFolder.CreateFolder(e.ctx, "names-folder"); err != nil {
		t.Fatal(err)
	}
	_, err = e.folders.VmFolder.CreateFolder(e.ctx, "names-folder")
	if faultName(err) != "DuplicateName" {
		t.Errorf("second folder of one name: %v", err)
	}
	// The same VM name in another folder is fine.
	f, err := e.f.Folder(e.ctx, "vm/names-folder")
	if err != nil {
		t.Fatal(err)
	}
	tk, err = e.tmpl.Clone(e.ctx, f, "names-dup", types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Pool: &e.pool}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.taskVM(tk); err != nil {
		t.Fatalf("same name in another folder: %v", err)
	}
	t.Cleanup(func() {
		e.destroyMade()
		if tk, err := f.Destroy(e.ctx); err == nil {
			_ = tk.Wait(e.ctx)
		}
	})
}

func TestConcurrentClonesOfOneNameMakeOneVM(t *testing.T) {
	e := newLabEnv(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.clone("names-race", nil, nil, false)
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch faultName(err) {
		case "":
			ok++
		case "DuplicateName":
		default:
			t.Errorf("clone: %v", err)
		}
	}
	count := 0
	for _, n := range e.vmNames() {
		if n == "names-race" {
			count++
		}
	}
	if ok != 1 || count != 1 {
		t.Errorf("%d clones succeeded, %d VMs named names-race; want 1 and 1", ok, count)
	}
}

func TestDestroyedTemplateLeavesEveryView(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("vanish-tmpl", nil, nil)
	if err := vm.MarkAsTemplate(e.ctx); err != nil {
		t.Fatal(err)
	}
	var pool mo.ResourcePool
	if err := property.DefaultCollector(e.c.Client).RetrieveOne(e.ctx, e.pool, []string{"vm"}, &pool); err != nil {
		t.Fatal(err)
	}
	if refsHas(pool.Vm, vm.Reference()) {
		t.Error("a template is in its resource pool's vm list")
	}
	if !has(e.vmNames(), "vanish-tmpl") {
		t.Fatal("the template is not in the container view")
	}
	tk, err := vm.Destroy(e.ctx)
	if err == nil {
		err = tk.Wait(e.ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if has(e.vmNames(), "vanish-tmpl") { // vmNames fails on a stale reference
		t.Error("the destroyed template is still listed")
	}
	// The lab's own template is out of its pool too.
	var tmpl mo.VirtualMachine
	if err := e.tmpl.Properties(e.ctx, e.tmpl.Reference(), []string{"resourcePool"}, &tmpl); err != nil {
		t.Fatal(err)
	}
	if tmpl.ResourcePool != nil {
		t.Errorf("template %s has resource pool %v", TemplateName, tmpl.ResourcePool)
	}
}

func TestCustomFields(t *testing.T) {
	e := newLabEnv(t)
	m, err := object.GetCustomFieldsManager(e.c.Client)
	if err != nil {
		t.Fatal(err)
	}
	def, err := m.Add(e.ctx, "lab-owner", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(e.ctx, "lab-owner", "", nil, nil); faultName(err) != "DuplicateName" {
		t.Errorf("second field of one name: %v", err)
	}
	vm := e.mustClone("fields-vm", nil, nil)
	values := func() []types.BaseCustomFieldValue {
		var v mo.VirtualMachine
		if err := vm.Properties(e.ctx, vm.Reference(), []string{"customValue"}, &v); err != nil {
			t.Fatal(err)
		}
		return v.CustomValue
	}
	for _, val := range []string{"a", "b"} {
		if err := m.Set(e.ctx, vm.Reference(), def.Key, val); err != nil {
			t.Fatal(err)
		}
	}
	if got := values(); len(got) != 1 || got[0].(*types.CustomFieldStringValue).Value != "b" {
		t.Errorf("after setting a then b: %+v", got)
	}
	if err := m.Set(e.ctx, vm.Reference(), def.Key+1000, "x"); faultName(err) != "InvalidArgument" {
		t.Errorf("unknown key: %v", err)
	}
	gone := types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-gone"}
	if err := m.Set(e.ctx, gone, def.Key, "x"); faultName(err) != "ManagedObjectNotFound" {
		t.Errorf("unknown entity: %v", err)
	}
	if err := m.Remove(e.ctx, def.Key); err != nil {
		t.Fatal(err)
	}
	if got := values(); len(got) != 0 {
		t.Errorf("values after the field was removed: %+v", got)
	}
	if err := m.Remove(e.ctx, def.Key); faultName(err) != "InvalidArgument" {
		t.Errorf("removing an unknown field: %v", err)
	}
}

func TestManagementSwitchIsInUse(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(2)
	err := e.networkSystem(h).RemoveVirtualSwitch(e.ctx, vSwitchName)
	if faultName(err) != "ResourceInUse" || !strings.Contains(err.Error(), "VMkernel adapter vmk0") {
		t.Errorf("removing %s with vmk0 on it: %v", vSwitchName, err)
	}
	if pgs := e.hostPortGroups(h); pgs["switch:"+vSwitchName] == "" {
		t.Errorf("%s lost port groups: %v", vSwitchName, pgs)
	}
}
