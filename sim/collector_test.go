package main

// The lab's PropertyCollector waits (collector.go), through SOAP as a
// client sees them, and what a wait costs (objects walked and read: the
// stock simulator re-read every object of every filter per change).

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// pcEnv is a collector of its own on a rule test session (rules_test.go).
type pcEnv struct {
	*ruleEnv
	pc      types.ManagedObjectReference
	version string
}

func newPCEnv(t *testing.T) *pcEnv {
	e := &pcEnv{ruleEnv: newRuleEnv(t)}
	res, err := methods.CreatePropertyCollector(e.ctx, e.c, &types.CreatePropertyCollector{This: e.c.ServiceContent.PropertyCollector})
	if err != nil {
		t.Fatal(err)
	}
	e.pc = res.Returnval
	return e
}

func (e *pcEnv) destroy() {
	if _, err := methods.DestroyPropertyCollector(e.ctx, e.c, &types.DestroyPropertyCollector{This: e.pc}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *pcEnv) filter(objs []types.ObjectSpec, typ string, paths ...string) types.ManagedObjectReference {
	res, err := methods.CreateFilter(e.ctx, e.c, &types.CreateFilter{This: e.pc, Spec: types.PropertyFilterSpec{
		ObjectSet: objs, PropSet: []types.PropertySpec{{Type: typ, PathSet: paths}},
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Returnval
}

func objSpecs(refs ...types.ManagedObjectReference) []types.ObjectSpec {
	out := make([]types.ObjectSpec, len(refs))
	for i, r := range refs {
		out[i] = types.ObjectSpec{Obj: r}
	}
	return out
}

// wait is one WaitForUpdatesEx; nil when nothing changed within maxWait.
func (e *pcEnv) wait(maxWait int32) (*types.UpdateSet, error) {
	res, err := methods.WaitForUpdatesEx(e.ctx, e.c, &types.WaitForUpdatesEx{
		This: e.pc, Version: e.version, Options: &types.WaitOptions{MaxWaitSeconds: &maxWait}})
	if err != nil {
		return nil, err
	}
	if res.Returnval != nil {
		e.version = res.Returnval.Version
	}
	return res.Returnval, nil
}

func (e *pcEnv) mustWait(maxWait int32) *types.UpdateSet {
	set, err := e.wait(maxWait)
	if err != nil {
		e.t.Fatal(err)
	}
	return set
}

// seen is one object update as a test reads it.
type seen struct {
	kind    types.ObjectUpdateKind
	changes map[string]interface{}
}

// updates indexes an update set: filter -> object -> update.
func updates(set *types.UpdateSet) map[types.ManagedObjectReference]map[types.ManagedObjectReference]seen {
	out := map[types.ManagedObjectReference]map[types.ManagedObjectReference]seen{}
	if set == nil {
		return out
	}
	for _, fu := range set.FilterSet {
		m := map[types.ManagedObjectReference]seen{}
		for _, ou := range fu.ObjectSet {
			s := seen{kind: ou.Kind, changes: map[string]interface{}{}}
			for _, c := range ou.ChangeSet {
				s.changes[c.Name] = c.Val
			}
			m[ou.Obj] = s
		}
		out[fu.Filter] = m
	}
	return out
}

func TestCollectorWaitReportsEachFilterOnce(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	vm := e.mustClone("pc-wait-vm", e.host(1), nil)
	fa := e.filter(objSpecs(vm.Reference()), "VirtualMachine", "runtime.powerState", "summary.runtime")

	first := updates(e.mustWait(1))[fa][vm.Reference()]
	if first.kind != types.ObjectUpdateKindEnter || first.changes["runtime.powerState"] != types.VirtualMachinePowerStatePoweredOff {
		t.Fatalf("initial update %+v", first)
	}
	if _, ok := first.changes["summary.runtime"].(types.VirtualMachineRuntimeInfo); !ok {
		t.Errorf("summary.runtime = %T", first.changes["summary.runtime"])
	}

	// A task watched by a second filter made after the first wait: its
	// whole state comes in the next wait, with the VM's own changes.
	tk, err := methods.PowerOnVM_Task(e.ctx, e.c, &types.PowerOnVM_Task{This: vm.Reference()})
	if err != nil {
		t.Fatal(err)
	}
	task := tk.Returnval
	fb := e.filter(objSpecs(task), "Task", "info.state")
	got := updates(nil)
	for i := 0; i < 3 && (got[fb] == nil || got[fa] == nil); i++ {
		for f, objs := range updates(e.mustWait(5)) {
			got[f] = objs
		}
	}
	if u := got[fb][task]; u.kind != types.ObjectUpdateKindEnter || u.changes["info.state"] != types.TaskInfoStateSuccess {
		t.Errorf("task filter: %+v", got[fb])
	}
	u := got[fa][vm.Reference()]
	if u.kind != types.ObjectUpdateKindModify || u.changes["runtime.powerState"] != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("VM filter: %+v", got[fa])
	}
	// summary.runtime.powerState changed: the filter asked for summary.runtime, and gets it whole.
	if rt, ok := u.changes["summary.runtime"].(types.VirtualMachineRuntimeInfo); !ok || rt.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("summary.runtime after power on: %#v", u.changes["summary.runtime"])
	}
	// Nothing the filters ask for changed since (the guest's boot changes only guest properties).
	time.Sleep(100 * time.Millisecond)
	if set := e.mustWait(0); set != nil && len(set.FilterSet) != 0 {
		t.Errorf("no change expected, got %+v", updates(set))
	}

	// A destroyed filter reports nothing more.
	if _, err := methods.DestroyPropertyFilter(e.ctx, e.c, &types.DestroyPropertyFilter{This: fb}); err != nil {
		t.Fatal(err)
	}
	e.powerOff(vm)
	got = updates(e.mustWait(5))
	if got[fb] != nil || got[fa][vm.Reference()].changes["runtime.powerState"] != types.VirtualMachinePowerStatePoweredOff {
		t.Errorf("after power off: %+v", got)
	}
}

func TestCollectorListViewEnterAndLeave(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	vm := e.mustClone("pc-view-vm", e.host(2), nil)
	lv, err := methods.CreateListView(e.ctx, e.c, &types.CreateListView{This: *e.c.ServiceContent.ViewManager})
	if err != nil {
		t.Fatal(err)
	}
	view := lv.Returnval
	defer methods.DestroyView(e.ctx, e.c, &types.DestroyView{This: view})
	f := e.filter([]types.ObjectSpec{{Obj: view, Skip: types.NewBool(true), SelectSet: []types.BaseSelectionSpec{
		&types.TraversalSpec{Type: "ListView", Path: "view", Skip: types.NewBool(false)},
	}}}, "VirtualMachine", "name")
	if got := updates(e.mustWait(1)); len(got[f]) != 0 {
		t.Fatalf("empty view: %+v", got)
	}
	modify := func(add, remove []types.ManagedObjectReference) {
		if _, err := methods.ModifyListView(e.ctx, e.c, &types.ModifyListView{This: view, Add: add, Remove: remove}); err != nil {
			t.Fatal(err)
		}
	}
	modify([]types.ManagedObjectReference{vm.Reference()}, nil)
	if u := updates(e.mustWait(5))[f][vm.Reference()]; u.kind != types.ObjectUpdateKindEnter || u.changes["name"] != "pc-view-vm" {
		t.Errorf("added to the view: %+v", u)
	}
	modify(nil, []types.ManagedObjectReference{vm.Reference()})
	if u := updates(e.mustWait(5))[f][vm.Reference()]; u.kind != types.ObjectUpdateKindLeave {
		t.Errorf("removed from the view: %+v", u)
	}
}

func TestCollectorContainerViewSeesNewVMs(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	cv, err := methods.CreateContainerView(e.ctx, e.c, &types.CreateContainerView{This: *e.c.ServiceContent.ViewManager,
		Container: e.c.ServiceContent.RootFolder, Type: []string{"VirtualMachine"}, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer methods.DestroyView(e.ctx, e.c, &types.DestroyView{This: cv.Returnval})
	f := e.filter([]types.ObjectSpec{{Obj: cv.Returnval, Skip: types.NewBool(true), SelectSet: []types.BaseSelectionSpec{
		&types.TraversalSpec{Type: "ContainerView", Path: "view", Skip: types.NewBool(false)},
	}}}, "VirtualMachine", "name")
	if n := len(updates(e.mustWait(1))[f]); n < 2 {
		t.Fatalf("initial: %d VMs", n)
	}
	vm := e.mustClone("pc-container-vm", e.host(5), nil)
	got := updates(nil)
	for i := 0; i < 3 && got[f][vm.Reference()].kind == ""; i++ {
		got = updates(e.mustWait(5))
	}
	if u := got[f][vm.Reference()]; u.kind != types.ObjectUpdateKindEnter || u.changes["name"] != "pc-container-vm" {
		t.Errorf("new VM: %+v", got[f])
	}
}

func TestCollectorDestroyedObjectLeaves(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	vm := e.mustClone("pc-gone-vm", e.host(3), nil)
	e.made = nil // destroyed here
	f := e.filter(objSpecs(vm.Reference()), "VirtualMachine", "name")
	e.mustWait(1)
	tk, err := vm.Destroy(e.ctx)
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatalf("destroy: %v", err)
	}
	if u := updates(e.mustWait(5))[f][vm.Reference()]; u.kind != types.ObjectUpdateKindLeave {
		t.Errorf("destroyed VM: %+v", u)
	}
	if _, err := e.wait(0); err != nil { // the stock simulator faulted every wait from here on
		t.Errorf("wait after the object left: %v", err)
	}
}

func TestCollectorCancelAndCleanup(t *testing.T) {
	e := newPCEnv(t)
	vm := e.mustClone("pc-cancel-vm", e.host(4), nil)
	e.filter(objSpecs(vm.Reference()), "VirtualMachine", "name")
	e.mustWait(1)
	done := make(chan error, 1)
	go func() { _, err := e.wait(60); done <- err }()
	var err error
	for i := 0; i < 100; i++ { // the wait may not have started yet: cancel until it ends
		if _, cerr := methods.CancelWaitForUpdates(e.ctx, e.c, &types.CancelWaitForUpdates{This: e.pc}); cerr != nil {
			t.Fatal(cerr)
		}
		select {
		case err = <-done:
			i = 100
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !soap.IsSoapFault(err) {
		t.Fatalf("cancelled wait: %v", err)
	} else if _, ok := soap.ToSoapFault(err).VimFault().(types.RequestCanceled); !ok {
		t.Errorf("cancelled wait: %#v", soap.ToSoapFault(err).VimFault())
	}

	hook := types.ManagedObjectReference{Type: collectorHookType, Value: e.pc.Value}
	if listenerCount(e.pc.Value) != 1 || simulator.Map.Get(hook) == nil {
		t.Fatalf("no listener for %s", e.pc)
	}
	e.destroy()
	if n := listenerCount(e.pc.Value); n != 0 || simulator.Map.Get(hook) != nil {
		t.Errorf("collector destroyed: %d listener(s), hook %v", n, simulator.Map.Get(hook))
	}

	// The session's own collector: its listener goes with the session.
	root := e.c.ServiceContent.PropertyCollector
	maxWait := int32(0)
	if _, err := methods.WaitForUpdatesEx(e.ctx, e.c, &types.WaitForUpdatesEx{This: root, Options: &types.WaitOptions{MaxWaitSeconds: &maxWait}}); err != nil {
		t.Fatal(err)
	}
	before := listenerCount(root.Value)
	c2 := login(t)
	if _, err := methods.WaitForUpdatesEx(e.ctx, c2, &types.WaitForUpdatesEx{This: root, Options: &types.WaitOptions{MaxWaitSeconds: &maxWait}}); err != nil {
		t.Fatal(err)
	}
	if n := listenerCount(root.Value); n != before+1 {
		t.Fatalf("second session: %d root listeners, want %d", n, before+1)
	}
	if err := c2.Logout(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := listenerCount(root.Value); n != before {
		t.Errorf("after logout: %d root listeners, want %d", n, before)
	}
}

func listenerCount(pcValue string) int {
	listeners.Lock()
	defer listeners.Unlock()
	n := 0
	for _, l := range listeners.m {
		if l.pc.Value == pcValue {
			n++
		}
	}
	return n
}

// The cost of a wait follows what changed, not what is watched: 300 tasks
// in 150 filters (one per pair, as a client adding tasks in batches makes
// them) and a view of every VM; 4 tasks change and a task is made. (The
// deferred destroy also pins DestroyPropertyCollector with many filters.)
func TestCollectorWaitCostFollowsChanges(t *testing.T) {
	e := newPCEnv(t)
	defer e.destroy()
	tmpl := simulator.Map.Get(e.tmpl.Reference())
	tasks := make([]*simulator.Task, 300)
	for i := range tasks {
		tasks[i] = simulator.CreateTask(tmpl, "labTest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, nil })
	}
	for i := 0; i < len(tasks); i += 2 {
		e.filter(objSpecs(tasks[i].Self, tasks[i+1].Self), "Task", "info.state", "info.error")
	}
	var vms []types.ManagedObjectReference
	for _, o := range simulator.Map.All("VirtualMachine") {
		vms = append(vms, o.Reference())
	}
	lv, err := methods.CreateListView(e.ctx, e.c, &types.CreateListView{This: *e.c.ServiceContent.ViewManager, Obj: vms})
	if err != nil {
		t.Fatal(err)
	}
	defer methods.DestroyView(e.ctx, e.c, &types.DestroyView{This: lv.Returnval})
	e.filter([]types.ObjectSpec{{Obj: lv.Returnval, Skip: types.NewBool(true), SelectSet: []types.BaseSelectionSpec{
		&types.TraversalSpec{Type: "ListView", Path: "view", Skip: types.NewBool(false)},
	}}}, "VirtualMachine", "runtime.powerState")
	set := e.mustWait(1)
	n := 0
	for _, fu := range set.FilterSet {
		n += len(fu.ObjectSet)
	}
	if n != len(tasks)+len(vms) || len(set.FilterSet) != len(tasks)/2+1 {
		t.Fatalf("initial: %d objects in %d filters", n, len(set.FilterSet))
	}

	before := struct{ walked, read int64 }{atomic.LoadInt64(&collectorWork.walked), atomic.LoadInt64(&collectorWork.read)}
	for _, tk := range tasks[10:14] {
		tk.Run()
	}
	// A new object in the inventory: the view's content did not change, no re-walk.
	simulator.CreateTask(tmpl, "labTest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, nil })
	got := e.mustWait(5)
	walked := atomic.LoadInt64(&collectorWork.walked) - before.walked
	read := atomic.LoadInt64(&collectorWork.read) - before.read
	n = 0
	for _, fu := range got.FilterSet {
		for _, ou := range fu.ObjectSet {
			n++
			if ou.Kind != types.ObjectUpdateKindModify || len(ou.ChangeSet) != 2 || ou.ChangeSet[0].Val != types.TaskInfoStateSuccess {
				t.Errorf("update %+v", ou)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d updates, want the 4 tasks", n)
	}
	if walked != 0 || read != 0 {
		t.Errorf("a wait for 4 changed tasks walked %d and read %d objects (want 0: changes carry their values)", walked, read)
	}
}
