package main

// Reading the inventory for the lab's waits (collector.go): properties
// through the stock RetrievePropertiesEx, object types and references by
// reflection, as the stock property collector does.

import (
	"path"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// retrieve reads props of objs with the stock RetrievePropertiesEx, as
// changes; a property that is unset is reported with no value (the stock
// retrieve leaves it out, the stock wait sent it).
func retrieve(ctx *simulator.Context, pc *simulator.PropertyCollector, objs []types.ObjectSpec,
	props []types.PropertySpec) (map[moRef][]types.PropertyChange, types.BaseMethodFault) {
	atomic.AddInt64(&collectorWork.read, int64(len(objs)))
	req := &types.RetrievePropertiesEx{This: pc.Self, SpecSet: []types.PropertyFilterSpec{{
		ObjectSet: objs, PropSet: props, ReportMissingObjectsInResults: types.NewBool(true),
	}}}
	body := pc.RetrievePropertiesEx(ctx, req).(*methods.RetrievePropertiesExBody)
	if body.Fault_ != nil {
		if mf, ok := body.Fault_.VimFault().(types.BaseMethodFault); ok {
			return nil, mf
		}
		return nil, &types.SystemError{Reason: body.Fault_.String}
	}
	out := map[moRef][]types.PropertyChange{}
	if body.Res == nil || body.Res.Returnval == nil {
		return out, nil
	}
	for _, oc := range body.Res.Returnval.Objects {
		rtype, ok := objectType(ctx, oc.Obj)
		if !ok {
			continue
		}
		got := map[string]interface{}{}
		for _, p := range oc.PropSet {
			got[p.Name] = p.Val
		}
		missing := map[string]bool{}
		for _, m := range oc.MissingSet {
			missing[m.Path] = true
		}
		var cs []types.PropertyChange
		seen := map[string]bool{}
		put := func(name string, val interface{}) {
			if !seen[name] {
				seen[name] = true
				cs = append(cs, types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign, Val: val})
			}
		}
		for _, p := range props {
			if !typeMatches(oc.Obj, rtype, p.Type) {
				continue
			}
			if isTrue(p.All) {
				for _, dp := range oc.PropSet {
					put(dp.Name, dp.Val)
				}
				continue
			}
			for _, name := range p.PathSet {
				if !missing[name] {
					put(name, got[name])
				}
			}
		}
		out[oc.Obj] = cs
	}
	return out, nil
}

// objectType is the managed-object type (package mo) of ref, if it exists.
func objectType(ctx *simulator.Context, ref moRef) (reflect.Type, bool) {
	v, ok := objectValue(ctx, ref)
	if !ok {
		return nil, false
	}
	return v.Type(), true
}

// objectValue finds ref (the session's objects first, as the stock collector
// does) and digs out its embedded mo struct.
func objectValue(ctx *simulator.Context, ref moRef) (reflect.Value, bool) {
	var obj mo.Reference
	if ctx.Session != nil {
		obj = ctx.Session.Get(ref)
	} else {
		obj = simulator.Map.Get(ref)
	}
	if obj == nil {
		return reflect.Value{}, false
	}
	if g, ok := obj.(interface{ Get() mo.Reference }); ok {
		obj = g.Get()
	}
	rval := reflect.ValueOf(obj)
	if rval.Kind() != reflect.Ptr || rval.IsNil() {
		return reflect.Value{}, false
	}
	rval = rval.Elem()
	for path.Base(rval.Type().PkgPath()) != "mo" {
		if rval.Kind() != reflect.Struct || rval.NumField() == 0 {
			return reflect.Value{}, false
		}
		rval = rval.Field(0)
	}
	return rval, true
}

// pathRefs reads the references at property path p of obj (under obj's lock).
func pathRefs(ctx *simulator.Context, obj moRef, p string) []moRef {
	var refs []moRef
	ctx.WithLock(obj, func() {
		rval, ok := objectValue(ctx, obj)
		if !ok {
			return
		}
		for _, name := range strings.Split(p, ".") {
			for rval.Kind() == reflect.Interface || rval.Kind() == reflect.Ptr {
				if rval.IsNil() {
					return
				}
				rval = rval.Elem()
			}
			if rval.Kind() != reflect.Struct || name == "" {
				return
			}
			rval = rval.FieldByName(strings.ToUpper(name[:1]) + name[1:])
			if !rval.IsValid() {
				return
			}
		}
		switch v := rval.Interface().(type) {
		case moRef:
			refs = []moRef{v}
		case *moRef:
			if v != nil {
				refs = []moRef{*v}
			}
		case []moRef:
			refs = append(refs, v...)
		}
	})
	return refs
}

func isTrue(v *bool) bool  { return v != nil && *v }
func isFalse(v *bool) bool { return v == nil || !*v }
