package main

import (
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// --clone-time: a clone runs (cancelable) for a while; CancelTask ends it
// with RequestCanceled and no VM; a finished task cannot be cancelled.
func TestLongCloneRunsAndCancels(t *testing.T) {
	saved := testLab.opts.CloneTime
	testLab.opts.CloneTime = 2 * time.Second
	defer func() { testLab.opts.CloneTime = saved }()
	e := newLabEnv(t)
	spec := types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Pool: &e.pool}}

	start := func(name string) *object.Task {
		tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, name, spec)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	info := func(tk *object.Task) types.TaskInfo {
		var m mo.Task
		if err := tk.Properties(e.ctx, tk.Reference(), []string{"info"}, &m); err != nil {
			t.Fatal(err)
		}
		return m.Info
	}

	cancelled := start("long-clone-cancelled")
	if in := info(cancelled); in.State != types.TaskInfoStateRunning || !in.Cancelable {
		t.Fatalf("a long clone right after the call: state %s cancelable %v", in.State, in.Cancelable)
	}
	if err := cancelled.Cancel(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, err := cancelled.WaitForResult(e.ctx, nil)
	if faultName(err) != "RequestCanceled" {
		t.Errorf("cancelled clone: %v", err)
	}
	if in := info(cancelled); !in.Cancelled {
		t.Error("info.cancelled not set")
	}
	if _, err := e.f.VirtualMachine(e.ctx, "long-clone-cancelled"); err == nil {
		t.Error("a cancelled clone made its VM")
	}

	done := start("long-clone-done")
	if _, err := done.WaitForResult(e.ctx, nil); err != nil {
		t.Fatal(err)
	}
	if vm, err := e.f.VirtualMachine(e.ctx, "long-clone-done"); err != nil {
		t.Error("the clone made no VM")
	} else {
		e.made = append(e.made, vm)
	}
	if err := done.Cancel(e.ctx); faultName(err) != "InvalidState" {
		t.Errorf("cancel of a finished task: %v", err)
	}
}
