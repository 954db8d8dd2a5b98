package main

// The task history (API reference: TaskManager.CreateCollectorForTasks,
// TaskHistoryCollector, HistoryCollector, TaskFilterSpec), which govc's
// tasks and pyVmomi scripts read; the stock simulator has none
// (MethodNotFound).
//
//   - A collector holds the tasks its filter selects, ordered by the time
//     they were queued: entity (self, its children, or both: descendants in
//     the inventory), time (queued, started or completed between beginTime
//     and endTime, both included), state, and userName (the user who
//     started the task, or the system's when systemUser).
//   - latestPage is the newest pageSize tasks (10 unless
//     SetCollectorPageSize said otherwise, 1 to 1000: InvalidArgument
//     otherwise), newest first, and changes through the PropertyCollector as
//     tasks come and change.
//   - The "scrollable view" starts at the oldest task (RewindCollector):
//     ReadNextTasks(maxCount) reads towards the newest, ReadPreviousTasks
//     towards the oldest; ResetCollector moves the view just before the
//     latest page. maxCount below 1 is InvalidArgument.
//   - DestroyCollector removes it; so does the end of its session.
//
// The lab keeps every task of its run (vCenter keeps task history in its
// database for a configurable time).

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	taskPageDefault = 10
	historyPageMax  = 1000
)

// taskCollectors are the live task history collectors (for latestPage
// updates); liveTaskCollectors counts them, so that tasks cost nothing
// while there is none.
var (
	taskCollectors     sync.Map // *labTaskCollector -> true
	liveTaskCollectors int64
)

// taskManagerHook receives TaskManager.CreateCollectorForTasks.
type taskManagerHook struct{ labHook }

// labTaskCollector is one TaskHistoryCollector.
type labTaskCollector struct {
	mo.TaskHistoryCollector
	mu       sync.Mutex
	spec     types.TaskFilterSpec
	pageSize int
	pos      int // the scrollable view: index of the next task ReadNextTasks returns
}

func (h *taskManagerHook) CreateCollectorForTasks(ctx *simulator.Context, req *types.CreateCollectorForTasks) soap.HasFault {
	h.target(ctx)
	if ctx.Session == nil {
		return &methods.CreateCollectorForTasksBody{Fault_: notFound(h.real)}
	}
	c := &labTaskCollector{spec: req.Filter, pageSize: taskPageDefault}
	c.Self = types.ManagedObjectReference{Type: "TaskHistoryCollector", Value: "lab-task-collector-" + strconv.FormatInt(nextCollectorID(), 10)}
	c.Filter = req.Filter
	ctx.Session.Put(c)
	taskCollectors.Store(c, true)
	atomic.AddInt64(&liveTaskCollectors, 1)
	return &methods.CreateCollectorForTasksBody{Res: &types.CreateCollectorForTasksResponse{Returnval: c.Self}}
}

var collectorIDs int64

func nextCollectorID() int64 { return atomic.AddInt64(&collectorIDs, 1) }

// tasks are the tasks the filter selects, oldest first.
func (c *labTaskCollector) tasks() []types.TaskInfo {
	var out []types.TaskInfo
	for _, t := range allTasks() { // task_entities.go
		info := t.Info // unlocked: this runs inside task updates, whose callers may hold the task
		if taskMatches(&info, &c.spec) {
			out = append(out, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].QueueTime.Equal(out[j].QueueTime) {
			return out[i].QueueTime.Before(out[j].QueueTime)
		}
		return taskNumber(out[i].Key) < taskNumber(out[j].Key)
	})
	return out
}

func taskNumber(key string) int {
	n, _ := strconv.Atoi(key[strings.LastIndex(key, "-")+1:])
	return n
}

// latest is the latest page, newest first.
func (c *labTaskCollector) latest(all []types.TaskInfo) []types.TaskInfo {
	n := c.pageSize
	if n > len(all) {
		n = len(all)
	}
	out := make([]types.TaskInfo, 0, n)
	for i := len(all) - 1; i >= len(all)-n; i-- {
		out = append(out, all[i])
	}
	return out
}

// Get is what the property collector reads: latestPage as it is now.
func (c *labTaskCollector) Get() mo.Reference {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.TaskHistoryCollector
	out.LatestPage = c.latest(c.tasks())
	return &out
}

func badMaxCount() *soap.Fault {
	return simulator.Fault("A specified parameter was not correct: maxCount", &types.InvalidArgument{InvalidProperty: "maxCount"})
}

func (c *labTaskCollector) ReadNextTasks(req *types.ReadNextTasks) soap.HasFault {
	if req.MaxCount < 1 {
		return &methods.ReadNextTasksBody{Fault_: badMaxCount()}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.tasks()
	if c.pos > len(all) {
		c.pos = len(all)
	}
	end := c.pos + int(req.MaxCount)
	if end > len(all) {
		end = len(all)
	}
	out := all[c.pos:end]
	c.pos = end
	return &methods.ReadNextTasksBody{Res: &types.ReadNextTasksResponse{Returnval: out}}
}

func (c *labTaskCollector) ReadPreviousTasks(req *types.ReadPreviousTasks) soap.HasFault {
	if req.MaxCount < 1 {
		return &methods.ReadPreviousTasksBody{Fault_: badMaxCount()}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.tasks()
	if c.pos > len(all) {
		c.pos = len(all)
	}
	start := c.pos - int(req.MaxCount)
	if start < 0 {
		start = 0
	}
	var out []types.TaskInfo
	for i := c.pos - 1; i >= start; i-- {
		out = append(out, all[i])
	}
	c.pos = start
	return &methods.ReadPreviousTasksBody{Res: &types.ReadPreviousTasksResponse{Returnval: out}}
}

func (c *labTaskCollector) SetCollectorPageSize(req *types.SetCollectorPageSize) soap.HasFault {
	if req.MaxCount < 1 || req.MaxCount > historyPageMax {
		return &methods.SetCollectorPageSizeBody{Fault_: badMaxCount()}
	}
	c.mu.Lock()
	c.pageSize = int(req.MaxCount)
	c.mu.Unlock()
	c.publish()
	return &methods.SetCollectorPageSizeBody{Res: &types.SetCollectorPageSizeResponse{}}
}

func (c *labTaskCollector) RewindCollector(req *types.RewindCollector) soap.HasFault {
	c.mu.Lock()
	c.pos = 0
	c.mu.Unlock()
	return &methods.RewindCollectorBody{Res: &types.RewindCollectorResponse{}}
}

func (c *labTaskCollector) ResetCollector(req *types.ResetCollector) soap.HasFault {
	c.mu.Lock()
	n := len(c.tasks()) - c.pageSize
	if n < 0 {
		n = 0
	}
	c.pos = n
	c.mu.Unlock()
	return &methods.ResetCollectorBody{Res: &types.ResetCollectorResponse{}}
}

func (c *labTaskCollector) DestroyCollector(ctx *simulator.Context, req *types.DestroyCollector) soap.HasFault {
	if _, ok := taskCollectors.LoadAndDelete(c); ok {
		atomic.AddInt64(&liveTaskCollectors, -1)
	}
	ctx.Session.Remove(c.Self)
	return &methods.DestroyCollectorBody{Res: &types.DestroyCollectorResponse{}}
}

// publish hands the collector's latestPage to the property collector.
func (c *labTaskCollector) publish() {
	page := c.Get().(*mo.TaskHistoryCollector).LatestPage
	simulator.Map.Update(c, []types.PropertyChange{{Name: "latestPage", Val: page}})
}

// taskCollectorsChanged republishes the collectors whose filter selects a
// task that was made or changed.
func taskCollectorsChanged(o mo.Reference) {
	if atomic.LoadInt64(&liveTaskCollectors) == 0 || o.Reference().Type != "Task" {
		return
	}
	t, ok := simulator.Map.Get(o.Reference()).(*simulator.Task)
	if !ok {
		return
	}
	info := t.Info
	taskCollectors.Range(func(k, _ interface{}) bool {
		if c := k.(*labTaskCollector); taskMatches(&info, &c.spec) {
			c.publish()
		}
		return true
	})
}

// taskMatches tells whether task info meets filter spec.
func taskMatches(info *types.TaskInfo, spec *types.TaskFilterSpec) bool {
	if len(spec.State) != 0 {
		ok := false
		for _, s := range spec.State {
			ok = ok || s == info.State
		}
		if !ok {
			return false
		}
	}
	if u := spec.UserName; u != nil {
		user := ""
		if r, ok := info.Reason.(*types.TaskReasonUser); ok {
			user = r.UserName
		}
		ok := u.SystemUser && user == ""
		for _, name := range u.UserList {
			ok = ok || strings.EqualFold(name, user)
		}
		if !ok {
			return false
		}
	}
	if tm := spec.Time; tm != nil && !inTime(taskTime(info, tm.TimeType), tm.BeginTime, tm.EndTime) {
		return false
	}
	if e := spec.Entity; e != nil {
		return entityMatches(info.Entity, e.Entity, string(e.Recursion))
	}
	return true
}

func taskTime(info *types.TaskInfo, kind types.TaskFilterSpecTimeOption) *time.Time {
	switch kind {
	case types.TaskFilterSpecTimeOptionStartedTime:
		return info.StartTime
	case types.TaskFilterSpecTimeOptionCompletedTime:
		return info.CompleteTime
	}
	q := info.QueueTime
	return &q
}

// inTime tells whether t is within [begin, end] (unset bounds: open).
func inTime(t, begin, end *time.Time) bool {
	if t == nil {
		return begin == nil && end == nil
	}
	return (begin == nil || !t.Before(*begin)) && (end == nil || !t.After(*end))
}

// entityMatches tells whether ref is the entity (recursion self), one of
// its descendants (children) or either (all).
func entityMatches(ref *types.ManagedObjectReference, entity types.ManagedObjectReference, recursion string) bool {
	if ref == nil {
		return false
	}
	self := *ref == entity
	switch recursion {
	case "self":
		return self
	case "children":
		return !self && descendsFrom(*ref, entity)
	}
	return self || descendsFrom(*ref, entity)
}

// descendsFrom tells whether ref is below entity in the inventory (through
// parents, a VM's resource pool, a host's compute resource).
func descendsFrom(ref, entity types.ManagedObjectReference) bool {
	seen := map[types.ManagedObjectReference]bool{}
	queue := []types.ManagedObjectReference{ref}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		obj, ok := simulator.Map.Get(cur).(mo.Entity)
		if !ok {
			continue
		}
		var up []types.ManagedObjectReference
		if p := obj.Entity().Parent; p != nil {
			up = append(up, *p)
		}
		if vm, ok := obj.(*simulator.VirtualMachine); ok {
			if vm.ResourcePool != nil {
				up = append(up, *vm.ResourcePool)
			}
			if vm.Runtime.Host != nil {
				up = append(up, *vm.Runtime.Host)
			}
		}
		for _, u := range up {
			if u == entity {
				return true
			}
			queue = append(queue, u)
		}
	}
	return false
}
