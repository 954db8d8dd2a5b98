package main

// WaitOptions.maxObjectUpdates (API reference, WaitOptions and
// UpdateSet.truncated): a positive value caps the ObjectUpdate entries of
// one WaitForUpdatesEx answer, summed over its filters. When the changes
// hold more, the answer has the first ones and truncated = true; the next
// call (with that truncated version) continues where the last stopped,
// without waiting, until an answer is no longer truncated. Zero or unset
// means no maximum (govmomi 0.24 cannot tell an explicit 0 from unset); a
// negative value is InvalidArgument. WaitForUpdates, which has no options,
// gets the rest of a suspended calculation whole. The stock simulator
// ignored the limit.

import (
	"strconv"

	"github.com/vmware/govmomi/vim25/types"
)

// truncate keeps at most max object updates of set and holds the rest for
// the next call (set is returned as it is when it fits).
func (lst *updateListener) truncate(set *types.UpdateSet, max int32) *types.UpdateSet {
	if set == nil || max <= 0 {
		return set
	}
	var head, rest []types.PropertyFilterUpdate
	left := int(max)
	for _, fu := range set.FilterSet {
		switch {
		case left == 0:
			rest = append(rest, fu)
		case len(fu.ObjectSet) <= left:
			head = append(head, fu)
			left -= len(fu.ObjectSet)
		default:
			head = append(head, types.PropertyFilterUpdate{Filter: fu.Filter, ObjectSet: fu.ObjectSet[:left], MissingSet: fu.MissingSet})
			rest = append(rest, types.PropertyFilterUpdate{Filter: fu.Filter, ObjectSet: fu.ObjectSet[left:]})
			left = 0
		}
	}
	if len(rest) == 0 {
		return set
	}
	lst.waitMu.Lock()
	lst.rest = rest
	lst.waitMu.Unlock()
	return &types.UpdateSet{Version: set.Version, FilterSet: head, Truncated: types.NewBool(true)}
}

// resume returns the rest of a suspended calculation (nil when there is
// none), at most max object updates of it (0: all). Version "" starts
// over: the rest is dropped.
func (lst *updateListener) resume(version string, max int32) *types.UpdateSet {
	lst.waitMu.Lock()
	rest := lst.rest
	lst.rest = nil
	if len(rest) != 0 && version != "" {
		lst.version++
	}
	v := strconv.Itoa(lst.version)
	lst.waitMu.Unlock()
	if len(rest) == 0 || version == "" {
		return nil
	}
	return lst.truncate(&types.UpdateSet{Version: v, FilterSet: rest}, max)
}
