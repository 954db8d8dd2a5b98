package main

// vCenter's admission of provisioning operations (README "Admission").
//
// vCenter gives each operation a cost and each resource a maximum ("Limits
// on Simultaneous Migrations", vCenter Server and Host Management; the
// VMware performance blog "vCenter Limits for Tasks Running at the Same
// Time", 2021): each ESXi 6.x/7.x host has 16 units; an operation is charged
// on its source host and on its destination host (both charges on one host
// when they are the same); a full clone costs 2 units per side, a linked
// clone 1; vCenter runs about 640 operations at once. An operation that
// would exceed a maximum is not refused: its task waits in vCenter's queue
// (TaskInfo.state queued, queueTime) until running operations release
// units, then runs (state running, startTime).
//
// The lab charges the clones it runs (CloneVM_Task, full or linked, and
// InstantClone_Task, charged as a linked clone on its one host), admits an
// operation as soon as it fits (a later one may pass an earlier one that does
// not), and otherwise admits the queue in arrival order as units free up.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// AdmissionSettings is the cost model (--host-units, --full-clone-cost,
// --linked-clone-cost, --max-operations) and the clone times beside
// --clone-time.
type AdmissionSettings struct {
	HostUnits        int           `json:"host_units"`        // units per host; 0: no per-host limit
	FullCloneCost    int           `json:"full_clone_cost"`   // units on each side of a full clone
	LinkedCloneCost  int           `json:"linked_clone_cost"` // units on each side of a linked or instant clone
	MaxOperations    int           `json:"max_operations"`    // operations at once; 0: no limit
	LinkedCloneTime  time.Duration `json:"-"`                 // negative: a tenth of the clone time
	InstantCloneTime time.Duration `json:"-"`
}

// Validate refuses settings under which an operation could never start.
func (s AdmissionSettings) Validate() error {
	if s.HostUnits < 0 || s.FullCloneCost < 0 || s.LinkedCloneCost < 0 || s.MaxOperations < 0 || s.InstantCloneTime < 0 {
		return fmt.Errorf("negative admission setting")
	}
	for _, cost := range []int{s.FullCloneCost, s.LinkedCloneCost} {
		if s.HostUnits > 0 && 2*cost > s.HostUnits {
			return fmt.Errorf("a clone to its source's own host costs %d units, more than --host-units %d: it could never run",
				2*cost, s.HostUnits)
		}
	}
	return nil
}

const (
	fullClone    = "full"
	linkedClone  = "linked"
	instantClone = "instant"
)

// provisioning is one admitted or queued operation.
type provisioning struct {
	task     *simulator.Task
	charges  map[string]int // host moref value -> units
	queued   time.Time
	admitted chan struct{} // closed when admitted from the queue
}

type hostUse struct {
	name       string
	inUse      int
	peak       int
	operations int // admitted so far
}

// admission is the lab's ledger: units in use per host, operations running,
// the queue, and what /debug/admission reports.
type admission struct {
	mu          sync.Mutex
	set         AdmissionSettings
	hosts       map[string]*hostUse
	running     int
	queue       []*provisioning
	peakRunning int
	peakQueued  int
	admitted    int
	waited      int           // operations that were queued before they ran
	queuedTotal time.Duration // time operations spent queued
	queuedMax   time.Duration
}

func newAdmission(set AdmissionSettings) *admission {
	return &admission{set: set, hosts: map[string]*hostUse{}}
}

// newOp prices a clone of kind from host src to host dst (nil: the source's).
func (a *admission) newOp(t *simulator.Task, kind string, src, dst *simulator.HostSystem) *provisioning {
	if dst == nil {
		dst = src
	}
	a.mu.Lock()
	cost := a.set.FullCloneCost
	if kind != fullClone {
		cost = a.set.LinkedCloneCost
	}
	a.mu.Unlock()
	p := &provisioning{task: t, charges: map[string]int{}, admitted: make(chan struct{})}
	for _, h := range []*simulator.HostSystem{src, dst} {
		if h != nil {
			p.charges[h.Self.Value] += cost
			a.hostNamed(h)
		}
	}
	return p
}

func (a *admission) hostNamed(h *simulator.HostSystem) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hosts[h.Self.Value] == nil {
		a.hosts[h.Self.Value] = &hostUse{name: h.Name}
	}
}

// fits says whether p can run now (a.mu held).
func (a *admission) fits(p *provisioning) bool {
	if a.set.MaxOperations > 0 && a.running >= a.set.MaxOperations {
		return false
	}
	if a.set.HostUnits <= 0 {
		return true
	}
	for host, units := range p.charges {
		if a.hosts[host].inUse+units > a.set.HostUnits {
			return false
		}
	}
	return true
}

// take charges p (a.mu held).
func (a *admission) take(p *provisioning) {
	for host, units := range p.charges {
		h := a.hosts[host]
		h.inUse += units
		h.operations++
		if h.inUse > h.peak {
			h.peak = h.inUse
		}
	}
	a.running++
	a.admitted++
	if a.running > a.peakRunning {
		a.peakRunning = a.running
	}
}

// request admits p at once (true) or queues it (false; p.admitted closes
// when it is admitted).
func (a *admission) request(p *provisioning) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fits(p) {
		a.take(p)
		return true
	}
	p.queued = time.Now()
	a.queue = append(a.queue, p)
	if len(a.queue) > a.peakQueued {
		a.peakQueued = len(a.queue)
	}
	return false
}

// release frees p's units and admits, in arrival order, the queued
// operations that now fit.
func (a *admission) release(p *provisioning) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for host, units := range p.charges {
		a.hosts[host].inUse -= units
	}
	a.running--
	rest := a.queue[:0]
	for _, q := range a.queue {
		if !a.fits(q) {
			rest = append(rest, q)
			continue
		}
		a.take(q)
		wait := time.Since(q.queued)
		a.waited++
		a.queuedTotal += wait
		if wait > a.queuedMax {
			a.queuedMax = wait
		}
		close(q.admitted)
	}
	for i := len(rest); i < len(a.queue); i++ {
		a.queue[i] = nil
	}
	a.queue = rest
}

// withdraw takes p out of the queue (a cancel); false if it was admitted.
func (a *admission) withdraw(p *provisioning) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, q := range a.queue {
		if q == p {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			return true
		}
	}
	return false
}

// cloneTime is how long a clone of kind runs once admitted.
func (l *Lab) cloneTime(kind string) time.Duration {
	l.admission.mu.Lock()
	defer l.admission.mu.Unlock()
	switch kind {
	case linkedClone:
		if d := l.admission.set.LinkedCloneTime; d >= 0 {
			return d
		}
		return l.opts.CloneTime / 10
	case instantClone:
		return l.admission.set.InstantCloneTime
	}
	return l.opts.CloneTime
}

// runProvisioning runs t, a clone of kind from host src to host dst, as
// vCenter admits it: at once when it fits, else queued until it does; then
// it runs for the clone time (or the task delay, if longer). Without a time
// it is done within the call, as before.
func (l *Lab) runProvisioning(t *simulator.Task, kind string, src, dst *simulator.HostSystem, cancelable bool) types.ManagedObjectReference {
	if cancelable {
		simulator.Map.Update(t, []types.PropertyChange{{Name: "info.cancelable", Val: true}})
	}
	delay := l.faults.taskDelay()
	if d := l.cloneTime(kind); d > delay {
		delay = d
	}
	p := l.admission.newOp(t, kind, src, dst)
	now := l.admission.request(p)
	if now && delay <= 0 {
		ref := t.Run()
		l.admission.release(p)
		setTaskFaultMessage(ref)
		return ref
	}
	pend := &pendingTask{cancelable: cancelable, cancel: make(chan struct{})}
	l.tasks.put(t.Self.Value, pend)
	if now {
		markRunning(t)
	}
	go l.provision(p, pend, now, delay)
	return t.Self
}

// provision waits for p's admission (unless admitted), runs it for delay,
// then does its work; a cancel ends it at any point before that.
func (l *Lab) provision(p *provisioning, pend *pendingTask, admitted bool, delay time.Duration) {
	t := p.task
	defer l.tasks.drop(t.Self.Value)
	if !admitted {
		select {
		case <-p.admitted:
		case <-pend.cancel:
			if l.admission.withdraw(p) {
				finishCanceled(t)
				return
			}
			<-p.admitted // admitted meanwhile: it ends as a canceled running task
			l.admission.release(p)
			finishCanceled(t)
			return
		}
		markRunning(t)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-pend.cancel:
		l.admission.release(p)
		finishCanceled(t)
		return
	}
	completeTask(t)
	l.admission.release(p)
}

// markRunning: t leaves the queue.
func markRunning(t *simulator.Task) {
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.state", Val: types.TaskInfoStateRunning},
		{Name: "info.startTime", Val: time.Now()},
	})
}

// completeTask does t's work and ends it, as simulator.Task.Run does but
// keeping the startTime it got when it began running.
func completeTask(t *simulator.Task) {
	res, err := t.Execute(t)
	state := types.TaskInfoStateSuccess
	var fault interface{}
	if err != nil {
		state = types.TaskInfoStateError
		fault = types.LocalizedMethodFault{Fault: err, LocalizedMessage: fmt.Sprintf("%T", err)}
	}
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: res},
		{Name: "info.error", Val: fault},
	})
	setTaskFaultMessage(t.Self)
}

type admissionHost struct {
	InUse      int `json:"in_use"`
	Peak       int `json:"peak"`
	Operations int `json:"operations"`
}

type admissionReport struct {
	AdmissionSettings
	CloneTime        string                   `json:"clone_time"`
	LinkedCloneTime  string                   `json:"linked_clone_time"`
	InstantCloneTime string                   `json:"instant_clone_time"`
	Running          int                      `json:"running"`
	Queued           int                      `json:"queued"`
	PeakRunning      int                      `json:"peak_running"`
	PeakQueued       int                      `json:"peak_queued"`
	Admitted         int                      `json:"admitted"`
	Waited           int                      `json:"waited"`
	QueuedSeconds    float64                  `json:"queued_seconds"`
	MaxQueuedSeconds float64                  `json:"max_queued_seconds"`
	Hosts            map[string]admissionHost `json:"hosts"`
}

// serveDebugAdmission: GET /debug/admission reports the model, the units in
// use and their peak per host (by name), and the time operations spent
// queued; ?reset=1 then zeroes the peaks and totals.
func (l *Lab) serveDebugAdmission(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET", http.StatusMethodNotAllowed)
		return
	}
	clone, linked, instant := l.cloneTime(fullClone), l.cloneTime(linkedClone), l.cloneTime(instantClone)
	a := l.admission
	a.mu.Lock()
	rep := admissionReport{AdmissionSettings: a.set, CloneTime: clone.String(), LinkedCloneTime: linked.String(),
		InstantCloneTime: instant.String(), Running: a.running, Queued: len(a.queue), PeakRunning: a.peakRunning,
		PeakQueued: a.peakQueued, Admitted: a.admitted, Waited: a.waited, QueuedSeconds: a.queuedTotal.Seconds(),
		MaxQueuedSeconds: a.queuedMax.Seconds(), Hosts: map[string]admissionHost{}}
	for _, h := range a.hosts {
		if h.peak > 0 || h.inUse > 0 {
			rep.Hosts[h.name] = admissionHost{InUse: h.inUse, Peak: h.peak, Operations: h.operations}
		}
	}
	if r.URL.Query().Get("reset") != "" {
		a.peakRunning, a.peakQueued, a.admitted, a.waited = a.running, len(a.queue), 0, 0
		a.queuedTotal, a.queuedMax = 0, 0
		for _, h := range a.hosts {
			h.peak, h.operations = h.inUse, 0
		}
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}

// cloneKind is a CloneVM_Task's kind: linked when it makes child disks.
func cloneKind(spec *types.VirtualMachineCloneSpec) string {
	if spec.Location.DiskMoveType == string(types.VirtualMachineRelocateDiskMoveOptionsCreateNewChildDiskBacking) {
		return linkedClone
	}
	return fullClone
}

// hostOf is the HostSystem ref names, or nil.
func hostOf(ref *types.ManagedObjectReference) *simulator.HostSystem {
	if ref == nil {
		return nil
	}
	h, _ := simulator.Map.Get(*ref).(*simulator.HostSystem)
	return h
}
