package main

// Lab-only switches for testing refusals (no SOAP, no login, like
// /debug/calls):
//
//	POST /debug/sriov?host=NAME&pf=ID&enabled=false|true
//	POST /debug/passthru?host=NAME&id=ID&enabled=false|true
//	POST /debug/graphics?host=NAME&id=ID&type=direct|sharedDirect[&mig=true|false]
//
// They change the host's config.pciPassthruInfo through the simulator's
// property updates, so PropertyCollector clients (WaitForUpdatesEx too) see
// the change, and QueryConfigTarget and the rules (rules.go) follow it.
//
// serve (server.go) registers them with the lab's other /debug endpoints.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type debugSwitchReport struct {
	Host    string `json:"host"`
	Id      string `json:"id"`
	Enabled bool   `json:"enabled"`
	// NumVirtualFunction is the PF's VF count (SR-IOV only).
	NumVirtualFunction *int32 `json:"numVirtualFunction,omitempty"`
}

// debugArgs reads host, the device id (parameter idParam) and enabled.
func debugArgs(w http.ResponseWriter, r *http.Request, idParam string) (*simulator.HostSystem, string, bool, bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, "", false, false
	}
	q := r.URL.Query()
	name, id := q.Get("host"), q.Get(idParam)
	enabled, err := strconv.ParseBool(q.Get("enabled"))
	if name == "" || id == "" || err != nil {
		http.Error(w, fmt.Sprintf("need host=NAME&%s=ID&enabled=true|false", idParam), http.StatusBadRequest)
		return nil, "", false, false
	}
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok && strings.EqualFold(h.Name, name) {
			return h, id, enabled, true
		}
	}
	http.Error(w, "no host "+name, http.StatusNotFound)
	return nil, "", false, false
}

// updatePassthruInfo replaces host's passthrough entry for id with what
// change makes of a copy of it; it returns the new entry, or nil when host
// has no entry for id (or change refuses it, returning an error text).
func (l *Lab) updatePassthruInfo(host *simulator.HostSystem, id string,
	change func(types.BaseHostPciPassthruInfo) (types.BaseHostPciPassthruInfo, string)) (types.BaseHostPciPassthruInfo, string) {
	l.rulesMu.Lock() // not while a rule check reads the host
	defer l.rulesMu.Unlock()
	var updated types.BaseHostPciPassthruInfo
	problem := "host " + host.Name + " has no passthrough device " + id
	simulator.Map.WithLock(host, func() {
		if host.Config == nil {
			return
		}
		infos := append([]types.BaseHostPciPassthruInfo(nil), host.Config.PciPassthruInfo...)
		for i, bi := range infos {
			if !strings.EqualFold(bi.GetHostPciPassthruInfo().Id, id) {
				continue
			}
			updated, problem = change(bi)
			if updated == nil {
				return
			}
			infos[i] = updated
			simulator.Map.Update(host, []types.PropertyChange{{Name: "config.pciPassthruInfo", Val: infos}})
			return
		}
	})
	return updated, problem
}

func writeDebugReport(w http.ResponseWriter, rep debugSwitchReport) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}

// serveDebugSriov enables or disables SR-IOV on a PF of one host.
func (l *Lab) serveDebugSriov(w http.ResponseWriter, r *http.Request) {
	host, id, enabled, ok := debugArgs(w, r, "pf")
	if !ok {
		return
	}
	info, problem := l.updatePassthruInfo(host, id, func(bi types.BaseHostPciPassthruInfo) (types.BaseHostPciPassthruInfo, string) {
		s, ok := bi.(*types.HostSriovInfo)
		if !ok {
			return nil, bi.GetHostPciPassthruInfo().Id + " is not an SR-IOV physical function of host " + host.Name
		}
		c := *s
		c.SriovEnabled, c.SriovActive = enabled, enabled
		c.NumVirtualFunctionRequested, c.NumVirtualFunction = 0, 0
		if enabled {
			c.NumVirtualFunctionRequested, c.NumVirtualFunction = numVFs, numVFs
			if c.MaxVirtualFunctionSupported < numVFs {
				c.NumVirtualFunctionRequested, c.NumVirtualFunction = c.MaxVirtualFunctionSupported, c.MaxVirtualFunctionSupported
			}
		}
		return &c, ""
	})
	if info == nil {
		http.Error(w, problem, http.StatusNotFound)
		return
	}
	s := info.(*types.HostSriovInfo)
	n := s.NumVirtualFunction
	writeDebugReport(w, debugSwitchReport{Host: host.Name, Id: s.Id, Enabled: s.SriovEnabled, NumVirtualFunction: &n})
}

// serveDebugPassthru enables or disables passthrough of a (non SR-IOV)
// PCI device of one host.
func (l *Lab) serveDebugPassthru(w http.ResponseWriter, r *http.Request) {
	host, id, enabled, ok := debugArgs(w, r, "id")
	if !ok {
		return
	}
	info, problem := l.updatePassthruInfo(host, id, func(bi types.BaseHostPciPassthruInfo) (types.BaseHostPciPassthruInfo, string) {
		p, ok := bi.(*types.HostPciPassthruInfo)
		if !ok {
			return nil, bi.GetHostPciPassthruInfo().Id + " is an SR-IOV physical function of host " + host.Name + "; use /debug/sriov"
		}
		if enabled && gpuMode(host, p.Id) == graphicsSharedDirect {
			return nil, p.Id + " of host " + host.Name + " is a GPU in shared direct mode (vGPU); use /debug/graphics to switch it to direct"
		}
		c := *p
		c.PassthruEnabled, c.PassthruActive = enabled, enabled
		return &c, ""
	})
	if info == nil {
		http.Error(w, problem, http.StatusNotFound)
		return
	}
	p := info.GetHostPciPassthruInfo()
	writeDebugReport(w, debugSwitchReport{Host: host.Name, Id: p.Id, Enabled: p.PassthruEnabled})
}

// gpuMode is the graphicsType of GPU id of host ("" when id is no GPU).
func gpuMode(host *simulator.HostSystem, id string) string {
	for _, g := range hostGraphics(host) {
		if strings.EqualFold(g.PciId, id) {
			return g.GraphicsType
		}
	}
	return ""
}

// serveDebugGraphics switches a GPU of one host between passthrough
// (direct) and vGPU (sharedDirect) mode, as an administrator does in the
// host's graphics settings (gpu_host.go). A GPU in use is not switched (409).
func (l *Lab) serveDebugGraphics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	name, id, kind := q.Get("host"), q.Get("id"), q.Get("type")
	if name == "" || id == "" || (kind != graphicsDirect && kind != graphicsSharedDirect) {
		http.Error(w, "need host=NAME&id=ID&type=direct|sharedDirect", http.StatusBadRequest)
		return
	}
	var host *simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok && strings.EqualFold(h.Name, name) {
			host = h
		}
	}
	if host == nil || gpuMode(host, id) == "" {
		http.Error(w, "no GPU "+id+" on host "+name, http.StatusNotFound)
		return
	}
	l.rulesMu.Lock() // not while a rule check reads the host
	defer l.rulesMu.Unlock()
	if users := l.gpuInUse(host, id); users != "" && gpuMode(host, id) != kind {
		http.Error(w, "GPU "+id+" of host "+host.Name+" is in use by powered-on VMs "+users, http.StatusConflict)
		return
	}
	mig := q.Get("mig") // MIG mode of a shared GPU of a MIG-capable model (gpu_mig.go)
	if mig != "" {
		if kind != graphicsSharedDirect || (mig != "true" && mig != "false") || !gpuSupportsMIG(host, id) {
			http.Error(w, "mig=true|false needs type=sharedDirect and a MIG-capable GPU", http.StatusBadRequest)
			return
		}
		if users := l.gpuInUse(host, id); users != "" && migMode(host.Self, id) != (mig == "true") {
			http.Error(w, "GPU "+id+" of host "+host.Name+" is in use by powered-on VMs "+users, http.StatusConflict)
			return
		}
	}
	simulator.Map.WithLock(host, func() {
		if mig != "" {
			setMIG(host.Self, id, mig == "true")
		}
		setGraphicsType(host, id, kind)
	})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"host": host.Name, "id": id, "type": kind,
		"mig": migMode(host.Self, id), "profiles": host.Config.SharedPassthruGpuTypes})
}
