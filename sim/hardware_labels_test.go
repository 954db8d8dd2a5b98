package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) hardwareManager(n int) types.ManagedObjectReference {
	var h mo.HostSystem
	if err := e.host(n).Properties(e.ctx, e.host(n).Reference(), []string{"configManager"}, &h); err != nil {
		e.t.Fatal(err)
	}
	if h.ConfigManager.AssignableHardwareManager == nil {
		e.t.Fatal("host has no assignableHardwareManager")
	}
	return *h.ConfigManager.AssignableHardwareManager
}

func (e *labEnv) setLabels(n int, labels map[string]string) error {
	cfg := types.HostAssignableHardwareConfig{}
	for id, label := range labels {
		cfg.AttributeOverride = append(cfg.AttributeOverride, types.HostAssignableHardwareConfigAttributeOverride{
			InstanceId: id, Name: "customLabel", Value: label})
	}
	_, err := methods.UpdateAssignableHardwareConfig(e.ctx, e.c.Client, &types.UpdateAssignableHardwareConfig{
		This: e.hardwareManager(n), Config: cfg})
	return err
}

// Hardware labels: UpdateAssignableHardwareConfig sets them; a Dynamic
// DirectPath device with a label gets only a device carrying it.
func TestHardwareLabelsForDynamicDirectPath(t *testing.T) {
	e := newLabEnv(t)
	n := 5
	defer e.setLabels(n, nil)
	if err := e.setLabels(n, map[string]string{GPUIds[1]: "training"}); err != nil {
		t.Fatal(err)
	}
	cfg := e.hostConfig(e.host(n))
	if o := cfg.AssignableHardwareConfig.AttributeOverride; len(o) != 1 || o[0].InstanceId != GPUIds[1] || o[0].Value != "training" {
		t.Fatalf("overrides %+v", cfg.AssignableHardwareConfig)
	}
	var m mo.HostAssignableHardwareManager
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, e.hardwareManager(n), []string{"config"}, &m); err != nil ||
		len(m.Config.AttributeOverride) != 1 {
		t.Fatalf("the manager's config %+v %v", m.Config, err)
	}
	vm := e.mustCloneV17("label-dyn", e.host(n), reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "training")))
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	if ids := e.dynamicIds(vm); len(ids) != 1 || ids[0] != GPUIds[1] {
		t.Errorf("assigned %v, want the labelled %s", ids, GPUIds[1])
	}
	if err := e.c.PropertyCollector().RetrieveOne(e.ctx, e.hardwareManager(n), []string{"binding"}, &m); err != nil ||
		len(m.Binding) != 1 || m.Binding[0].InstanceId != GPUIds[1] {
		t.Errorf("the manager's binding %+v %v", m.Binding, err)
	}
	second := e.mustCloneV17("label-dyn-2", e.host(n), reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "training")))
	expectFault(t, e.powerOn(second), &types.GenericVmConfigFault{}, "label training", "in use")
	// A backing without a label takes a labelled device too.
	any := e.mustCloneV17("label-dyn-any", e.host(n), reserved(dynamicDevice100(-200, 0x10de, 0x1db4, "")))
	if err := e.powerOn(any); err != nil {
		t.Fatal(err)
	}
	if ids := e.dynamicIds(any); len(ids) != 1 || ids[0] != GPUIds[0] {
		t.Errorf("unlabelled request got %v", ids)
	}
	if err := e.setLabels(n, map[string]string{"0000:99:00.0": "x"}); faultName(err) != "InvalidArgument" {
		t.Errorf("unknown device: %v", err)
	}
	bad := types.HostAssignableHardwareConfig{AttributeOverride: []types.HostAssignableHardwareConfigAttributeOverride{
		{InstanceId: GPUIds[0], Name: "color", Value: "x"}}}
	if _, err := methods.UpdateAssignableHardwareConfig(e.ctx, e.c.Client, &types.UpdateAssignableHardwareConfig{
		This: e.hardwareManager(n), Config: bad}); faultName(err) != "InvalidArgument" {
		t.Errorf("unknown attribute: %v", err)
	}
}
