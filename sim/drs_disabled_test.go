package main

import (
	"testing"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// setDRS turns DRS of the cluster on or off behind the API's back (changing
// drsConfig through ReconfigureComputeResource_Task is drs config work of
// its own); it returns the previous value.
func setDRS(t *testing.T, ref types.ManagedObjectReference, on bool) bool {
	c, ok := simulator.Map.Get(ref).(*simulator.ClusterComputeResource)
	if !ok {
		t.Fatalf("no cluster %v", ref)
	}
	var was bool
	simulator.Map.WithLock(c, func() {
		was = drsEnabled(c)
		c.ConfigurationEx.(*types.ClusterConfigInfoEx).DrsConfig.Enabled = types.NewBool(on)
	})
	return was
}

// DRS enforces VM-VM rules: on a cluster with DRS off an anti-affinity rule
// is kept, and its VMs power on on one host.
func TestDRSOffKeepsRulesWithoutEnforcingThem(t *testing.T) {
	e := newLabEnv(t)
	c := e.cluster(GPUClusterName)
	a := e.mustClone("drsoff-a", e.host(2), nil)
	b := e.mustClone("drsoff-b", e.host(2), nil)
	was := setDRS(t, c.Reference(), false)
	defer setDRS(t, c.Reference(), was)
	add := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd}}
	add.Info = antiAffinity("drsoff-group", a, b)
	if err := e.reconfigureRules(c, add); err != nil {
		t.Fatal(err)
	}
	r := e.rule(c, "drsoff-group")
	if r == nil {
		t.Fatal("rule not kept")
	}
	defer func() {
		rm := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationRemove, RemoveKey: r.Key}}
		_ = e.reconfigureRules(c, rm)
	}()
	if err := e.powerOn(a); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(b); err != nil {
		t.Errorf("DRS off: the rule is not enforced, yet: %v", err)
	}
}
