package main

// EventManager.QueryEvents with the whole filter (API reference:
// EventFilterSpec), as vCenter answers it:
//
//   - every event the filter selects, newest first, up to maxCount (1 to
//     1000: InvalidArgument otherwise), all of them (up to 1000) when
//     maxCount is unset. The stock answer held the newest 10 only (the
//     default page of an event collector);
//   - time: createdTime within beginTime and endTime (both included);
//   - userName: events of the listed users, and of the system (no user)
//     when systemUser; eventChainId; category (the event type's severity:
//     info, warning, error, user); type and eventTypeId (class names,
//     subtypes included), entity (the stock matching).
//
// The lab's event history holds the newest 1000 events (the stock event
// manager's ring); vCenter keeps its events in its database.

import (
	"reflect"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const eventQueryMax = 1000

// eventManagerHook receives EventManager.QueryEvents.
type eventManagerHook struct{ labHook }

func (h *eventManagerHook) QueryEvents(ctx *simulator.Context, req *types.QueryEvents) soap.HasFault {
	em, ok := h.target(ctx).(*simulator.EventManager)
	if !ok {
		return &methods.QueryEventsBody{Fault_: notFound(h.real)}
	}
	f := req.Filter
	if f.MaxCount < 0 || f.MaxCount > eventQueryMax {
		return &methods.QueryEventsBody{Fault_: simulator.Fault("A specified parameter was not correct: filter.maxCount",
			&types.InvalidArgument{InvalidProperty: "filter.maxCount"})}
	}
	stock := types.EventFilterSpec{Entity: f.Entity, EventTypeId: append(append([]string(nil), f.EventTypeId...), f.Type...),
		MaxCount: eventQueryMax}
	var res soap.HasFault
	simulator.Map.WithLock(em, func() {
		res = em.QueryEvents(ctx, &types.QueryEvents{This: em.Self, Filter: stock})
	})
	body, ok := res.(*methods.QueryEventsBody)
	if !ok || body.Fault_ != nil || body.Res == nil {
		return res
	}
	categories := map[string]string{}
	for _, info := range em.Description.EventInfo {
		categories[info.Key] = info.Category
	}
	limit := int(f.MaxCount)
	if limit == 0 {
		limit = eventQueryMax
	}
	var out []types.BaseEvent
	for _, ev := range body.Res.Returnval {
		if len(out) == limit {
			break
		}
		if eventMatches(ev, &f, categories) {
			out = append(out, ev)
		}
	}
	body.Res.Returnval = out
	return body
}

// eventMatches applies the parts of the filter the stock matching ignores.
func eventMatches(ev types.BaseEvent, f *types.EventFilterSpec, categories map[string]string) bool {
	e := ev.GetEvent()
	if t := f.Time; t != nil && !inTime(&e.CreatedTime, t.BeginTime, t.EndTime) { // task_history.go
		return false
	}
	if u := f.UserName; u != nil {
		ok := u.SystemUser && e.UserName == ""
		for _, name := range u.UserList {
			ok = ok || name == e.UserName
		}
		if !ok {
			return false
		}
	}
	if f.EventChainId != 0 && e.ChainId != f.EventChainId {
		return false
	}
	if len(f.Category) != 0 {
		cat := categories[reflect.TypeOf(ev).Elem().Name()]
		ok := false
		for _, c := range f.Category {
			ok = ok || c == cat
		}
		if !ok {
			return false
		}
	}
	return true
}
