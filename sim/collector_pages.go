package main

// Paged property reads, as vCenter pages them: RetrievePropertiesEx returns
// at most options.maxObjects objects and, when more remain, a token that
// ContinueRetrievePropertiesEx takes for the next page (the last page has no
// token); CancelRetrievePropertiesEx drops the rest. A token is good for
// the collector that made it, once: a used, cancelled or unknown token is
// InvalidArgument (the API reference's fault for both methods). The stock
// simulator (0.24) ignores maxObjects and has neither continuation method,
// so a client's paging code would never run against it.
//
// Without maxObjects every object comes in one answer (the API reference:
// "an unset value indicates that there is no maximum"; a vCenter may still
// page by its own policy, so clients must follow tokens all the same).

import (
	"strconv"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// maxPendingResults bounds the result sets a collector keeps for clients
// that never finish reading them (the oldest is dropped).
const maxPendingResults = 64

type pendingPages struct {
	size    int
	objects []types.ObjectContent
}

type resultSets struct {
	mu    sync.Mutex
	next  int
	sets  map[*simulator.PropertyCollector]map[string]*pendingPages
	order map[*simulator.PropertyCollector][]string
}

var pagedResults = &resultSets{sets: map[*simulator.PropertyCollector]map[string]*pendingPages{},
	order: map[*simulator.PropertyCollector][]string{}}

// page cuts the first page off p; the token of the rest ("" when none).
func (r *resultSets) page(pc *simulator.PropertyCollector, p *pendingPages) ([]types.ObjectContent, string) {
	if len(p.objects) <= p.size {
		return p.objects, ""
	}
	first := p.objects[:p.size]
	rest := &pendingPages{size: p.size, objects: p.objects[p.size:]}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	token := "lab-page-" + strconv.Itoa(r.next)
	if r.sets[pc] == nil {
		r.sets[pc] = map[string]*pendingPages{}
	}
	r.sets[pc][token] = rest
	r.order[pc] = append(r.order[pc], token)
	if len(r.order[pc]) > maxPendingResults {
		delete(r.sets[pc], r.order[pc][0])
		r.order[pc] = r.order[pc][1:]
	}
	return first, token
}

// take removes and returns the result set of token (nil when unknown).
func (r *resultSets) take(pc *simulator.PropertyCollector, token string) *pendingPages {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.sets[pc][token]
	delete(r.sets[pc], token)
	for i, t := range r.order[pc] {
		if t == token {
			r.order[pc] = append(r.order[pc][:i:i], r.order[pc][i+1:]...)
			break
		}
	}
	return p
}

// forget drops a destroyed collector's result sets.
func (r *resultSets) forget(pc *simulator.PropertyCollector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sets, pc)
	delete(r.order, pc)
}

func badToken(token string) *soap.Fault {
	return simulator.Fault("unknown, used or cancelled token "+strconv.Quote(token),
		&types.InvalidArgument{InvalidProperty: "token"})
}

// RetrievePropertiesEx answers as the stock simulator does, one page at a time.
func (h *collectorHook) RetrievePropertiesEx(ctx *simulator.Context, req *types.RetrievePropertiesEx) soap.HasFault {
	pc, fault := h.collector(ctx)
	if fault != nil {
		return &methods.RetrievePropertiesExBody{Fault_: fault}
	}
	for i := range req.SpecSet {
		if fault := checkFilterSpec(&req.SpecSet[i]); fault != nil { // collector_validate.go
			return &methods.RetrievePropertiesExBody{Fault_: fault}
		}
	}
	max := int(req.Options.MaxObjects) // 0: unset (govmomi 0.24's type has no pointer)
	if max < 0 {
		return &methods.RetrievePropertiesExBody{Fault_: simulator.Fault("",
			&types.InvalidArgument{InvalidProperty: "options.maxObjects"})}
	}
	res := pc.RetrievePropertiesEx(ctx, req)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Fault_ != nil || body.Res == nil || body.Res.Returnval == nil ||
		max == 0 {
		return res
	}
	all := &pendingPages{size: max, objects: body.Res.Returnval.Objects}
	body.Res.Returnval.Objects, body.Res.Returnval.Token = pagedResults.page(pc, all)
	return body
}

// ContinueRetrievePropertiesEx returns the next page of a result set.
func (h *collectorHook) ContinueRetrievePropertiesEx(ctx *simulator.Context, req *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pc, fault := h.collector(ctx)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	rest := pagedResults.take(pc, req.Token)
	if rest == nil {
		body.Fault_ = badToken(req.Token)
		return body
	}
	objects, token := pagedResults.page(pc, rest)
	body.Res = &types.ContinueRetrievePropertiesExResponse{
		Returnval: types.RetrieveResult{Objects: objects, Token: token}}
	return body
}

// CancelRetrievePropertiesEx drops the rest of a result set.
func (h *collectorHook) CancelRetrievePropertiesEx(ctx *simulator.Context, req *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := &methods.CancelRetrievePropertiesExBody{}
	pc, fault := h.collector(ctx)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	if pagedResults.take(pc, req.Token) == nil {
		body.Fault_ = badToken(req.Token)
		return body
	}
	body.Res = &types.CancelRetrievePropertiesExResponse{}
	return body
}
