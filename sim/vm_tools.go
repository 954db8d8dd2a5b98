package main

// VMware Tools as vCenter describes it in a VM's configuration
// (config.tools, ToolsConfigInfo): the Tools the lab's guests run
// (open-vm-tools 11.3.5, version 11365, the guest's toolsVersion too), the
// power-operation scripts on, manual upgrades, no time sync with the host,
// and lastInstallInfo (counter 0: never installed by vCenter; open-vm-tools
// comes with the guest OS). The stock simulator left lastInstallInfo and
// the rest unset (Ansible's vmware_guest_tools_info crashed reading
// config.tools.lastInstallInfo.counter). Every VM gets it when it is made
// (create, clone, register); a client's own values stay.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// labToolsVersion is the Tools version of the lab's guests (guest.go).
const labToolsVersion = 11365

// fillToolsConfig sets the unset parts of vm's config.tools.
func fillToolsConfig(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	t := vm.Config.Tools
	if t == nil {
		t = &types.ToolsConfigInfo{}
		vm.Config.Tools = t
	}
	if t.ToolsVersion == 0 {
		t.ToolsVersion = labToolsVersion
	}
	if t.ToolsInstallType == "" {
		t.ToolsInstallType = "guestToolsTypeOpenVMTools"
	}
	for _, b := range []**bool{&t.AfterPowerOn, &t.AfterResume, &t.BeforeGuestStandby, &t.BeforeGuestShutdown,
		&t.BeforeGuestReboot, &t.SyncTimeWithHostAllowed} {
		if *b == nil {
			*b = types.NewBool(true)
		}
	}
	if t.SyncTimeWithHost == nil {
		t.SyncTimeWithHost = types.NewBool(false)
	}
	if t.ToolsUpgradePolicy == "" {
		t.ToolsUpgradePolicy = string(types.UpgradePolicyManual)
	}
	if t.LastInstallInfo == nil {
		t.LastInstallInfo = &types.ToolsConfigInfoToolsLastInstallInfo{Counter: 0}
	}
}

// toolsWatcher fills config.tools of every VM the inventory gets.
type toolsWatcher struct {
	mo.ExtensibleManagedObject
}

func installToolsConfig() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			fillToolsConfig(vm)
		}
	}
	w := &toolsWatcher{}
	w.Self = types.ManagedObjectReference{Type: "LabToolsWatcher", Value: "lab-tools-watcher"}
	simulator.Map.AddHandler(w)
}

func (w *toolsWatcher) PutObject(mo.Reference) {}

// UpdateObject fills a new VM's config.tools at its first change (the stock
// CreateVM registers a VM before it has a configuration, then changes it).
func (w *toolsWatcher) UpdateObject(o mo.Reference, _ []types.PropertyChange) {
	if o.Reference().Type != "VirtualMachine" {
		return
	}
	if vm, ok := simulator.Map.Get(o.Reference()).(*simulator.VirtualMachine); ok && vm.Config != nil &&
		(vm.Config.Tools == nil || vm.Config.Tools.LastInstallInfo == nil) {
		fillToolsConfig(vm)
	}
}
func (w *toolsWatcher) RemoveObject(types.ManagedObjectReference) {}
