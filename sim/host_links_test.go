package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

// TestHostNetworkLinksAreKeys: objects of config.network name one another
// by key, as ESXi does (the API's type information marks them as links):
// an RDMA device's pairedUplink is its physical NIC's key, the NIC's
// rdmaDevice the RDMA device's key, a standard switch's pnic its uplinks'
// keys.
func TestHostNetworkLinksAreKeys(t *testing.T) {
	e := newLabEnv(t)
	net := e.hostNetwork(e.host(3))
	pnics := map[string]types.PhysicalNic{}
	for _, p := range net.Pnic {
		pnics[p.Key] = p
	}
	if len(net.RdmaDevice) != 1 {
		t.Fatalf("rdma devices %+v", net.RdmaDevice)
	}
	r := net.RdmaDevice[0]
	b, ok := r.Backing.(*types.HostRdmaDevicePnicBacking)
	if !ok || b.PairedUplink != "key-vim.host.PhysicalNic-"+rdmaPnic {
		t.Fatalf("pairedUplink %+v", r.Backing)
	}
	if p, ok := pnics[b.PairedUplink]; !ok || p.Device != rdmaPnic || p.RdmaDevice != r.Key ||
		r.Key != "key-vim.host.RdmaDevice-"+rdmaDevice {
		t.Errorf("paired NIC %+v, rdma key %s", p, r.Key)
	}
	for _, vs := range net.Vswitch {
		for _, k := range vs.Pnic {
			if _, ok := pnics[k]; !ok {
				t.Errorf("switch %s uplink %q is not a NIC key", vs.Name, k)
			}
		}
	}
}
