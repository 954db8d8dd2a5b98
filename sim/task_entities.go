package main

// Task info as vCenter fills it (API reference: TaskInfo.entity, "the
// managed entity the operation is performed on", a ManagedEntity;
// entityName, its name): a snapshot's tasks (RevertToSnapshot_Task,
// RemoveSnapshot_Task) name the snapshot's VM; tasks of managers that are no
// managed entity (VirtualDiskManager, FileManager, ...: the stock
// simulator runs such tasks inside VM operations, e.g. a disk created by a
// reconfigure) name none; entityName is the entity's inventory name (the
// stock one used the reference's value, "vm-42"). The stock entities broke
// pyVmomi's reading of TaskManager.recentTask: TaskInfo.entity is typed
// ManagedEntity, and a vim.vm.Snapshot there is a TypeError in the client.

import (
	"reflect"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// taskWatcher corrects each new task's entity.
type taskWatcher struct {
	mo.ExtensibleManagedObject
}

func installTaskEntities() {
	w := &taskWatcher{}
	w.Self = types.ManagedObjectReference{Type: "LabTaskWatcher", Value: "lab-task-watcher"}
	simulator.Map.AddHandler(w)
}

func (w *taskWatcher) PutObject(o mo.Reference) {
	if t, ok := o.(*simulator.Task); ok {
		fixTaskEntity(t)
		labTasks.Lock()
		labTasks.refs = append(labTasks.refs, t.Self)
		labTasks.Unlock()
	}
	taskCollectorsChanged(o) // task_history.go
}

// labTasks are the tasks of the lab's run, in the order they were made
// (the registry lists entities only).
var labTasks struct {
	sync.Mutex
	refs []types.ManagedObjectReference
}

// allTasks are the lab's tasks, oldest first.
func allTasks() []*simulator.Task {
	labTasks.Lock()
	refs := append([]types.ManagedObjectReference(nil), labTasks.refs...)
	labTasks.Unlock()
	out := make([]*simulator.Task, 0, len(refs))
	for _, ref := range refs {
		if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok {
			out = append(out, t)
		}
	}
	return out
}

func (w *taskWatcher) UpdateObject(o mo.Reference, _ []types.PropertyChange) {
	taskCollectorsChanged(o)
}

// RemoveObject forgets a removed task.
func (w *taskWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type != "Task" {
		return
	}
	labTasks.Lock()
	defer labTasks.Unlock()
	for i, r := range labTasks.refs {
		if r == ref {
			labTasks.refs = append(labTasks.refs[:i:i], labTasks.refs[i+1:]...)
			return
		}
	}
}

// isEntityType tells whether managed object type name is a ManagedEntity.
func isEntityType(name string) bool {
	t := moType(name) // collector_validate.go
	if t == nil {
		return false
	}
	f, ok := t.FieldByName("ManagedEntity")
	return ok && f.Anonymous && f.Type == reflect.TypeOf(mo.ManagedEntity{})
}

// fixTaskEntity makes a new task's entity a managed entity and its
// entityName the entity's name.
func fixTaskEntity(t *simulator.Task) {
	ref := t.Info.Entity
	if ref == nil {
		return
	}
	if ref.Type == "VirtualMachineSnapshot" {
		if snap, ok := simulator.Map.Get(*ref).(*simulator.VirtualMachineSnapshot); ok {
			vm := snap.Vm
			ref = &vm
		}
	}
	if !isEntityType(ref.Type) {
		t.Info.Entity, t.Info.EntityName = nil, ""
		return
	}
	t.Info.Entity = ref
	if name := objectName(*ref); name != "" { // faults.go
		t.Info.EntityName = name
	}
}
