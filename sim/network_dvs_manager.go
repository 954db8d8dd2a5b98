package main

// vCenter's DistributedVirtualSwitchManager (ServiceContent.dvSwitchManager,
// "DVSManager"): the stock simulator has only a placeholder without methods
// (every call on it failed with MethodNotFound).
//
//   - QueryAvailableDvsSpec(recommended) lists the switch product specs this
//     vCenter creates (vSphere API reference: "a list of switch product
//     specifications that are supported by the vCenter Server"; recommended
//     true: only the recommended ones, false: only the others, unset: all).
//     The lab's vCenter 7.0.0 creates 6.5.0, 6.6.0 and 7.0.0 and recommends
//     the newest.
//   - QueryDvsCompatibleHostSpec(switchProductSpec) lists the ESXi versions
//     that can be members of a switch of that version (the lab's table,
//     network_dvs_version.go).
//   - POST /debug/dvs-versions?versions=6.5.0,6.6.0 makes the lab's vCenter
//     create only those versions (an older vCenter, or one that no longer
//     creates a version): QueryAvailableDvsSpec lists them, CreateDVS_Task
//     refuses others (InvalidArgument spec.productInfo.version) and makes the
//     newest of them when the spec names none. versions= (empty) restores
//     the default.
//
// Not in --stock.

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// labESXiVersions are the ESXi releases QueryDvsCompatibleHostSpec knows.
var labESXiVersions = []string{"6.5.0", "6.7.0", "7.0.0", "7.0.1", "7.0.2", "7.0.3"}

var dvsVersions = struct {
	sync.Mutex
	only []string // nil: every version of dvsMinESXi
}{}

// creatableDVSVersions are the switch versions the lab's vCenter creates, oldest first.
func creatableDVSVersions() []string {
	dvsVersions.Lock()
	defer dvsVersions.Unlock()
	var out []string
	if dvsVersions.only != nil {
		out = append(out, dvsVersions.only...)
	} else {
		for v := range dvsMinESXi {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	return out
}

func dvsVersionCreatable(version string) bool {
	for _, v := range creatableDVSVersions() {
		if v == version {
			return true
		}
	}
	return false
}

// dvsManager is the lab's DistributedVirtualSwitchManager.
type dvsManager struct {
	mo.DistributedVirtualSwitchManager
}

// installDVSManager puts the manager the service content names into the inventory.
func installDVSManager() {
	ref := types.ManagedObjectReference{Type: "DistributedVirtualSwitchManager", Value: "DVSManager"}
	if si, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}).(*simulator.ServiceInstance); ok && si.Content.DvSwitchManager != nil {
		ref = *si.Content.DvSwitchManager
	}
	switch simulator.Map.Get(ref).(type) {
	case *dvsManager:
		return
	case nil:
	default: // the stock placeholder, with no methods
		simulator.Map.Remove(ref)
	}
	m := &dvsManager{}
	m.Self = ref
	simulator.Map.Put(m)
}

func switchProductSpec(version string) types.DistributedVirtualSwitchProductSpec {
	about := vcenterAbout()
	return types.DistributedVirtualSwitchProductSpec{Name: "DVS", Vendor: about.Vendor, Version: version,
		Build: about.Build, ForwardingClass: "etherswitch"}
}

// QueryAvailableDvsSpec lists the switch versions vCenter creates.
func (m *dvsManager) QueryAvailableDvsSpec(ctx *simulator.Context, req *types.QueryAvailableDvsSpec) soap.HasFault {
	versions := creatableDVSVersions()
	var out []types.DistributedVirtualSwitchProductSpec
	for i, v := range versions {
		recommended := i == len(versions)-1
		if req.Recommended == nil || *req.Recommended == recommended {
			out = append(out, switchProductSpec(v))
		}
	}
	return &methods.QueryAvailableDvsSpecBody{Res: &types.QueryAvailableDvsSpecResponse{Returnval: out}}
}

// QueryDvsCompatibleHostSpec lists the ESXi versions that can join a switch of the given version.
func (m *dvsManager) QueryDvsCompatibleHostSpec(ctx *simulator.Context, req *types.QueryDvsCompatibleHostSpec) soap.HasFault {
	version := creatableDVSVersions()[len(creatableDVSVersions())-1]
	if req.SwitchProductSpec != nil && req.SwitchProductSpec.Version != "" {
		version = req.SwitchProductSpec.Version
	}
	min, ok := dvsMinESXi[version]
	if !ok {
		return &methods.QueryDvsCompatibleHostSpecBody{Fault_: simulator.Fault("no distributed switch version "+version,
			&types.InvalidArgument{InvalidProperty: "switchProductSpec.version"})}
	}
	var out []types.DistributedVirtualSwitchHostProductSpec
	for _, v := range labESXiVersions {
		if !versionLess(v, min) {
			out = append(out, types.DistributedVirtualSwitchHostProductSpec{ProductLineId: "embeddedEsx", Version: v})
		}
	}
	return &methods.QueryDvsCompatibleHostSpecBody{Res: &types.QueryDvsCompatibleHostSpecResponse{Returnval: out}}
}

// serveDebugDVSVersions sets the switch versions the lab's vCenter creates.
func (l *Lab) serveDebugDVSVersions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var only []string
	for _, v := range strings.Split(r.URL.Query().Get("versions"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if _, ok := dvsMinESXi[v]; !ok {
			http.Error(w, "no distributed switch version "+v, http.StatusBadRequest)
			return
		}
		only = append(only, v)
	}
	dvsVersions.Lock()
	dvsVersions.only = only
	dvsVersions.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string][]string{"versions": creatableDVSVersions()})
}
