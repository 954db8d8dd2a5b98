package main

// POST /debug/guestops?vm=NAME&unavailable=DURATION makes VM NAME's guest
// operations answer GuestOperationsUnavailable for DURATION from now (a Go
// duration, e.g. 3s), as a guest whose operations agent is not ready yet
// does. Lab only, no login; answers {"vm", "unavailable"} or 404 for an
// unknown VM. serve (server.go) registers it.

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func (l *Lab) serveDebugGuestOps(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	d, err := time.ParseDuration(q.Get("unavailable"))
	if q.Get("vm") == "" || err != nil || d < 0 {
		http.Error(w, "need vm=NAME&unavailable=DURATION", http.StatusBadRequest)
		return
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok || vm.Name != q.Get("vm") {
			continue
		}
		l.mu.Lock()
		l.guest(vm.Self.Value).opsReady = time.Now().Add(d)
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"vm": vm.Name, "unavailable": d.String()})
		return
	}
	http.Error(w, "no VM "+q.Get("vm"), http.StatusNotFound)
}
