package main

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// upgrade runs UpgradeVM_Task (version "" for the host's newest).
func (e *labEnv) upgrade(vm *object.VirtualMachine, version string) error {
	e.t.Helper()
	tk, err := vm.UpgradeVM(e.ctx, version)
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = tk.WaitForResult(e.ctx, nil)
	return err
}

// mustCloneV17 clones the (vmx-13) template onto h, upgrades the clone to
// vmx-17 and applies cfg: how a Dynamic DirectPath VM is made from an older
// template.
func (e *labEnv) mustCloneV17(name string, h *object.HostSystem, cfg *types.VirtualMachineConfigSpec) *object.VirtualMachine {
	e.t.Helper()
	vm := e.mustClone(name, h, nil)
	if err := e.upgrade(vm, "vmx-17"); err != nil {
		e.t.Fatalf("upgrade %s: %v", name, err)
	}
	if cfg != nil {
		if err := e.reconfigure(vm, *cfg); err != nil {
			e.t.Fatalf("reconfigure %s: %v", name, err)
		}
	}
	return vm
}

// TestHardwareVersions: a clone keeps its source's version and spec.version
// is ignored but at creation; UpgradeVM_Task moves it up within what the
// host runs; Dynamic DirectPath needs vmx-17.
func TestHardwareVersions(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(3)
	dyn := func() *types.VirtualMachineConfigSpec {
		return reserved(dynamicDevice100(-200, 0x10de, 0x1db4, ""))
	}
	_, err := e.clone("hw-dyn-13", h, dyn(), false)
	expectFault(t, err, &types.DeviceUnsupportedForVmVersion{}, "needs virtual hardware version 17", "vmx-13")
	asked := dyn()
	asked.Version = "vmx-17" // ignored: the clone is the template's vmx-13
	_, err = e.clone("hw-dyn-asked", h, asked, false)
	expectFault(t, err, &types.DeviceUnsupportedForVmVersion{}, "vmx-13")

	vm := e.mustClone("hw-plain", h, &types.VirtualMachineConfigSpec{Version: "vmx-17"})
	if v := e.vmMo(vm, "config.version").Config.Version; v != "vmx-13" {
		t.Errorf("clone version %s", v)
	}
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{Version: "vmx-17"}); err != nil {
		t.Fatal(err)
	}
	if v := e.vmMo(vm, "config.version").Config.Version; v != "vmx-13" {
		t.Errorf("a reconfigure changed the version to %s", v)
	}
	expectFault(t, e.reconfigure(vm, *dyn()), &types.DeviceUnsupportedForVmVersion{}, "hw-plain")
	expectFault(t, e.upgrade(vm, "vmx-18"), &types.InvalidState{}, "up to vmx-17")
	expectFault(t, e.upgrade(vm, "seventeen"), &types.InvalidState{})
	if err := e.upgrade(vm, ""); err != nil { // the host's newest: ESXi 7.0.0 runs vmx-17
		t.Fatal(err)
	}
	if v := e.vmMo(vm, "config.version").Config.Version; v != "vmx-17" {
		t.Errorf("upgraded to %s", v)
	}
	expectFault(t, e.upgrade(vm, "vmx-15"), &types.AlreadyUpgraded{})
	if err := e.reconfigure(vm, *dyn()); err != nil {
		t.Errorf("dynamic device at vmx-17: %v", err)
	}
	pool := e.poolOf(h)
	tk, err := vm.Clone(e.ctx, e.folders.VmFolder, "hw-of-17", types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &pool}})
	if err != nil {
		t.Fatal(err)
	}
	copy17 := e.mustTaskVM(tk)
	if v := e.vmMo(copy17, "config.version").Config.Version; v != "vmx-17" {
		t.Errorf("a clone of a vmx-17 VM is %s", v)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.upgrade(vm, ""), &types.InvalidPowerState{})

	old := e.mustClone("hw-on-67", e.host(HPCClusterHost), nil) // vhpc-esx-01 runs ESXi 6.7: vmx-14 at most
	expectFault(t, e.upgrade(old, "vmx-17"), &types.InvalidState{}, "up to vmx-14")
}
