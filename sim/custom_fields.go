package main

// Custom attributes (CustomFieldsManager) as vCenter keeps them: a field
// definition's type is the type of its values, "string" (the stock
// simulator puts the managed object type there, or nothing, which clients
// such as pyVmomi refuse to read); SetField
// assigns the entity's one value of a field (the stock simulator appends a
// second value), for an entity that exists (ManagedObjectNotFound) and a
// field that exists (InvalidArgument); RemoveCustomFieldDef of an unknown
// key is InvalidArgument (stock: NotFound) and takes the field's values off
// every entity. Changes go through the property collector, so
// WaitForUpdatesEx and later reads of customValue/value see them.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// fieldsHook receives the routed CustomFieldsManager methods.
type fieldsHook struct{ labHook }

func (h *fieldsHook) manager(ctx *simulator.Context) *simulator.CustomFieldsManager {
	m, _ := h.target(ctx).(*simulator.CustomFieldsManager)
	return m
}

func fieldDef(m *simulator.CustomFieldsManager, key int32) *types.CustomFieldDef {
	for i := range m.Field {
		if m.Field[i].Key == key {
			return &m.Field[i]
		}
	}
	return nil
}

func noField(key int32) *soap.Fault {
	return simulator.Fault("A specified parameter was not correct: key", &types.InvalidArgument{InvalidProperty: "key"})
}

// withValue returns values with key's value set to value (nil value: removed).
func withValue(values []types.BaseCustomFieldValue, key int32, value *string) []types.BaseCustomFieldValue {
	out := make([]types.BaseCustomFieldValue, 0, len(values)+1)
	for _, v := range values {
		if v.GetCustomFieldValue().Key != key {
			out = append(out, v)
		}
	}
	if value != nil {
		out = append(out, &types.CustomFieldStringValue{CustomFieldValue: types.CustomFieldValue{Key: key}, Value: *value})
	}
	return out
}

// setEntityValue sets (or, with nil, removes) key's value on entity.
func setEntityValue(entity mo.Entity, key int32, value *string) {
	simulator.Map.WithLock(entity, func() {
		e := entity.Entity()
		simulator.Map.Update(entity, []types.PropertyChange{
			{Name: "customValue", Val: withValue(e.CustomValue, key, value)},
			{Name: "value", Val: withValue(e.Value, key, value)},
		})
	})
}

// AddCustomFieldDef defines a field (stock: DuplicateName for a name in use)
// whose values are strings.
func (h *fieldsHook) AddCustomFieldDef(ctx *simulator.Context, req *types.AddCustomFieldDef) soap.HasFault {
	m := h.manager(ctx)
	if m == nil {
		return &methods.AddCustomFieldDefBody{Fault_: notFound(h.real)}
	}
	var res soap.HasFault
	withLocked(ctx, m, func() { res = m.AddCustomFieldDef(req) })
	body, ok := res.(*methods.AddCustomFieldDefBody)
	if !ok || body.Res == nil {
		return res
	}
	body.Res.Returnval.Type = "string"
	key := body.Res.Returnval.Key
	simulator.Map.WithLock(m, func() {
		fields := append([]types.CustomFieldDef(nil), m.Field...)
		for i := range fields {
			if fields[i].Key == key {
				fields[i].Type = "string"
			}
		}
		simulator.Map.Update(m, []types.PropertyChange{{Name: "field", Val: fields}})
	})
	for _, e := range simulator.Map.All("") {
		simulator.Map.WithLock(e, func() {
			for i, f := range e.Entity().AvailableField {
				if f.Key == key {
					e.Entity().AvailableField[i].Type = "string"
				}
			}
		})
	}
	return body
}

// SetField assigns entity's value of field key.
func (h *fieldsHook) SetField(ctx *simulator.Context, req *types.SetField) soap.HasFault {
	m := h.manager(ctx)
	if m == nil {
		return &methods.SetFieldBody{Fault_: notFound(h.real)}
	}
	var def *types.CustomFieldDef
	simulator.Map.WithLock(m, func() {
		if d := fieldDef(m, req.Key); d != nil {
			copied := *d
			def = &copied
		}
	})
	if def == nil {
		return &methods.SetFieldBody{Fault_: noField(req.Key)}
	}
	entity, ok := simulator.Map.Get(req.Entity).(mo.Entity)
	if !ok {
		return &methods.SetFieldBody{Fault_: notFound(req.Entity)}
	}
	if def.ManagedObjectType != "" && def.ManagedObjectType != req.Entity.Type {
		return &methods.SetFieldBody{Fault_: simulator.Fault("A specified parameter was not correct: entity",
			&types.InvalidArgument{InvalidProperty: "entity"})}
	}
	value := req.Value
	setEntityValue(entity, req.Key, &value)
	return &methods.SetFieldBody{Res: &types.SetFieldResponse{}}
}

// RemoveCustomFieldDef removes field key and its values everywhere.
func (h *fieldsHook) RemoveCustomFieldDef(ctx *simulator.Context, req *types.RemoveCustomFieldDef) soap.HasFault {
	m := h.manager(ctx)
	if m == nil {
		return &methods.RemoveCustomFieldDefBody{Fault_: notFound(h.real)}
	}
	found := false
	simulator.Map.WithLock(m, func() {
		for i := range m.Field {
			if m.Field[i].Key == req.Key {
				fields := append([]types.CustomFieldDef(nil), m.Field[:i]...)
				simulator.Map.Update(m, []types.PropertyChange{{Name: "field", Val: append(fields, m.Field[i+1:]...)}})
				found = true
				return
			}
		}
	})
	if !found {
		return &methods.RemoveCustomFieldDefBody{Fault_: noField(req.Key)}
	}
	for _, e := range simulator.Map.All("") {
		has := false
		simulator.Map.WithLock(e, func() {
			for _, v := range e.Entity().CustomValue {
				has = has || v.GetCustomFieldValue().Key == req.Key
			}
			for i, f := range e.Entity().AvailableField {
				if f.Key == req.Key {
					fields := append([]types.CustomFieldDef(nil), e.Entity().AvailableField[:i]...)
					e.Entity().AvailableField = append(fields, e.Entity().AvailableField[i+1:]...)
					break
				}
			}
		})
		if has {
			setEntityValue(e, req.Key, nil)
		}
	}
	return &methods.RemoveCustomFieldDefBody{Res: &types.RemoveCustomFieldDefResponse{}}
}
