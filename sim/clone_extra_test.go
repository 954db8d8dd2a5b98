package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// A clone keeps its source's extraConfig (the VMX's entries); the clone
// spec's keys are set, and an empty value removes one, as in a reconfigure.
func TestCloneKeepsTheSourcesExtraConfig(t *testing.T) {
	e := newLabEnv(t)
	src := e.mustClone("extra-src", e.host(3), &types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{
		&types.OptionValue{Key: "site.mark", Value: "a"}, &types.OptionValue{Key: "site.gone", Value: "b"}}})
	pool, host := e.poolOf(e.host(3)), e.host(3).Reference()
	tk, err := src.Clone(e.ctx, e.folders.VmFolder, "extra-child", types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &pool, Host: &host},
		Config: &types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{
			&types.OptionValue{Key: "site.gone", Value: ""}, &types.OptionValue{Key: "site.new", Value: "c"}}}})
	if err != nil {
		t.Fatal(err)
	}
	child := e.mustTaskVM(tk).Reference()
	var m mo.VirtualMachine
	if err := e.c.RetrieveOne(e.ctx, child, []string{"config.extraConfig"}, &m); err != nil {
		t.Fatal(err)
	}
	got := map[string]interface{}{}
	for _, o := range m.Config.ExtraConfig {
		v := o.GetOptionValue()
		if _, dup := got[v.Key]; dup {
			t.Errorf("key %s twice", v.Key)
		}
		got[v.Key] = v.Value
	}
	if got["site.mark"] != "a" || got["site.new"] != "c" {
		t.Errorf("clone's extraConfig: %v", got)
	}
	if _, ok := got["site.gone"]; ok {
		t.Errorf("an empty value left its key: %v", got)
	}
}
