package main

import (
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmProps reads paths of vm.
func (e *labEnv) vmProps(vm mo.Reference, paths ...string) mo.VirtualMachine {
	e.t.Helper()
	var m mo.VirtualMachine
	if err := property.DefaultCollector(e.c.Client).RetrieveOne(e.ctx, vm.Reference(), paths, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// updatesOf runs act and returns the changes of obj's paths that a
// property collector filter created before act reports after it.
func (e *labEnv) updatesOf(obj types.ManagedObjectReference, paths []string, act func()) map[string]interface{} {
	e.t.Helper()
	pc, err := property.DefaultCollector(e.c.Client).Create(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer pc.Destroy(e.ctx)
	err = pc.CreateFilter(e.ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: obj}},
		PropSet:   []types.PropertySpec{{Type: obj.Type, PathSet: paths}},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	first, err := pc.WaitForUpdates(e.ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	act()
	next, err := pc.WaitForUpdates(e.ctx, first.Version)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]interface{}{}
	for _, fs := range next.FilterSet {
		for _, os := range fs.ObjectSet {
			for _, c := range os.ChangeSet {
				out[c.Name] = c.Val
			}
		}
	}
	return out
}

func TestTemplateCarriesASnapshotForLinkedClones(t *testing.T) {
	e := newLabEnv(t)
	m := e.vmProps(e.tmpl, "snapshot", "config.template", "resourcePool")
	if !m.Config.Template || m.ResourcePool != nil {
		t.Errorf("template: %v, resourcePool %v", m.Config.Template, m.ResourcePool)
	}
	if m.Snapshot == nil || m.Snapshot.CurrentSnapshot == nil || len(m.Snapshot.RootSnapshotList) != 1 ||
		m.Snapshot.RootSnapshotList[0].Name != LinkedCloneSnapshot {
		t.Fatalf("template snapshot: %+v", m.Snapshot)
	}
}

func TestTemplateIsImmutable(t *testing.T) {
	e := newLabEnv(t)
	tk, err := e.tmpl.CreateSnapshot(e.ctx, "x", "", false, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tk.WaitForResult(e.ctx, nil)
	expectFault(t, err, &types.NotSupported{}, notSupportedText, "VM "+TemplateName+" is a template")
	expectFault(t, e.reconfigure(e.tmpl, types.VirtualMachineConfigSpec{NumCPUs: 4}), &types.NotSupported{},
		notSupportedText)
	if m := e.vmProps(e.tmpl, "snapshot", "config.hardware.numCPU"); len(m.Snapshot.RootSnapshotList) != 1 ||
		len(m.Snapshot.RootSnapshotList[0].ChildSnapshotList) != 0 || m.Config.Hardware.NumCPU != 2 {
		t.Errorf("template changed: %+v, %d vCPU", m.Snapshot, m.Config.Hardware.NumCPU)
	}
	// A name or annotation may change.
	old := e.vmProps(e.tmpl, "config.annotation").Config.Annotation
	if err := e.reconfigure(e.tmpl, types.VirtualMachineConfigSpec{Annotation: "note"}); err != nil {
		t.Fatal(err)
	}
	if err := e.reconfigure(e.tmpl, types.VirtualMachineConfigSpec{Annotation: old}); err != nil {
		t.Fatal(err)
	}
	// A VM that is not a template may be snapshotted.
	vm := e.mustClone("tmpl-snap", nil, nil)
	if tk, err = vm.CreateSnapshot(e.ctx, "s1", "", false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.WaitForResult(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMarkAsTemplateAndBack(t *testing.T) {
	e := newLabEnv(t)
	vm, err := e.clone("tmpl-mark", e.host(3), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	err = vm.MarkAsTemplate(e.ctx)
	if err == nil || faultName(err) != "InvalidPowerState" {
		t.Fatalf("powered on: %v", err)
	}
	e.powerOff(vm)
	changes := e.updatesOf(vm.Reference(), []string{"config.template", "resourcePool"}, func() {
		if err := vm.MarkAsTemplate(e.ctx); err != nil {
			t.Fatal(err)
		}
	})
	if changes["config.template"] != true {
		t.Errorf("WaitForUpdates saw %v", changes)
	}
	m := e.vmProps(vm, "config.template", "resourcePool")
	if !m.Config.Template || m.ResourcePool != nil {
		t.Errorf("after MarkAsTemplate: template %v, pool %v", m.Config.Template, m.ResourcePool)
	}
	var pool mo.ResourcePool
	if err := property.DefaultCollector(e.c.Client).RetrieveOne(e.ctx, e.pool, []string{"vm"}, &pool); err != nil {
		t.Fatal(err)
	}
	if refsHas(pool.Vm, vm.Reference()) {
		t.Error("the template is still in its pool's vm list")
	}
	if err := vm.MarkAsTemplate(e.ctx); err == nil || faultName(err) != "InvalidState" {
		t.Errorf("a template again: %v", err)
	}
	if err := e.powerOn(vm); err == nil {
		t.Error("a template powered on")
	}

	// Back to a VM: a host outside the pool's cluster is refused, then on host 4.
	hpc, err := e.f.ClusterComputeResource(e.ctx, HPCClusterName)
	if err != nil {
		t.Fatal(err)
	}
	hpcPool, err := hpc.ResourcePool(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.MarkAsVirtualMachine(e.ctx, *hpcPool, e.host(4)); err == nil || faultName(err) != "InvalidArgument" ||
		!strings.Contains(err.Error(), "host") {
		t.Errorf("host outside the pool's cluster: %v", err)
	}
	gpuPool := object.NewResourcePool(e.c.Client, e.pool)
	if err := vm.MarkAsVirtualMachine(e.ctx, *gpuPool, e.host(4)); err != nil {
		t.Fatal(err)
	}
	m = e.vmProps(vm, "config.template", "resourcePool", "runtime.host")
	if m.Config.Template || m.ResourcePool == nil || *m.ResourcePool != e.pool || *m.Runtime.Host != e.host(4).Reference() {
		t.Errorf("after MarkAsVirtualMachine: %v %v %v", m.Config.Template, m.ResourcePool, m.Runtime.Host)
	}
	if err := vm.MarkAsVirtualMachine(e.ctx, *gpuPool, nil); err == nil || faultName(err) != "InvalidState" {
		t.Errorf("not a template: %v", err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Errorf("power on after MarkAsVirtualMachine: %v", err)
	}
}

func TestCloneToTemplate(t *testing.T) {
	e := newLabEnv(t)
	spec := types.VirtualMachineCloneSpec{Template: true, PowerOn: true,
		Config: &types.VirtualMachineConfigSpec{NumCPUs: 4}}
	tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, "tmpl-copy", spec)
	if err != nil {
		t.Fatal(err)
	}
	info, err := tk.WaitForResult(e.ctx, nil)
	if vm, ferr := e.f.VirtualMachine(e.ctx, "tmpl-copy"); ferr == nil {
		e.made = append(e.made, vm)
	}
	if err != nil {
		t.Fatalf("clone to a template: %v", err)
	}
	ref := info.Result.(types.ManagedObjectReference)
	m := e.vmProps(ref, "config.template", "config.hardware.numCPU", "runtime.powerState", "resourcePool")
	if !m.Config.Template || m.Config.Hardware.NumCPU != 4 || m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff ||
		m.ResourcePool != nil {
		t.Errorf("clone: template %v, %d vCPU, %s, pool %v", m.Config.Template, m.Config.Hardware.NumCPU,
			m.Runtime.PowerState, m.ResourcePool)
	}
}

func TestLinkedCloneNeedsASnapshotOfTheSource(t *testing.T) {
	e := newLabEnv(t)
	linked := types.VirtualMachineRelocateSpec{Pool: &e.pool,
		DiskMoveType: string(types.VirtualMachineRelocateDiskMoveOptionsCreateNewChildDiskBacking)}
	clone := func(name string, snapshot *types.ManagedObjectReference) error {
		tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, name, types.VirtualMachineCloneSpec{Location: linked, Snapshot: snapshot})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tk.WaitForResult(e.ctx, nil)
		if vm, ferr := e.f.VirtualMachine(e.ctx, name); ferr == nil {
			e.made = append(e.made, vm)
		}
		return err
	}
	expectFault(t, clone("linked-nosnap", nil), &types.InvalidArgument{}, "needs spec.snapshot")
	other := e.mustClone("linked-other", nil, nil)
	tk, err := other.CreateSnapshot(e.ctx, "s", "", false, false)
	if err != nil {
		t.Fatal(err)
	}
	otherSnap, err := tk.WaitForResult(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := otherSnap.Result.(types.ManagedObjectReference)
	expectFault(t, clone("linked-othersnap", &ref), &types.InvalidArgument{}, "is not a snapshot of VM "+TemplateName)
	cur := e.vmProps(e.tmpl, "snapshot").Snapshot.CurrentSnapshot
	if err := clone("linked-ok", cur); err != nil {
		t.Fatalf("linked clone from the template's snapshot: %v", err)
	}
}
