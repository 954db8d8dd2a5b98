package main

import (
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) option(h *object.HostSystem, key string) string {
	m, err := h.ConfigManager().OptionManager(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	opts, err := m.Query(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range opts {
		if v := o.GetOptionValue(); v.Key == key {
			s, _ := v.Value.(string)
			return s
		}
	}
	return "(missing)"
}

func (e *labEnv) setOption(h *object.HostSystem, key, value string) {
	m, err := h.ConfigManager().OptionManager(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := m.Update(e.ctx, []types.BaseOptionValue{&types.OptionValue{Key: key, Value: value}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *labEnv) ruleset(h *object.HostSystem, enable bool) error {
	fs, err := h.ConfigManager().FirewallSystem(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if enable {
		return fs.EnableRuleset(e.ctx, pvrdmaRuleset)
	}
	return fs.DisableRuleset(e.ctx, pvrdmaRuleset)
}

func configRuleset(cfg *types.HostConfigInfo, key string) bool {
	for _, rs := range cfg.Firewall.Ruleset {
		if rs.Key == key {
			return rs.Enabled
		}
	}
	return false
}

// addVnic adds a VMkernel adapter on a distributed port group.
func (e *labEnv) addVnic(h *object.HostSystem, uuid, pgKey string) (string, error) {
	res, err := methods.AddVirtualNic(e.ctx, e.c.Client, &types.AddVirtualNic{
		This: e.networkSystem(h).Reference(),
		Nic: types.HostVirtualNicSpec{DistributedVirtualPort: &types.DistributedVirtualSwitchPortConnection{
			SwitchUuid: uuid, PortgroupKey: pgKey}, Ip: &types.HostIpConfig{Dhcp: true}},
	})
	if err != nil {
		return "", err
	}
	return res.Returnval, nil
}

func (e *labEnv) removeVnic(h *object.HostSystem, device string) error {
	_, err := methods.RemoveVirtualNic(e.ctx, e.c.Client, &types.RemoveVirtualNic{This: e.networkSystem(h).Reference(), Device: device})
	return err
}

// pvrdmaSwitch creates a switch with members on pnics and a port group.
func (e *labEnv) pvrdmaSwitch(name string, pnics []string, members ...*object.HostSystem) (*object.DistributedVirtualSwitch, string, string) {
	s, err := e.tryCreateDVS(dvsSpec(name, "", pnics, members...))
	if err != nil {
		e.t.Fatal(err)
	}
	task, err := s.AddPortgroup(e.ctx, []types.DVPortgroupConfigSpec{{Name: name + "-pg", Type: "earlyBinding", NumPorts: 8, AutoExpand: types.NewBool(true)}})
	if err != nil || task.Wait(e.ctx) != nil {
		e.t.Fatal(err)
	}
	m := e.dvsProps(s)
	for _, r := range m.Portgroup {
		var pg mo.DistributedVirtualPortgroup
		if err := e.c.PropertyCollector().RetrieveOne(e.ctx, r, []string{"name", "key"}, &pg); err != nil {
			e.t.Fatal(err)
		}
		if pg.Name == name+"-pg" {
			return s, m.Uuid, pg.Key
		}
	}
	e.t.Fatal("no port group")
	return nil, "", ""
}

// Hosts start unprepared; a PVRDMA VM powers on only on a prepared host.
func TestPVRDMAHostPreparation(t *testing.T) {
	e := newLabEnv(t)
	h, other := e.host(8), e.host(3)
	if got := e.option(h, pvrdmaOption); got != "" {
		t.Errorf("%s at start %q", pvrdmaOption, got)
	}
	if configRuleset(e.hostConfig(h), pvrdmaRuleset) {
		t.Error("pvrdma ruleset enabled at start")
	}
	s, uuid, key := e.pvrdmaSwitch("pvrdma-prep", []string{"vmnic5"}, h)
	vm := e.mustClone("pvrdma-prep-vm", h, addDevices(vrdmaOn(uuid, key)))

	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "no VMkernel adapter tagged for PVRDMA", pvrdmaOption)
	vmk, err := e.addVnic(h, uuid, key)
	if err != nil {
		t.Fatal(err)
	}
	var found *types.HostVirtualNic
	for _, v := range e.hostNetwork(h).Vnic {
		if v.Device == vmk {
			found = &v
		}
	}
	if vmk != "vmk1" || found == nil || found.Spec.DistributedVirtualPort == nil || found.Spec.DistributedVirtualPort.SwitchUuid != uuid {
		t.Fatalf("VMkernel adapter %q: %+v", vmk, found)
	}
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "no VMkernel adapter tagged")
	e.setOption(h, pvrdmaOption, "vmk7")
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "has no VMkernel adapter vmk7")
	e.setOption(h, pvrdmaOption, vmk)
	defer e.setOption(h, pvrdmaOption, "")
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "firewall ruleset pvrdma disabled")
	if err := e.ruleset(h, true); err != nil {
		t.Fatal(err)
	}
	defer e.ruleset(h, false)
	if !configRuleset(e.hostConfig(h), pvrdmaRuleset) || configRuleset(e.hostConfig(other), pvrdmaRuleset) {
		t.Error("the ruleset is enabled on this host's config.firewall only")
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatalf("prepared host: %v", err)
	}
	if other := e.option(other, pvrdmaOption); other != "" {
		t.Errorf("another host's option changed: %q", other)
	}
	fs, _ := h.ConfigManager().FirewallSystem(e.ctx)
	if err := fs.EnableRuleset(e.ctx, "no-such-ruleset"); faultName(err) != "NotFound" {
		t.Errorf("unknown ruleset: %v", err)
	}

	// A VMkernel adapter keeps its switch and port group: no destroy, no
	// member removal until it is gone.
	e.powerOff(vm)
	if task, err := vm.Destroy(e.ctx); err != nil || task.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	task, _ := s.Destroy(e.ctx)
	if err := task.Wait(e.ctx); faultName(err) != "ResourceInUse" || !strings.Contains(err.Error(), vmk) {
		t.Errorf("destroying a switch with a VMkernel adapter: %v", err)
	}
	task, _ = s.Reconfigure(e.ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{
		Host: []types.DistributedVirtualSwitchHostMemberConfigSpec{{Operation: "remove", Host: h.Reference()}}}})
	if err := task.Wait(e.ctx); faultName(err) != "ResourceInUse" {
		t.Errorf("removing a member with a VMkernel adapter: %v", err)
	}
	if err := e.removeVnic(h, vmk); err != nil {
		t.Fatal(err)
	}
	if err := e.removeVnic(h, vmk); faultName(err) != "NotFound" {
		t.Errorf("removing it twice: %v", err)
	}
	destroyDVS(t, e, s)
}

// PVRDMA does not support NIC teaming; it needs hardware version 13.
func TestPVRDMAOneUplinkAndHardwareVersion(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(5)
	s, uuid, key := e.pvrdmaSwitch("pvrdma-team", []string{"vmnic5", "vmnic3"}, h)
	vmk, err := e.addVnic(h, uuid, key)
	if err != nil {
		t.Fatal(err)
	}
	e.setOption(h, pvrdmaOption, vmk)
	defer e.setOption(h, pvrdmaOption, "")
	if err := e.ruleset(h, true); err != nil {
		t.Fatal(err)
	}
	defer e.ruleset(h, false)
	vm := e.mustClone("pvrdma-team-vm", h, addDevices(vrdmaOn(uuid, key)))
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "2 uplinks on the switch (vmnic5, vmnic3)", "NIC teaming")
	// A hardware version 11 VM cannot have a PVRDMA adapter.
	spec := types.VirtualMachineConfigSpec{Name: "pvrdma-old-hw", Version: "vmx-11", GuestId: "otherLinux64Guest", MemoryMB: 512,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[" + DatastoreName + "]"}}
	task, err := e.folders.VmFolder.CreateVM(e.ctx, spec, object.NewResourcePool(e.c.Client, e.pool), h)
	if err != nil {
		t.Fatal(err)
	}
	old := e.mustTaskVM(task)
	expectFault(t, e.reconfigure(old, *addDevices(vrdmaOn(uuid, key))), &types.DeviceUnsupportedForVmVersion{},
		"hardware version 13 or later", "vmx-11")

	if task, err := vm.Destroy(e.ctx); err != nil || task.Wait(e.ctx) != nil {
		t.Fatal(err)
	}
	if err := e.removeVnic(h, vmk); err != nil {
		t.Fatal(err)
	}
	destroyDVS(t, e, s)
}
