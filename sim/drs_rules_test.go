package main

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) cluster(name string) *object.ClusterComputeResource {
	c, err := e.f.ClusterComputeResource(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *labEnv) rules(c *object.ClusterComputeResource) []types.BaseClusterRuleInfo {
	var m mo.ClusterComputeResource
	if err := c.Properties(e.ctx, c.Reference(), []string{"configurationEx"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return m.ConfigurationEx.(*types.ClusterConfigInfoEx).Rule
}

func (e *labEnv) rule(c *object.ClusterComputeResource, name string) *types.ClusterAntiAffinityRuleSpec {
	for _, r := range e.rules(c) {
		if a, ok := r.(*types.ClusterAntiAffinityRuleSpec); ok && a.Name == name {
			return a
		}
	}
	return nil
}

func (e *labEnv) reconfigureRules(c *object.ClusterComputeResource, specs ...types.ClusterRuleSpec) error {
	tk, err := c.Reconfigure(e.ctx, &types.ClusterConfigSpecEx{RulesSpec: specs}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = tk.WaitForResult(e.ctx, nil)
	return err
}

func antiAffinity(name string, vms ...*object.VirtualMachine) *types.ClusterAntiAffinityRuleSpec {
	r := &types.ClusterAntiAffinityRuleSpec{ClusterRuleInfo: types.ClusterRuleInfo{Name: name, Enabled: types.NewBool(true)}}
	for _, vm := range vms {
		r.Vm = append(r.Vm, vm.Reference())
	}
	return r
}

// Anti-affinity rules: stored with a key and uuid, edited by key, removed by
// key; compliance follows where the VMs run; a power-on that would break
// the rule fails with RuleViolation.
func TestDRSAntiAffinityRule(t *testing.T) {
	e := newLabEnv(t)
	c := e.cluster(GPUClusterName)
	a := e.mustClone("drs-a", e.host(2), nil)
	b := e.mustClone("drs-b", e.host(2), nil)
	other := e.mustClone("drs-c", e.host(3), nil)
	add := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd}}
	add.Info = antiAffinity("drs-test-group", a, b)
	if err := e.reconfigureRules(c, add); err != nil {
		t.Fatal(err)
	}
	r := e.rule(c, "drs-test-group")
	if r == nil || r.Key == 0 || r.RuleUuid == "" || len(r.Vm) != 2 || r.InCompliance == nil || !*r.InCompliance || r.Status != "green" {
		t.Fatalf("rule %+v", r)
	}
	defer func() {
		rm := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationRemove, RemoveKey: r.Key}}
		_ = e.reconfigureRules(c, rm)
	}()
	if err := e.reconfigureRules(c, add); faultName(err) != "InvalidArgument" {
		t.Errorf("the same name again: %v", err)
	}
	if err := e.powerOn(a); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.powerOn(b), &types.RuleViolation{},
		"This operation would violate a virtual machine affinity/anti-affinity rule.", "drs-test-group", "drs-a")

	// Edit by key: the third VM joins; key and uuid stay.
	edit := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationEdit}}
	info := antiAffinity("drs-test-group", a, b, other)
	info.Key = r.Key
	edit.Info = info
	if err := e.reconfigureRules(c, edit); err != nil {
		t.Fatal(err)
	}
	if r2 := e.rule(c, "drs-test-group"); r2 == nil || r2.Key != r.Key || r2.RuleUuid != r.RuleUuid || len(r2.Vm) != 3 {
		t.Errorf("after edit %+v", r2)
	}
	if err := e.powerOn(other); err != nil { // host 03: apart from drs-a
		t.Errorf("power-on apart: %v", err)
	}
	// A rule naming a VM outside the cluster is refused.
	bad := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd}}
	bad.Info = antiAffinity("drs-elsewhere", a, b)
	if err := e.reconfigureRules(e.cluster(HPCClusterName), bad); faultName(err) != "InvalidArgument" {
		t.Errorf("VMs of another cluster: %v", err)
	}
	unknown := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationRemove, RemoveKey: int32(9999)}}
	if err := e.reconfigureRules(c, unknown); faultName(err) != "InvalidArgument" {
		t.Errorf("unknown key: %v", err)
	}
	// A destroyed VM leaves the rule.
	e.powerOff(other)
	tk, err := other.Destroy(e.ctx)
	if err != nil || tk.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	if r3 := e.rule(c, "drs-test-group"); r3 == nil || len(r3.Vm) != 2 {
		t.Errorf("after destroy %+v", r3)
	}
}

// A rule made over VMs already running together is out of compliance.
func TestDRSRuleCompliance(t *testing.T) {
	e := newLabEnv(t)
	c := e.cluster(GPUClusterName)
	a := e.mustClone("drs-together-a", e.host(4), nil)
	b := e.mustClone("drs-together-b", e.host(4), nil)
	for _, vm := range []*object.VirtualMachine{a, b} {
		if err := e.powerOn(vm); err != nil {
			t.Fatal(err)
		}
	}
	add := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd}}
	add.Info = antiAffinity("drs-together", a, b)
	if err := e.reconfigureRules(c, add); err != nil {
		t.Fatal(err)
	}
	r := e.rule(c, "drs-together")
	defer func() {
		rm := types.ClusterRuleSpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationRemove, RemoveKey: r.Key}}
		if err := e.reconfigureRules(c, rm); err != nil {
			t.Error(err)
		}
		if e.rule(c, "drs-together") != nil {
			t.Error("rule not removed")
		}
	}()
	if r.InCompliance == nil || *r.InCompliance || r.Status != "red" {
		t.Errorf("rule over co-located VMs: %+v", r)
	}
	e.powerOff(b)
	if r := e.rule(c, "drs-together"); r.InCompliance == nil || !*r.InCompliance || r.Status != "green" {
		t.Errorf("after a power-off: %+v", r)
	}
}
