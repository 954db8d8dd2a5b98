package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// withAdmission runs the test with vCenter's documented model and clone time d.
func withAdmission(t *testing.T, d time.Duration) *labEnv {
	savedTime, savedSet := testLab.opts.CloneTime, testLab.admission.set
	testLab.opts.CloneTime = d
	testLab.admission.mu.Lock()
	testLab.admission.set = AdmissionSettings{HostUnits: 16, FullCloneCost: 2, LinkedCloneCost: 1, MaxOperations: 640,
		LinkedCloneTime: -1}
	testLab.admission.mu.Unlock()
	t.Cleanup(func() {
		testLab.opts.CloneTime = savedTime
		testLab.admission.mu.Lock()
		testLab.admission.set = savedSet
		testLab.admission.mu.Unlock()
	})
	e := newLabEnv(t)
	readAdmission(t, true)
	return e
}

func readAdmission(t *testing.T, reset bool) admissionReport {
	path := "/debug/admission"
	if reset {
		path += "?reset=1"
	}
	resp, err := labHTTP(t).Get(labURL(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := ioutil.ReadAll(resp.Body)
	var rep admissionReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return rep
}

// startClones submits n clones of the template to host h without waiting.
func (e *labEnv) startClones(prefix string, n int, h *object.HostSystem, linked bool) []*object.Task {
	pool, host := e.poolOf(h), h.Reference()
	spec := types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Pool: &pool, Host: &host}}
	if linked {
		var m mo.VirtualMachine
		if err := e.tmpl.Properties(e.ctx, e.tmpl.Reference(), []string{"snapshot"}, &m); err != nil {
			e.t.Fatal(err)
		}
		spec.Snapshot = m.Snapshot.CurrentSnapshot
		spec.Location.DiskMoveType = string(types.VirtualMachineRelocateDiskMoveOptionsCreateNewChildDiskBacking)
	}
	var tasks []*object.Task
	for i := 0; i < n; i++ {
		tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, fmt.Sprintf("%s-%02d", prefix, i), spec)
		if err != nil {
			e.t.Fatal(err)
		}
		tasks = append(tasks, tk)
	}
	return tasks
}

func (e *labEnv) taskInfos(tasks []*object.Task) []types.TaskInfo {
	var out []types.TaskInfo
	for _, tk := range tasks {
		var m mo.Task
		if err := tk.Properties(e.ctx, tk.Reference(), []string{"info"}, &m); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m.Info)
	}
	return out
}

// waitClones waits for every task and keeps the VMs for cleanup.
func (e *labEnv) waitClones(tasks []*object.Task) {
	for _, tk := range tasks {
		if _, err := e.taskVM(tk); err != nil {
			e.t.Errorf("clone: %v", err)
		}
	}
}

func countStates(infos []types.TaskInfo) map[types.TaskInfoState]int {
	out := map[types.TaskInfoState]int{}
	for _, in := range infos {
		out[in.State]++
	}
	return out
}

// 16 full clones of one template to another host: the template's host has 16
// units, each clone takes 2 there, so 8 run and 8 wait queued (queueTime set,
// no startTime) until the first ones end.
func TestAdmissionFullClonesOfOneTemplateRunEightAtATime(t *testing.T) {
	e := withAdmission(t, time.Second)
	tasks := e.startClones("adm-full", 16, e.host(2), false)
	states := countStates(e.taskInfos(tasks))
	if states[types.TaskInfoStateRunning] != 8 || states[types.TaskInfoStateQueued] != 8 {
		t.Errorf("right after 16 calls: %v, want 8 running and 8 queued", states)
	}
	for _, in := range e.taskInfos(tasks) {
		if in.State == types.TaskInfoStateQueued && (in.StartTime != nil || in.QueueTime.IsZero()) {
			t.Errorf("a queued task: startTime %v, queueTime %v", in.StartTime, in.QueueTime)
		}
	}
	e.waitClones(tasks)
	rep := readAdmission(t, false)
	if rep.Hosts[HostName(1)].Peak != 16 || rep.Hosts[HostName(2)].Peak != 16 || rep.Waited != 8 || rep.PeakRunning != 8 {
		t.Errorf("report: %+v", rep)
	}
	if rep.MaxQueuedSeconds < 0.5 {
		t.Errorf("the queued clones waited %.2fs, want about a clone time", rep.MaxQueuedSeconds)
	}
	for _, in := range e.taskInfos(tasks) {
		if in.StartTime == nil || in.CompleteTime == nil || in.CompleteTime.Sub(*in.StartTime) < 900*time.Millisecond {
			t.Errorf("a clone's start %v and end %v: want a clone time between them", in.StartTime, in.CompleteTime)
		}
	}
}

// Clones to the source's own host take both charges there: 4 at a time.
func TestAdmissionClonesToTheSourcesHostRunFourAtATime(t *testing.T) {
	e := withAdmission(t, time.Second)
	tasks := e.startClones("adm-same", 6, e.host(HPCClusterHost), false)
	states := countStates(e.taskInfos(tasks))
	if states[types.TaskInfoStateRunning] != 4 || states[types.TaskInfoStateQueued] != 2 {
		t.Errorf("6 clones to the template's host: %v, want 4 running and 2 queued", states)
	}
	e.waitClones(tasks)
	if rep := readAdmission(t, false); rep.Hosts[HostName(HPCClusterHost)].Peak != 16 || rep.PeakRunning != 4 {
		t.Errorf("report: %+v", rep)
	}
}

// A linked clone costs 1 unit per side: 16 of one template fit at once.
func TestAdmissionLinkedClonesCostOneUnit(t *testing.T) {
	e := withAdmission(t, time.Second)
	tasks := e.startClones("adm-linked", 16, e.host(3), true)
	if states := countStates(e.taskInfos(tasks)); states[types.TaskInfoStateQueued] != 0 {
		t.Errorf("16 linked clones: %v queued", states)
	}
	e.waitClones(tasks)
	if rep := readAdmission(t, false); rep.Waited != 0 || rep.LinkedCloneTime != "100ms" {
		t.Errorf("report: %+v", rep)
	}
}

// A queued clone can be cancelled: it never runs and makes no VM.
func TestAdmissionQueuedCloneCancels(t *testing.T) {
	e := withAdmission(t, time.Second)
	tasks := e.startClones("adm-cancel", 9, e.host(4), false)
	last := tasks[8]
	if in := e.taskInfos([]*object.Task{last})[0]; in.State != types.TaskInfoStateQueued || !in.Cancelable {
		t.Fatalf("the ninth clone: %s cancelable %v", in.State, in.Cancelable)
	}
	if err := last.Cancel(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := last.WaitForResult(e.ctx, nil); faultName(err) != "RequestCanceled" {
		t.Errorf("cancelled queued clone: %v", err)
	}
	e.waitClones(tasks[:8])
	if _, err := e.f.VirtualMachine(e.ctx, "adm-cancel-08"); err == nil {
		t.Error("a cancelled queued clone made its VM")
	}
	if rep := readAdmission(t, false); rep.Running != 0 || rep.Queued != 0 || rep.Hosts[HostName(1)].InUse != 0 {
		t.Errorf("units left in use: %+v", rep)
	}
}

// Settings under which a clone could never run are refused.
func TestAdmissionSettingsValidate(t *testing.T) {
	if err := (AdmissionSettings{HostUnits: 3, FullCloneCost: 2, LinkedCloneCost: 1}).Validate(); err == nil {
		t.Error("3 units per host admit no same-host full clone (4 units)")
	}
	if err := (AdmissionSettings{HostUnits: 16, FullCloneCost: 2, LinkedCloneCost: 1, MaxOperations: 640}).Validate(); err != nil {
		t.Error(err)
	}
}
