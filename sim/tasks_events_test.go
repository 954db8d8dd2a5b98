package main

import (
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// A snapshot's task names its VM; entityName is a name; the task history
// collector selects by entity, pages and reads as vCenter's.
func TestTaskEntitiesAndHistory(t *testing.T) {
	e := newLabEnv(t)
	vm := e.mustClone("tasks-history", e.host(3), nil)
	tk, err := vm.CreateSnapshot(e.ctx, "s1", "", false, false)
	if err != nil {
		t.Fatal(err)
	}
	info, err := tk.WaitForResult(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := methods.RevertToSnapshot_Task(e.ctx, e.c, &types.RevertToSnapshot_Task{This: info.Result.(types.ManagedObjectReference)})
	if err != nil {
		t.Fatal(err)
	}
	var revert mo.Task
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, res.Returnval, []string{"info"}, &revert); err != nil {
		t.Fatal(err)
	}
	if revert.Info.Entity == nil || *revert.Info.Entity != vm.Reference() || revert.Info.EntityName != "tasks-history" {
		t.Errorf("revert task entity %v %q", revert.Info.Entity, revert.Info.EntityName)
	}

	created, err := methods.CreateCollectorForTasks(e.ctx, e.c, &types.CreateCollectorForTasks{This: *e.c.ServiceContent.TaskManager,
		Filter: types.TaskFilterSpec{Entity: &types.TaskFilterSpecByEntity{
			Entity: vm.Reference(), Recursion: types.TaskFilterSpecRecursionOptionSelf}}})
	if err != nil {
		t.Fatal(err)
	}
	c := created.Returnval
	defer methods.DestroyCollector(e.ctx, e.c, &types.DestroyCollector{This: c})
	var hc mo.TaskHistoryCollector
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, c, []string{"latestPage"}, &hc); err != nil {
		t.Fatal(err)
	}
	if len(hc.LatestPage) < 2 || hc.LatestPage[0].Key != revert.Info.Key {
		t.Fatalf("latestPage %d tasks, first %v", len(hc.LatestPage), hc.LatestPage)
	}
	for _, ti := range hc.LatestPage {
		if ti.Entity == nil || *ti.Entity != vm.Reference() {
			t.Errorf("a task of %v in the VM's history", ti.Entity)
		}
	}
	next, err := methods.ReadNextTasks(e.ctx, e.c, &types.ReadNextTasks{This: c, MaxCount: 100})
	if err != nil || len(next.Returnval) != len(hc.LatestPage) || next.Returnval[len(next.Returnval)-1].Key != revert.Info.Key {
		t.Errorf("ReadNextTasks from the oldest: %+v %v", next, err)
	}
	for i := 1; i < len(next.Returnval); i++ {
		if next.Returnval[i].QueueTime.Before(next.Returnval[i-1].QueueTime) {
			t.Errorf("task %d is older than task %d", i, i-1)
		}
	}
	if _, err := methods.ReadNextTasks(e.ctx, e.c, &types.ReadNextTasks{This: c, MaxCount: 0}); faultName(err) != "InvalidArgument" {
		t.Errorf("maxCount 0: %v", err)
	}
}

// QueryEvents honours time and maxCount and returns more than 10 events.
func TestQueryEventsFilter(t *testing.T) {
	e := newLabEnv(t)
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	for i := 0; i < 3; i++ {
		vm := e.mustClone("events-query-"+string(rune('a'+i)), e.host(4), nil)
		e.powerOn(vm)
		e.powerOff(vm)
	}
	m := event.NewManager(e.c.Client)
	all, err := m.QueryEvents(e.ctx, types.EventFilterSpec{})
	if err != nil || len(all) <= 10 {
		t.Fatalf("%d events without maxCount: %v", len(all), err)
	}
	recent, err := m.QueryEvents(e.ctx, types.EventFilterSpec{Time: &types.EventFilterSpecByTime{BeginTime: &start}})
	if err != nil || len(recent) == 0 || len(recent) >= len(all) {
		t.Errorf("%d events since the test began (of %d): %v", len(recent), len(all), err)
	}
	for _, ev := range recent {
		if ev.GetEvent().CreatedTime.Before(start) {
			t.Errorf("event of %v before %v", ev.GetEvent().CreatedTime, start)
		}
	}
	three, err := m.QueryEvents(e.ctx, types.EventFilterSpec{MaxCount: 3, EventTypeId: []string{"VmPoweredOnEvent"}})
	if err != nil || len(three) != 3 {
		t.Errorf("maxCount 3: %d %v", len(three), err)
	}
	if _, err := m.QueryEvents(e.ctx, types.EventFilterSpec{MaxCount: 1001}); faultName(err) != "InvalidArgument" {
		t.Errorf("maxCount 1001: %v", err)
	}
}
