package main

// What the PropertyCollector refuses before it reads or watches anything
// (API reference, PropertyCollector.CreateFilter; RetrieveProperties and
// RetrievePropertiesEx "can throw all of the same faults"):
//
//   - a property path that is not a property of the PropertySpec's type
//     (nor a path into one): InvalidProperty naming it. The stock simulator
//     answered it as a missing property, and its wait sent nothing, so a
//     client asking a misspelt property waited forever;
//   - a type name that is no managed object type: InvalidType;
//   - a TraversalSpec whose path is not a property of its type:
//     InvalidArgument ("a selection with properties not defined on its
//     type");
//   - CreateFilter on an object that does not exist:
//     ManagedObjectNotFound, unless the spec sets
//     reportMissingObjectsInResults, when the filter is made and its first
//     update lists the object in missingSet. The stock CreateFilter made
//     the filter, whose wait then never reported anything (a client
//     waiting for a task that had been removed blocked forever).
//
// Paths are checked against govmomi's vim25/mo types (the 7.0 API as
// govmomi 0.24 knows it): a path may go through structures, not through
// arrays; below a field of an abstract data type (its concrete type is only
// known at run time) anything is accepted.

import (
	"reflect"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var moTypes sync.Map // type name -> reflect.Type (nil: not a managed object type)

// moType is the vim25/mo struct of managed object type name.
func moType(name string) (t reflect.Type) {
	if v, ok := moTypes.Load(name); ok {
		t, _ = v.(reflect.Type)
		return t
	}
	defer func() {
		if recover() != nil { // mo panics on a type it does not know
			t = nil
		}
		moTypes.Store(name, t)
	}()
	v, err := mo.ObjectContentToType(types.ObjectContent{Obj: types.ManagedObjectReference{Type: name}})
	if err != nil || v == nil {
		return nil
	}
	return reflect.TypeOf(v)
}

var validPaths sync.Map // "type/path" -> bool

// validPath tells whether path is a property of managed object type t.
func validPath(t reflect.Type, path string) bool {
	key := t.Name() + "/" + path
	if v, ok := validPaths.Load(key); ok {
		return v.(bool)
	}
	ok := pathIn(t, strings.Split(path, "."))
	validPaths.Store(key, ok)
	return ok
}

// pathIn walks the path's parts through the fields of struct type t, by
// their vmodl names (xml tags), embedded structs included.
func pathIn(t reflect.Type, parts []string) bool {
	for len(parts) > 0 {
		for t.Kind() == reflect.Ptr {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Interface:
			return true // an abstract type: its concrete type decides
		case t.Kind() != reflect.Struct:
			return false // nothing below a value or an array
		case strings.Contains(parts[0], "["):
			return true // a keyed element (device[4000]): not checked
		}
		f, ok := fieldByVmodlName(t, parts[0])
		if !ok {
			return false
		}
		t, parts = f.Type, parts[1:]
	}
	return true
}

// fieldByVmodlName finds the field whose vmodl name is name.
func fieldByVmodlName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			if inner, ok := fieldByVmodlName(derefType(f.Type), name); ok {
				return inner, true
			}
			continue
		}
		tag := f.Tag.Get("mo")
		if tag == "" {
			tag = strings.Split(f.Tag.Get("xml"), ",")[0]
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t
}

// checkFilterSpec is what a spec must pass before any read: its property
// specs' types and paths and its traversal specs' paths.
func checkFilterSpec(spec *types.PropertyFilterSpec) *soap.Fault {
	for _, p := range spec.PropSet {
		t := moType(p.Type)
		if t == nil {
			return simulator.Fault("The type "+p.Type+" is not known.", &types.InvalidType{Argument: p.Type})
		}
		for _, path := range p.PathSet {
			if !validPath(t, path) {
				return simulator.Fault("Invalid property: "+path+" is not a property of "+p.Type+".",
					&types.InvalidProperty{Name: path})
			}
		}
	}
	var fault *soap.Fault
	var walk func([]types.BaseSelectionSpec)
	walk = func(ss []types.BaseSelectionSpec) {
		for _, s := range ss {
			ts, ok := s.(*types.TraversalSpec)
			if !ok || fault != nil {
				continue
			}
			t := moType(ts.Type)
			switch {
			case t == nil:
				fault = simulator.Fault("The type "+ts.Type+" is not known.", &types.InvalidType{Argument: ts.Type})
			case !validPath(t, ts.Path):
				fault = simulator.Fault("A specified parameter was not correct: selectSet (traversal "+ts.Name+": "+
					ts.Path+" is not a property of "+ts.Type+")", &types.InvalidArgument{InvalidProperty: "selectSet"})
			default:
				walk(ts.SelectSet)
			}
		}
	}
	for _, o := range spec.ObjectSet {
		walk(o.SelectSet)
	}
	return fault
}

// CreateFilter checks the spec and its objects, then makes the filter as
// the stock collector does.
func (h *collectorHook) CreateFilter(ctx *simulator.Context, req *types.CreateFilter) soap.HasFault {
	pc, fault := h.collector(ctx)
	if fault != nil {
		return &methods.CreateFilterBody{Fault_: fault}
	}
	if fault := checkFilterSpec(&req.Spec); fault != nil {
		return &methods.CreateFilterBody{Fault_: fault}
	}
	if !isTrue(req.Spec.ReportMissingObjectsInResults) {
		for _, o := range req.Spec.ObjectSet {
			if _, ok := objectType(ctx, o.Obj); !ok {
				return &methods.CreateFilterBody{Fault_: simulator.Fault(
					"The object '"+o.Obj.Type+":"+o.Obj.Value+"' has already been deleted or has not been completely created",
					&types.ManagedObjectNotFound{Obj: o.Obj})}
			}
		}
	}
	return pc.CreateFilter(ctx, req)
}

// RetrieveProperties (pyVmomi's RetrieveContents, Ansible's reads) checks
// the specs, then answers as the stock collector does.
func (h *collectorHook) RetrieveProperties(ctx *simulator.Context, req *types.RetrieveProperties) soap.HasFault {
	for i := range req.SpecSet {
		if fault := checkFilterSpec(&req.SpecSet[i]); fault != nil {
			return &methods.RetrievePropertiesBody{Fault_: fault}
		}
	}
	pc, fault := h.collector(ctx)
	if fault != nil {
		// No session (an ended one): the inventory's collector answers,
		// each property missing with NotAuthenticated (sessions.go).
		h.target(ctx)
		stock, ok := simulator.Map.Get(h.real).(*simulator.PropertyCollector)
		if !ok {
			return &methods.RetrievePropertiesBody{Fault_: fault}
		}
		return stock.RetrieveProperties(ctx, req)
	}
	return pc.RetrieveProperties(ctx, req)
}

// missingObjects are the objects of a filter spec that do not exist, for
// a filter made with reportMissingObjectsInResults.
func missingObjects(ctx *simulator.Context, spec *types.PropertyFilterSpec) []types.MissingObject {
	if !isTrue(spec.ReportMissingObjectsInResults) {
		return nil
	}
	var out []types.MissingObject
	for _, o := range spec.ObjectSet {
		if _, ok := objectType(ctx, o.Obj); !ok {
			out = append(out, types.MissingObject{Obj: o.Obj,
				Fault: types.LocalizedMethodFault{Fault: &types.ManagedObjectNotFound{Obj: o.Obj},
					LocalizedMessage: "The object has already been deleted or has not been completely created"}})
		}
	}
	return out
}
