package main

// Host certificate thumbprints in SHA-256. vSphere is moving from SHA-1 to
// SHA-256 thumbprints (govmomi #3384, 2024: "vSphere in general is moving
// from SHA1 to SHA256 based TLS certificate thumbprints"; pyVmomi verifies
// SHA-256 and SHA-512 thumbprints too), so a client pinning a host's
// certificate must take either. The lab's hosts give SHA-1 in
// summary.config.sslThumbprint, as vSphere 7 does;
// POST /debug/thumbprint?host=NAME&algorithm=sha256|sha1 makes one host give
// the other form (32 colon-separated hex pairs for SHA-256), as a host of a
// newer vSphere would.

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// thumbprintSHA256 formats a certificate's SHA-256 as vSphere does.
func thumbprintSHA256(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// serveDebugThumbprint switches a host's summary.config.sslThumbprint
// between its certificate's SHA-1 and SHA-256.
func (l *Lab) serveDebugThumbprint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	algorithm := q.Get("algorithm")
	if algorithm != "sha1" && algorithm != "sha256" {
		http.Error(w, "need host=NAME&algorithm=sha1|sha256", http.StatusBadRequest)
		return
	}
	var ep *hostEndpoint
	for _, e := range l.hostEPs {
		if strings.EqualFold(e.name, q.Get("host")) {
			ep = e
		}
	}
	var host *simulator.HostSystem
	if ep != nil {
		host, _ = simulator.Map.Get(ep.hostRef()).(*simulator.HostSystem)
	}
	if host == nil {
		http.Error(w, "no host "+q.Get("host"), http.StatusNotFound)
		return
	}
	print := thumbprintSHA1(ep.cert.Certificate[0])
	if algorithm == "sha256" {
		print = thumbprintSHA256(ep.cert.Certificate[0])
	}
	simulator.Map.WithLock(host, func() {
		simulator.Map.Update(host, []types.PropertyChange{{Name: "summary.config.sslThumbprint", Val: print}})
	})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"host": host.Name, "sslThumbprint": print})
}

// hostRef is the endpoint's host (a zero reference for no endpoint).
func (ep *hostEndpoint) hostRef() types.ManagedObjectReference {
	if ep == nil {
		return types.ManagedObjectReference{}
	}
	return ep.host
}
