package main

import (
	"testing"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func labTaskListed(ref types.ManagedObjectReference) bool {
	labTasks.Lock()
	defer labTasks.Unlock()
	for _, r := range labTasks.refs {
		if r == ref {
			return true
		}
	}
	return false
}

// A task removed from the inventory leaves the lab's task list (it only
// grew before).
func TestRemovedTaskLeavesTaskList(t *testing.T) {
	e := newLabEnv(t)
	host := simulator.Map.Get(e.host(1).Reference()).(*simulator.HostSystem)
	task := simulator.CreateTask(host, "labTest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, nil })
	task.Run()
	if !labTaskListed(task.Self) {
		t.Fatal("new task not listed")
	}
	simulator.Map.Remove(task.Self)
	if labTaskListed(task.Self) {
		t.Error("removed task still listed")
	}
	for _, other := range allTasks() {
		if other.Self == task.Self {
			t.Error("allTasks has the removed task")
		}
	}
}
