package main

// What one PropertyFilter sees, for the lab's waits (collector.go): the
// objects its spec selects (the ObjectSpecs, and what their traversal specs
// reach), kept between waits so that a change costs a lookup, not a
// re-collection of the filter.

import (
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type moRef = types.ManagedObjectReference

// collectorWork counts what the waits cost: objects looked at by filter
// walks, and objects whose properties were read (tests pin these).
var collectorWork struct {
	walked, read int64
}

type filterState struct {
	spec      types.PropertyFilterSpec
	traverses bool           // some ObjectSpec has a selectSet: the object set can change
	order     []moRef        // the objects the filter sees, in the order they entered
	members   map[moRef]bool //
	sources   map[moRef]bool // objects whose properties the traversal followed
	viewsOnly bool           // every source is a ListView or ContainerView
}

func newFilterState(spec types.PropertyFilterSpec) *filterState {
	st := &filterState{spec: spec, members: map[moRef]bool{}, sources: map[moRef]bool{}}
	for _, o := range spec.ObjectSet {
		if len(o.SelectSet) != 0 {
			st.traverses = true
		}
	}
	return st
}

// enterAll reports every object the filter sees, with its properties.
func (st *filterState) enterAll(ctx *simulator.Context, pc *simulator.PropertyCollector) ([]types.ObjectUpdate, types.BaseMethodFault) {
	order, members, sources, fault := st.walk(ctx)
	if fault != nil {
		return nil, fault
	}
	st.setWalk(order, members, sources)
	return st.enter(ctx, pc, order)
}

// changes reports what the pending changes mean for this filter: objects
// that left it or entered it, and changed properties it asks for.
func (st *filterState) changes(ctx *simulator.Context, pc *simulator.PropertyCollector, order []moRef,
	pending map[moRef]*pendingObject) ([]types.ObjectUpdate, types.BaseMethodFault) {
	var out []types.ObjectUpdate
	var entered []moRef
	if st.traverses && st.mayHaveMoved(order, pending) {
		newOrder, members, sources, fault := st.walk(ctx)
		if fault != nil {
			return nil, fault
		}
		for _, ref := range st.order {
			if !members[ref] {
				out = append(out, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
			}
		}
		for _, ref := range newOrder {
			if !st.members[ref] {
				entered = append(entered, ref)
			}
		}
		for _, ref := range order {
			if p := pending[ref]; p.kind == types.ObjectUpdateKindModify && st.members[ref] && members[ref] {
				if cs := st.match(ctx, pc, ref, p.changes); len(cs) != 0 {
					out = append(out, types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: ref, ChangeSet: cs})
				}
			}
		}
		st.setWalk(newOrder, members, sources)
	} else {
		left := false
		for _, ref := range order {
			if !st.members[ref] {
				continue
			}
			switch p := pending[ref]; p.kind {
			case types.ObjectUpdateKindLeave:
				out = append(out, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
				delete(st.members, ref)
				left = true
			case types.ObjectUpdateKindModify:
				if cs := st.match(ctx, pc, ref, p.changes); len(cs) != 0 {
					out = append(out, types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: ref, ChangeSet: cs})
				}
			}
		}
		if left {
			kept := st.order[:0]
			for _, ref := range st.order {
				if st.members[ref] {
					kept = append(kept, ref)
				}
			}
			st.order = kept
		}
	}
	if len(entered) != 0 {
		objs, fault := st.enter(ctx, pc, entered)
		if fault != nil {
			return nil, fault
		}
		out = append(out, objs...)
	}
	return out, nil
}

func (st *filterState) setWalk(order []moRef, members, sources map[moRef]bool) {
	st.order, st.members, st.sources = order, members, sources
	st.viewsOnly = true
	for ref := range sources {
		if ref.Type != "ListView" && ref.Type != "ContainerView" {
			st.viewsOnly = false
		}
	}
}

// mayHaveMoved tells whether the traversal may now reach other objects: an
// object it follows changed, or (unless it follows only views, whose view
// property the simulator updates whenever their content changes) an object
// entered or left the inventory. Members that leave are handled without it.
func (st *filterState) mayHaveMoved(order []moRef, pending map[moRef]*pendingObject) bool {
	for _, ref := range order {
		if st.sources[ref] || (!st.viewsOnly && pending[ref].kind != types.ObjectUpdateKindModify) {
			return true
		}
	}
	return false
}

// walk finds the objects the spec selects, as the stock RetrievePropertiesEx
// does (an ObjectSpec's object unless skipped, then its traversal specs),
// keeping those whose type some PropertySpec asks for. References only.
func (st *filterState) walk(ctx *simulator.Context) ([]moRef, map[moRef]bool, map[moRef]bool, types.BaseMethodFault) {
	named := map[string]*types.TraversalSpec{}
	var collect func([]types.BaseSelectionSpec)
	collect = func(ss []types.BaseSelectionSpec) {
		for _, s := range ss {
			if ts, ok := s.(*types.TraversalSpec); ok && named[ts.Name] == nil {
				if ts.Name != "" {
					named[ts.Name] = ts
				}
				collect(ts.SelectSet)
			}
		}
	}
	for _, o := range st.spec.ObjectSet {
		collect(o.SelectSet)
	}

	var order []moRef
	members, sources := map[moRef]bool{}, map[moRef]bool{}
	seen := map[moRef]bool{}
	add := func(ref moRef) {
		if seen[ref] {
			return
		}
		seen[ref] = true
		atomic.AddInt64(&collectorWork.walked, 1)
		if rtype, ok := objectType(ctx, ref); ok && st.wants(ref, rtype) {
			members[ref] = true
			order = append(order, ref)
		}
	}
	type visit struct {
		ref moRef
		ts  *types.TraversalSpec
	}
	visited := map[visit]bool{}
	var fault types.BaseMethodFault
	var follow func(moRef, []types.BaseSelectionSpec)
	follow = func(obj moRef, ss []types.BaseSelectionSpec) {
		for _, s := range ss {
			ts, ok := s.(*types.TraversalSpec)
			if !ok {
				if ts = named[s.GetSelectionSpec().Name]; ts == nil {
					fault = &types.InvalidArgument{InvalidProperty: "undefined TraversalSpec name"}
					return
				}
			}
			if visited[visit{obj, ts}] {
				continue
			}
			visited[visit{obj, ts}] = true
			sources[obj] = true
			for _, ref := range pathRefs(ctx, obj, ts.Path) {
				if isFalse(ts.Skip) {
					add(ref)
				}
				if len(ts.SelectSet) != 0 {
					follow(ref, ts.SelectSet)
				}
			}
		}
	}
	for _, o := range st.spec.ObjectSet {
		if _, ok := objectType(ctx, o.Obj); !ok {
			continue // gone: it leaves the filter (vCenter reports leave; the stock simulator faults)
		}
		if o.SelectSet == nil || isFalse(o.Skip) {
			add(o.Obj)
		}
		follow(o.Obj, o.SelectSet)
	}
	return order, members, sources, fault
}

// wants tells whether a PropertySpec of the filter is for objects of this type.
func (st *filterState) wants(ref moRef, rtype reflect.Type) bool {
	for _, p := range st.spec.PropSet {
		if typeMatches(ref, rtype, p.Type) {
			return true
		}
	}
	return false
}

// typeMatches: the object is of type name, or embeds it (ManagedEntity, ComputeResource...).
func typeMatches(ref moRef, rtype reflect.Type, name string) bool {
	if name == ref.Type || name == rtype.Name() {
		return true
	}
	f, ok := rtype.FieldByName(name)
	return ok && f.Anonymous
}

// enter reports refs as entering the filter, with the properties it asks for.
func (st *filterState) enter(ctx *simulator.Context, pc *simulator.PropertyCollector, refs []moRef) ([]types.ObjectUpdate, types.BaseMethodFault) {
	if len(refs) == 0 {
		return nil, nil
	}
	objs := make([]types.ObjectSpec, len(refs))
	for i, ref := range refs {
		objs[i] = types.ObjectSpec{Obj: ref}
	}
	contents, fault := retrieve(ctx, pc, objs, st.spec.PropSet)
	if fault != nil {
		return nil, fault
	}
	out := make([]types.ObjectUpdate, 0, len(refs))
	for _, ref := range refs {
		c, ok := contents[ref]
		if !ok {
			continue // gone meanwhile
		}
		out = append(out, types.ObjectUpdate{Kind: types.ObjectUpdateKindEnter, Obj: ref, ChangeSet: c})
	}
	return out, nil
}

// match keeps the changes the filter asks for. A change inside an asked
// property (guest.ipAddress for guest) or of a parent of one (guest for
// guest.ipAddress) is reported as the asked property's current value.
func (st *filterState) match(ctx *simulator.Context, pc *simulator.PropertyCollector, ref moRef, changes []types.PropertyChange) []types.PropertyChange {
	rtype, ok := objectType(ctx, ref)
	if !ok {
		return nil
	}
	var out []types.PropertyChange
	seen := map[string]bool{}
	var reread []string
	for _, c := range changes {
		for _, p := range st.spec.PropSet {
			if !typeMatches(ref, rtype, p.Type) {
				continue
			}
			if isTrue(p.All) {
				if !seen[c.Name] {
					seen[c.Name] = true
					out = append(out, c)
				}
				continue
			}
			for _, name := range p.PathSet {
				switch {
				case seen[name]:
				case name == c.Name:
					seen[name] = true
					out = append(out, c)
				case strings.HasPrefix(c.Name, name+"."), strings.HasPrefix(name, c.Name+"."):
					seen[name] = true
					reread = append(reread, name)
				}
			}
		}
	}
	if len(reread) != 0 {
		prop := []types.PropertySpec{{Type: ref.Type, PathSet: reread}}
		if contents, fault := retrieve(ctx, pc, []types.ObjectSpec{{Obj: ref}}, prop); fault == nil {
			out = append(out, contents[ref]...)
		}
	}
	return out
}
