package main

// Tasks the lab runs itself: an optional delay (--task-delay, so tests can
// act while a task is in flight) and Task.CancelTask as vCenter does it.
//
// The stock simulator runs every task to completion before answering the
// call and has no CancelTask (a MethodNotFound fault). vCenter: a task may
// only be canceled if it is cancelable (cloning a VM is; powering on or
// off, reconfiguring and destroying are not: NotSupported); a canceled
// task ends in state error with RequestCanceled; canceling a completed or
// already canceled task is InvalidState; several cancel requests count as
// one; the call returns before the task has ended.

import (
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// pendingTask is a task waiting out the lab's task delay.
type pendingTask struct {
	cancelable bool
	cancel     chan struct{}
	once       sync.Once
}

type taskTable struct {
	mu      sync.Mutex
	pending map[string]*pendingTask // task moid
}

func (tt *taskTable) get(id string) *pendingTask {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.pending[id]
}

func (tt *taskTable) put(id string, p *pendingTask) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.pending == nil {
		tt.pending = map[string]*pendingTask{}
	}
	tt.pending[id] = p
}

func (tt *taskTable) drop(id string) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	delete(tt.pending, id)
}

// runTask runs t (a task of the lab's own methods) and returns its
// reference: at once without a task delay, else after the delay in the
// background unless it is canceled first.
//
// “longer“ lengthens the delay for this task (--clone-time: a full clone of
// a large disk takes minutes on real storage).
func (l *Lab) runTask(t *simulator.Task, cancelable bool, longer ...time.Duration) types.ManagedObjectReference {
	if cancelable {
		simulator.Map.Update(t, []types.PropertyChange{{Name: "info.cancelable", Val: true}})
	}
	delay := l.faults.taskDelay()
	for _, d := range longer {
		if d > delay {
			delay = d
		}
	}
	if delay <= 0 {
		ref := t.Run()
		setTaskFaultMessage(ref)
		return ref
	}
	p := &pendingTask{cancelable: cancelable, cancel: make(chan struct{})}
	l.tasks.put(t.Self.Value, p)
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.state", Val: types.TaskInfoStateRunning},
		{Name: "info.startTime", Val: time.Now()},
	})
	go func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		canceled := false
		select {
		case <-timer.C:
		case <-p.cancel:
			canceled = true
		}
		l.tasks.drop(t.Self.Value)
		if canceled {
			finishCanceled(t)
			return
		}
		completeTask(t) // admission.go: keeps the startTime set above
	}()
	return t.Self
}

// finishCanceled ends t as vCenter ends a canceled task.
func finishCanceled(t *simulator.Task) {
	fault := withMessage(&types.RequestCanceled{}, "canceled", "The task was canceled by a user.")
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.cancelled", Val: true},
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateError},
		{Name: "info.error", Val: localized(fault)},
	})
}

// taskHook receives CancelTask.
type taskHook struct{ labHook }

// CancelTask cancels a cancelable task still waiting out the lab's delay.
func (h *taskHook) CancelTask(ctx *simulator.Context, req *types.CancelTask) soap.HasFault {
	t, ok := h.target(ctx).(*simulator.Task)
	if !ok {
		return &methods.CancelTaskBody{Fault_: notFound(h.real)}
	}
	if p := h.lab.tasks.get(t.Self.Value); p != nil {
		if !p.cancelable {
			return &methods.CancelTaskBody{Fault_: simulator.Fault(
				"The operation is not supported on the object.", &types.NotSupported{})}
		}
		p.once.Do(func() { close(p.cancel) })
		return &methods.CancelTaskBody{Res: &types.CancelTaskResponse{}}
	}
	var state types.TaskInfoState
	var cancelable bool
	simulator.Map.WithLock(t, func() { state, cancelable = t.Info.State, t.Info.Cancelable })
	switch state {
	case types.TaskInfoStateSuccess, types.TaskInfoStateError:
		return &methods.CancelTaskBody{Fault_: simulator.Fault(
			"The operation is not allowed in the current state.", &types.InvalidState{})}
	}
	if !cancelable {
		return &methods.CancelTaskBody{Fault_: simulator.Fault(
			"The operation is not supported on the object.", &types.NotSupported{})}
	}
	return &methods.CancelTaskBody{Res: &types.CancelTaskResponse{}}
}

// PowerOffVMTask powers off through the stock method, in a task the lab
// runs (so --task-delay applies).
func (h *vmHook) PowerOffVMTask(ctx *simulator.Context, req *types.PowerOffVM_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.PowerOffVM_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	task := simulator.CreateTask(vm, "powerOff", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if simulator.Map.Get(vm.Self) == nil {
			return nil, &types.ManagedObjectNotFound{Obj: vm.Self}
		}
		var res soap.HasFault
		withVM(ctx, vm, func() { res = vm.PowerOffVMTask(ctx, req) })
		_, fault := taskOutcome(res)
		return nil, fault
	})
	return &methods.PowerOffVM_TaskBody{Res: &types.PowerOffVM_TaskResponse{Returnval: h.lab.runTask(task, false)}}
}

// DestroyTask destroys the VM through the stock method, in a task the lab
// runs (so --task-delay applies).
func (h *vmHook) DestroyTask(ctx *simulator.Context, req *types.Destroy_Task) soap.HasFault {
	vm := h.vm(ctx)
	if vm == nil {
		return &methods.Destroy_TaskBody{Fault_: notFound(h.real)}
	}
	req.This = vm.Self
	task := simulator.CreateTask(vm, "destroy", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if simulator.Map.Get(vm.Self) == nil {
			return nil, &types.ManagedObjectNotFound{Obj: vm.Self}
		}
		var res soap.HasFault
		withVM(ctx, vm, func() { res = vm.DestroyTask(ctx, req) })
		_, fault := taskOutcome(res)
		if fault == nil {
			dropEverywhere(vm.Self, false) // vanish.go: gone from every view
		}
		return nil, fault
	})
	return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: h.lab.runTask(task, false)}}
}
