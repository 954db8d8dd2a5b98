package main

// Long tasks, as on real storage: a full clone of a large disk takes many
// minutes, during which vCenter shows the task running (info.state running,
// info.cancelable true) and CancelTask stops it. With --clone-time D a
// CloneVM_Task answers at once with a running task that does its work D
// later; CancelTask before then ends it with RequestCanceled
// (info.cancelled true) and no clone. CancelTask on a finished task is
// vSphere's InvalidState; on a task that cannot be cancelled, NotSupported.
// The stock simulator runs every task to its end inside the call and has
// no CancelTask.

import (
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// slowTasks are the lab's running long tasks: task moref value -> cancel.
type slowTasks struct {
	mu     sync.Mutex
	cancel map[string]chan struct{}
}

// runLater marks task running and cancelable, and runs it after d unless
// it is cancelled first; after runs once the task has ended.
func (l *Lab) runLater(task *simulator.Task, d time.Duration, after func(types.ManagedObjectReference)) {
	cancel := make(chan struct{})
	l.slow.mu.Lock()
	if l.slow.cancel == nil {
		l.slow.cancel = make(map[string]chan struct{})
	}
	l.slow.cancel[task.Self.Value] = cancel
	l.slow.mu.Unlock()
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
		{Name: "info.cancelable", Val: true},
	})
	go func() {
		defer func() {
			l.slow.mu.Lock()
			delete(l.slow.cancel, task.Self.Value)
			l.slow.mu.Unlock()
		}()
		select {
		case <-time.After(d):
			task.Run()
		case <-cancel:
			simulator.Map.Update(task, []types.PropertyChange{
				{Name: "info.completeTime", Val: time.Now()},
				{Name: "info.cancelled", Val: true},
				{Name: "info.state", Val: types.TaskInfoStateError},
				{Name: "info.error", Val: types.LocalizedMethodFault{
					Fault: &types.RequestCanceled{}, LocalizedMessage: "The task was canceled by a user."}},
			})
		}
		after(task.Self)
	}()
}

// taskHook receives the routed methods of one task.
type taskHook struct{ labHook }

// CancelTask cancels a running long task of the lab.
func (h *taskHook) CancelTask(ctx *simulator.Context, req *types.CancelTask) soap.HasFault {
	task, ok := h.target(ctx).(*simulator.Task)
	if !ok {
		return &methods.CancelTaskBody{Fault_: notFound(h.real)}
	}
	h.lab.slow.mu.Lock()
	cancel := h.lab.slow.cancel[task.Self.Value]
	if cancel != nil {
		delete(h.lab.slow.cancel, task.Self.Value)
		close(cancel)
	}
	h.lab.slow.mu.Unlock()
	if cancel != nil {
		return &methods.CancelTaskBody{Res: &types.CancelTaskResponse{}}
	}
	var state types.TaskInfoState
	simulator.Map.WithLock(task, func() { state = task.Info.State })
	if state == types.TaskInfoStateSuccess || state == types.TaskInfoStateError {
		return &methods.CancelTaskBody{Fault_: simulator.Fault("The operation is not allowed in the current state.",
			&types.InvalidState{})}
	}
	return &methods.CancelTaskBody{Fault_: simulator.Fault("The operation is not supported on the object.",
		&types.NotSupported{})}
}
