package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) availableDVS(recommended *bool) []string {
	res, err := methods.QueryAvailableDvsSpec(e.ctx, e.c.Client, &types.QueryAvailableDvsSpec{
		This: *e.c.ServiceContent.DvSwitchManager, Recommended: recommended})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range res.Returnval {
		out = append(out, s.Version)
	}
	return out
}

func sameVersions(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The DVS manager lists the switch versions vCenter creates; /debug/dvs-versions
// narrows them, and CreateDVS_Task follows.
func TestDVSManagerAvailableVersions(t *testing.T) {
	e := newLabEnv(t)
	if got := e.availableDVS(nil); !sameVersions(got, "6.5.0", "6.6.0", "7.0.0") {
		t.Errorf("available: %v", got)
	}
	if got := e.availableDVS(types.NewBool(true)); !sameVersions(got, "7.0.0") {
		t.Errorf("recommended: %v", got)
	}
	if got := e.availableDVS(types.NewBool(false)); !sameVersions(got, "6.5.0", "6.6.0") {
		t.Errorf("not recommended: %v", got)
	}
	res, err := methods.QueryDvsCompatibleHostSpec(e.ctx, e.c.Client, &types.QueryDvsCompatibleHostSpec{
		This: *e.c.ServiceContent.DvSwitchManager, SwitchProductSpec: &types.DistributedVirtualSwitchProductSpec{Version: "6.6.0"}})
	if err != nil || len(res.Returnval) == 0 || res.Returnval[0].Version != "6.7.0" {
		t.Errorf("hosts for a 6.6.0 switch: %+v %v", res, err)
	}

	if code, body := e.debug("/debug/dvs-versions?versions=6.5.0,6.6.0"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	defer e.debug("/debug/dvs-versions?versions=")
	if got := e.availableDVS(nil); !sameVersions(got, "6.5.0", "6.6.0") {
		t.Errorf("narrowed: %v", got)
	}
	h := e.host(8)
	if _, err := e.tryCreateDVS(dvsSpec("dvsman-a", "7.0.0", nil, h)); faultName(err) != "InvalidArgument" {
		t.Errorf("a 7.0.0 switch from a vCenter that does not create it: %v", err)
	}
	s, err := e.tryCreateDVS(dvsSpec("dvsman-b", "", nil, h))
	if err != nil {
		t.Fatal(err)
	}
	defer destroyDVS(t, e, s)
	if v := e.dvsProps(s).Summary.ProductInfo.Version; v != "6.6.0" {
		t.Errorf("a switch made without a version: %s, want the newest the vCenter creates", v)
	}
	if code, _ := e.debug("/debug/dvs-versions?versions=5.1.0"); code != 400 {
		t.Errorf("an unknown version: %d", code)
	}
	e.debug("/debug/dvs-versions?versions=")
	if got := e.availableDVS(nil); !sameVersions(got, "6.5.0", "6.6.0", "7.0.0") {
		t.Errorf("restored: %v", got)
	}
}
