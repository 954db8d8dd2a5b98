package main

// The lab's PropertyCollector waits: WaitForUpdatesEx, WaitForUpdates,
// CancelWaitForUpdates and DestroyPropertyCollector (collector_listener.go
// hears the changes, collector_filter.go computes what a filter sees,
// collector_read.go reads the inventory).
//
// The stock simulator (0.24) re-collects every object of every filter of
// the collector once per pending change and per filter, at each 250 ms
// tick: with F filters, U changes and N watched objects a tick costs
// F x U x N property reads, so a client watching a few hundred tasks burns
// minutes of CPU. It also never reports a new filter's objects until some
// unrelated change happens, and keeps reporting stale collectors' changes
// to nobody.
//
// The lab keeps, per collector, a listener (a simulator RegisterObject
// handler) that coalesces changes per object (the last value of each
// property, as vCenter reports changes since a version), and per filter
// the set of objects it sees. A wait then costs what changed: a change is
// matched against the filters that hold its object; a filter with a
// traversal is re-walked (references only) only when an object entered or
// left the inventory or an object of its traversal changed; properties are
// read only for objects that enter. A call answers at once when there are
// changes since the client's version (as vCenter does); otherwise at the
// first 250 ms tick that has some (the stock accumulation tick).

import (
	"context"
	"strconv"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	listenerType  = "LabUpdateListener"
	waitTick      = 250 * time.Millisecond // the stock simulator's accumulation tick
	rootCollector = "propertyCollector"    // ServiceContent.propertyCollector's value
)

// collectorHook receives the routed wait methods of one collector
// reference (the session's root one or one made by CreatePropertyCollector;
// routes.go) and works on the calling session's collector of that reference.
type collectorHook struct{ labHook }

func (h *collectorHook) collector(ctx *simulator.Context) (*simulator.PropertyCollector, *soap.Fault) {
	h.target(ctx) // points ctx at the inventory; the collector itself is the session's
	ref := h.real
	if ctx.Session != nil {
		if pc, ok := ctx.Session.Get(ref).(*simulator.PropertyCollector); ok {
			return pc, nil
		}
	}
	return nil, simulator.Fault("managed object not found: "+ref.Value, &types.ManagedObjectNotFound{Obj: ref})
}

// WaitForUpdatesEx answers with the changes since the last call (all of
// the filters' objects for version ""), waiting up to maxWaitSeconds.
func (h *collectorHook) WaitForUpdatesEx(ctx *simulator.Context, req *types.WaitForUpdatesEx) soap.HasFault {
	body := &methods.WaitForUpdatesExBody{}
	pc, fault := h.collector(ctx)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	var maxWait *int32
	var maxUpdates int32
	if req.Options != nil {
		maxWait, maxUpdates = req.Options.MaxWaitSeconds, req.Options.MaxObjectUpdates
	}
	if maxWait != nil && *maxWait < 0 {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "options.maxWaitSeconds"})
		return body
	}
	if maxUpdates < 0 {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "options.maxObjectUpdates"})
		return body
	}
	lst := listenerFor(ctx, pc)
	if set := lst.resume(req.Version, maxUpdates); set != nil { // collector_truncate.go
		body.Res = &types.WaitForUpdatesExResponse{Returnval: set}
		return body
	}
	set, mf := lst.wait(ctx, pc, req.Version, maxWait)
	if mf != nil {
		body.Fault_ = simulator.Fault("", mf)
		return body
	}
	body.Res = &types.WaitForUpdatesExResponse{Returnval: lst.truncate(set, maxUpdates)}
	return body
}

// WaitForUpdates is the deprecated form: no options, waits until something changes.
func (h *collectorHook) WaitForUpdates(ctx *simulator.Context, req *types.WaitForUpdates) soap.HasFault {
	body := &methods.WaitForUpdatesBody{}
	pc, fault := h.collector(ctx)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	lst := listenerFor(ctx, pc)
	if set := lst.resume(req.Version, 0); set != nil {
		body.Res = &types.WaitForUpdatesResponse{Returnval: *set}
		return body
	}
	set, mf := lst.wait(ctx, pc, req.Version, nil)
	if mf != nil {
		body.Fault_ = simulator.Fault("", mf)
		return body
	}
	body.Res = &types.WaitForUpdatesResponse{Returnval: *set}
	return body
}

// CancelWaitForUpdates ends a wait in progress on the collector with RequestCanceled.
func (h *collectorHook) CancelWaitForUpdates(ctx *simulator.Context, req *types.CancelWaitForUpdates) soap.HasFault {
	body := &methods.CancelWaitForUpdatesBody{}
	pc, fault := h.collector(ctx)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	if lst := findListener(ctx, pc); lst != nil {
		lst.cancelWait()
	}
	body.Res = &types.CancelWaitForUpdatesResponse{}
	return body
}

// DestroyPropertyCollector destroys the collector's filters, then the
// collector (its listener goes with it: RemoveObject).
func (h *collectorHook) DestroyPropertyCollector(ctx *simulator.Context, req *types.DestroyPropertyCollector) soap.HasFault {
	pc, fault := h.collector(ctx)
	if fault != nil {
		return &methods.DestroyPropertyCollectorBody{Fault_: fault}
	}
	if pc.Self.Value == rootCollector {
		return pc.DestroyPropertyCollector(ctx, req) // what the stock simulator does with it
	}
	pagedResults.forget(pc)
	if lst := findListener(ctx, pc); lst != nil {
		lst.cancelWait()
	}
	for _, ref := range append([]types.ManagedObjectReference(nil), pc.Filter...) {
		if f, ok := ctx.Session.Get(ref).(*simulator.PropertyFilter); ok {
			f.DestroyPropertyFilter(ctx, &types.DestroyPropertyFilter{This: ref})
		}
	}
	ctx.Session.Remove(pc.Self)
	ctx.Map.Remove(pc.Self)
	if h.lab != nil && h.lab.hooks != nil {
		h.lab.hooks.drop(h.Self) // collectors are not in the inventory: their hooks go here
	}
	return &methods.DestroyPropertyCollectorBody{Res: &types.DestroyPropertyCollectorResponse{}}
}

// wait is WaitForUpdatesEx: version "" answers at once with every object
// of every filter; otherwise the changes since the last call: at once if
// there are some, else at the first tick that has some, or nil when
// maxWait seconds pass (0: one calculation, at once).
func (lst *updateListener) wait(ctx *simulator.Context, pc *simulator.PropertyCollector, version string,
	maxWait *int32) (*types.UpdateSet, types.BaseMethodFault) {
	wctx, cancel := context.WithCancel(context.Background())
	if maxWait != nil && *maxWait > 0 {
		wctx, cancel = context.WithTimeout(context.Background(), time.Duration(*maxWait)*time.Second)
	}
	defer cancel()
	lst.mu.Lock()
	if lst.gone {
		lst.mu.Unlock()
		return nil, &types.RequestCanceled{}
	}
	lst.cancel = cancel
	lst.mu.Unlock()

	if version == "" || (maxWait != nil && *maxWait == 0) {
		set, fault := lst.calculate(ctx, pc, version == "")
		if fault != nil || version == "" || len(set.FilterSet) != 0 {
			return set, fault
		}
		return nil, nil
	}
	// Changes since the client's version that are there already: at once,
	// as vCenter does. Otherwise the first tick that has some.
	if lst.hasPending() || lst.filtersChanged(ctx, pc) {
		set, fault := lst.calculate(ctx, pc, false)
		if fault != nil || len(set.FilterSet) != 0 {
			return set, fault
		}
	}
	ticker := time.NewTicker(waitTick)
	defer ticker.Stop()
	for {
		select {
		case <-wctx.Done():
			if wctx.Err() == context.Canceled {
				return nil, &types.RequestCanceled{}
			}
			return nil, nil // maxWaitSeconds passed: no updates
		case <-ticker.C:
			if !lst.hasPending() && !lst.filtersChanged(ctx, pc) {
				continue
			}
			set, fault := lst.calculate(ctx, pc, false)
			if fault != nil || len(set.FilterSet) != 0 {
				return set, fault
			}
		}
	}
}

// filtersChanged tells whether the collector has a filter this listener
// has not reported yet.
func (lst *updateListener) filtersChanged(ctx *simulator.Context, pc *simulator.PropertyCollector) bool {
	lst.waitMu.Lock()
	defer lst.waitMu.Unlock()
	for _, ref := range filterRefs(ctx, pc) {
		if lst.filters[ref] == nil {
			return true
		}
	}
	return false
}

func filterRefs(ctx *simulator.Context, pc *simulator.PropertyCollector) []types.ManagedObjectReference {
	return append([]types.ManagedObjectReference(nil), pc.Filter...)
}

// calculate makes one UpdateSet: for each filter of the collector, its
// objects (all of them when full, or for a filter not seen before) or the
// pending changes that concern it.
func (lst *updateListener) calculate(ctx *simulator.Context, pc *simulator.PropertyCollector, full bool) (*types.UpdateSet, types.BaseMethodFault) {
	lst.waitMu.Lock()
	defer lst.waitMu.Unlock()
	order, pending := lst.take()
	refs := filterRefs(ctx, pc)
	live := make(map[types.ManagedObjectReference]bool, len(refs))
	set := &types.UpdateSet{}
	for _, ref := range refs {
		f, ok := ctx.Session.Get(ref).(*simulator.PropertyFilter)
		if !ok {
			continue
		}
		live[ref] = true
		st := lst.filters[ref]
		var objs []types.ObjectUpdate
		var missing []types.MissingObject
		var fault types.BaseMethodFault
		if st == nil || full {
			st = newFilterState(f.Spec)
			objs, fault = st.enterAll(ctx, pc)
			missing = missingObjects(ctx, &f.Spec) // collector_validate.go
			lst.filters[ref] = st
		} else {
			objs, fault = st.changes(ctx, pc, order, pending)
		}
		if fault != nil {
			return nil, fault
		}
		if len(objs) != 0 || len(missing) != 0 {
			set.FilterSet = append(set.FilterSet, types.PropertyFilterUpdate{Filter: ref, ObjectSet: objs, MissingSet: missing})
		}
	}
	for ref := range lst.filters {
		if !live[ref] {
			delete(lst.filters, ref) // DestroyPropertyFilter
		}
	}
	lst.version++
	set.Version = strconv.Itoa(lst.version)
	return set, nil
}
