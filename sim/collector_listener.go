package main

// The listener of a collector that waits (collector.go): a simulator
// RegisterObject handler that hears every inventory change and keeps them,
// coalesced per object, for the collector's next wait.

import (
	"context"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var listeners = struct {
	sync.Mutex
	m map[string]*updateListener // session key + collector value
}{m: map[string]*updateListener{}}

func listenerKey(ctx *simulator.Context, pc *simulator.PropertyCollector) string {
	return ctx.Session.Key + "/" + pc.Self.Value
}

func findListener(ctx *simulator.Context, pc *simulator.PropertyCollector) *updateListener {
	listeners.Lock()
	defer listeners.Unlock()
	return listeners.m[listenerKey(ctx, pc)]
}

// listenerFor returns the collector's listener, making it on the first wait.
// It is registered with the inventory (to hear every change) and in the
// session (whose Logout removes it, as it removes the session's collectors).
func listenerFor(ctx *simulator.Context, pc *simulator.PropertyCollector) *updateListener {
	key := listenerKey(ctx, pc)
	listeners.Lock()
	defer listeners.Unlock()
	if lst := listeners.m[key]; lst != nil {
		return lst
	}
	lst := &updateListener{
		key:     key,
		pc:      pc.Self,
		session: ctx.Session,
		pending: map[types.ManagedObjectReference]*pendingObject{},
		filters: map[types.ManagedObjectReference]*filterState{},
	}
	lst.Self = types.ManagedObjectReference{Type: listenerType, Value: key}
	listeners.m[key] = lst
	ctx.Session.Registry.Put(lst)
	simulator.Map.AddHandler(lst)
	return lst
}

// updateListener hears every inventory change (simulator.RegisterObject)
// and keeps them, coalesced per object, for its collector's next wait.
type updateListener struct {
	mo.ExtensibleManagedObject
	key     string
	pc      types.ManagedObjectReference
	session *simulator.Session

	mu      sync.Mutex
	pending map[types.ManagedObjectReference]*pendingObject
	order   []types.ManagedObjectReference // pending objects in the order they first changed
	cancel  context.CancelFunc
	gone    bool

	waitMu  sync.Mutex // one update calculation at a time
	version int
	filters map[types.ManagedObjectReference]*filterState
	rest    []types.PropertyFilterUpdate // a truncated answer's rest (collector_truncate.go)
}

// pendingObject is what happened to one object since the last wait.
type pendingObject struct {
	kind    types.ObjectUpdateKind
	changes []types.PropertyChange // modify: the last value of each property
	index   map[string]int
}

func (*updateListener) Lock()   {}
func (*updateListener) Unlock() {}

func (lst *updateListener) note(ref types.ManagedObjectReference, kind types.ObjectUpdateKind, changes []types.PropertyChange) {
	lst.mu.Lock()
	defer lst.mu.Unlock()
	if lst.gone {
		return
	}
	p := lst.pending[ref]
	if p == nil {
		p = &pendingObject{kind: kind}
		lst.pending[ref] = p
		lst.order = append(lst.order, ref)
	}
	switch kind {
	case types.ObjectUpdateKindEnter, types.ObjectUpdateKindLeave:
		p.kind, p.changes, p.index = kind, nil, nil // an entering object is read whole
	case types.ObjectUpdateKindModify:
		if p.kind != types.ObjectUpdateKindModify {
			return
		}
		if p.index == nil {
			p.index = map[string]int{}
		}
		for _, c := range changes {
			if i, ok := p.index[c.Name]; ok {
				p.changes[i] = c
			} else {
				p.index[c.Name] = len(p.changes)
				p.changes = append(p.changes, c)
			}
		}
	}
}

func (lst *updateListener) PutObject(o mo.Reference) {
	lst.note(o.Reference(), types.ObjectUpdateKindEnter, nil)
}

func (lst *updateListener) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	lst.note(o.Reference(), types.ObjectUpdateKindModify, changes)
}

func (lst *updateListener) RemoveObject(ref types.ManagedObjectReference) {
	if ref == lst.pc || ref == lst.Self {
		lst.close() // DestroyPropertyCollector, or the session's Logout
		return
	}
	lst.note(ref, types.ObjectUpdateKindLeave, nil)
}

// close forgets the listener: its collector is gone.
func (lst *updateListener) close() {
	lst.mu.Lock()
	if lst.gone {
		lst.mu.Unlock()
		return
	}
	lst.gone = true
	lst.pending, lst.order = nil, nil
	if lst.cancel != nil {
		lst.cancel()
	}
	lst.mu.Unlock()
	listeners.Lock()
	delete(listeners.m, lst.key)
	listeners.Unlock()
	simulator.Map.RemoveHandler(lst)
	lst.session.Registry.Remove(lst.Self)
}

func (lst *updateListener) cancelWait() {
	lst.mu.Lock()
	if lst.cancel != nil {
		lst.cancel()
	}
	lst.mu.Unlock()
}

// take returns the pending changes in order and starts a new batch.
func (lst *updateListener) take() ([]types.ManagedObjectReference, map[types.ManagedObjectReference]*pendingObject) {
	lst.mu.Lock()
	defer lst.mu.Unlock()
	order, pending := lst.order, lst.pending
	lst.order, lst.pending = nil, map[types.ManagedObjectReference]*pendingObject{}
	return order, pending
}

func (lst *updateListener) hasPending() bool {
	lst.mu.Lock()
	defer lst.mu.Unlock()
	return len(lst.order) != 0
}
