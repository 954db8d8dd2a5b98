package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// CreateFilter and RetrieveProperties(Ex) refuse what vCenter refuses:
// an unknown property or type, a traversal through a non-property, an
// object that does not exist (unless reportMissingObjectsInResults, when
// the first update names it in missingSet).
func TestCollectorRefusesBadSpecs(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	vm := e.tmpl.Reference()
	gone := types.ManagedObjectReference{Type: "Task", Value: "task-gone"}
	create := func(spec types.PropertyFilterSpec) error {
		_, err := methods.CreateFilter(e.ctx, e.c, &types.CreateFilter{This: e.pc, Spec: spec})
		return err
	}
	prop := func(typ string, paths ...string) []types.PropertySpec {
		return []types.PropertySpec{{Type: typ, PathSet: paths}}
	}
	cases := []struct {
		name string
		spec types.PropertyFilterSpec
		want string
	}{
		{"unknown property", types.PropertyFilterSpec{ObjectSet: objSpecs(vm), PropSet: prop("VirtualMachine", "config.nope")}, "InvalidProperty"},
		{"through an array", types.PropertyFilterSpec{ObjectSet: objSpecs(vm), PropSet: prop("VirtualMachine", "config.hardware.device.key")}, "InvalidProperty"},
		{"unknown type", types.PropertyFilterSpec{ObjectSet: objSpecs(vm), PropSet: prop("VirtualMachin", "name")}, "InvalidType"},
		{"bad traversal", types.PropertyFilterSpec{ObjectSet: []types.ObjectSpec{{Obj: e.c.ServiceContent.RootFolder,
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "Folder", Path: "children"}}}},
			PropSet: prop("ManagedEntity", "name")}, "InvalidArgument"},
		{"missing object", types.PropertyFilterSpec{ObjectSet: objSpecs(gone), PropSet: prop("Task", "info.state")}, "ManagedObjectNotFound"},
	}
	for _, c := range cases {
		if got := faultName(create(c.spec)); got != c.want {
			t.Errorf("CreateFilter, %s: %q, want %s", c.name, got, c.want)
		}
		_, err := methods.RetrievePropertiesEx(e.ctx, e.c, &types.RetrievePropertiesEx{This: e.pc,
			SpecSet: []types.PropertyFilterSpec{c.spec}})
		if got := faultName(err); got != c.want {
			t.Errorf("RetrievePropertiesEx, %s: %q, want %s", c.name, got, c.want)
		}
		_, err = methods.RetrieveProperties(e.ctx, e.c, &types.RetrieveProperties{This: e.pc,
			SpecSet: []types.PropertyFilterSpec{c.spec}})
		if got := faultName(err); got != c.want {
			t.Errorf("RetrieveProperties, %s: %q, want %s", c.name, got, c.want)
		}
	}
	// Valid paths: into structures, a base type's property, through an
	// abstract type's field.
	ok := types.PropertyFilterSpec{ObjectSet: objSpecs(vm), PropSet: []types.PropertySpec{
		{Type: "VirtualMachine", PathSet: []string{"config.hardware.numCPU", "runtime.host", "summary.config.name"}},
		{Type: "ManagedEntity", PathSet: []string{"name", "parent"}}}}
	if err := create(ok); err != nil {
		t.Fatalf("a valid filter: %v", err)
	}
	if err := create(types.PropertyFilterSpec{ObjectSet: objSpecs(gone), PropSet: prop("Task", "info.state"),
		ReportMissingObjectsInResults: types.NewBool(true)}); err != nil {
		t.Fatalf("reportMissingObjectsInResults: %v", err)
	}
	set := e.mustWait(0)
	missing := 0
	for _, fu := range set.FilterSet {
		for _, m := range fu.MissingSet {
			if m.Obj == gone {
				missing++
			}
		}
	}
	if missing != 1 {
		t.Errorf("the missing task is not in one missingSet: %+v", set.FilterSet)
	}
}

// maxObjectUpdates cuts an answer; the next calls continue it at once.
func TestCollectorMaxObjectUpdates(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	var refs []types.ManagedObjectReference
	for i := 1; i <= 5; i++ {
		refs = append(refs, e.host(i).Reference())
	}
	e.filter(objSpecs(refs[:3]...), "HostSystem", "name")
	e.filter(objSpecs(refs[3:]...), "HostSystem", "name")
	wait := func(max int32) *types.UpdateSet {
		zero := int32(0)
		res, err := methods.WaitForUpdatesEx(e.ctx, e.c, &types.WaitForUpdatesEx{This: e.pc, Version: e.version,
			Options: &types.WaitOptions{MaxWaitSeconds: &zero, MaxObjectUpdates: max}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Returnval != nil {
			e.version = res.Returnval.Version
		}
		return res.Returnval
	}
	seenHosts := map[types.ManagedObjectReference]bool{}
	for call, want := range []struct {
		n         int
		truncated bool
	}{{2, true}, {2, true}, {1, false}} {
		set := wait(2)
		n := 0
		for _, fu := range set.FilterSet {
			for _, ou := range fu.ObjectSet {
				n++
				seenHosts[ou.Obj] = true
			}
		}
		if n != want.n || isTrue(set.Truncated) != want.truncated {
			t.Errorf("call %d: %d updates, truncated %v; want %d, %v", call, n, isTrue(set.Truncated), want.n, want.truncated)
		}
	}
	if len(seenHosts) != 5 {
		t.Errorf("%d of the 5 hosts reported", len(seenHosts))
	}
	if set := wait(0); set != nil {
		t.Errorf("nothing left, yet %+v", set)
	}
	_, err := methods.WaitForUpdatesEx(e.ctx, e.c, &types.WaitForUpdatesEx{This: e.pc, Version: e.version,
		Options: &types.WaitOptions{MaxObjectUpdates: -1}})
	if faultName(err) != "InvalidArgument" {
		t.Errorf("maxObjectUpdates -1: %v", err)
	}
}
