package main

// Guest customization as vSphere runs it, and the events vCenter logs.
//
// A customization spec (CloneVM_Task spec.customization, CustomizeVM_Task)
// is applied by the guest at its next boot: the guest boots with its old
// network identity (a clone: the template's DHCP lease), VMware Tools runs
// and starts the customization (CustomizationStartedEvent), the guest
// reboots with Tools not running, and comes back with the customized
// address (CustomizationSucceeded). When the customization fails the guest
// does not reboot into the new identity: it keeps its interim address and
// vCenter logs a CustomizationFailed subtype. Customization runs once per
// spec: later boots keep what the guest has.
//
// The events go through the simulator's EventManager, so QueryEvents and
// event history collectors (their latestPage, through WaitForUpdatesEx)
// show them. Their messages follow vCenter's.

import (
	"regexp"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// linuxCustomizationLog is where a Linux guest logs its customization
// (CustomizationEvent.logLocation).
const linuxCustomizationLog = "/var/log/vmware-imc/toolsDeployPkg.log"

// customizationEventInfo are vCenter's descriptions of the customization
// events (EventManager.description.eventInfo); the stock simulator has
// none, so their fullFormattedMessage would be empty.
var customizationEventInfo = []types.EventDescriptionEventDetail{
	{Key: "CustomizationStartedEvent", Description: "Started customization", Category: "info",
		FullFormat: "Started customization of VM {{.Vm.Name}}. Customization log located at {{.LogLocation}} in the guest OS."},
	{Key: "CustomizationSucceeded", Description: "Customization succeeded", Category: "info",
		FullFormat: "Customization of VM {{.Vm.Name}} succeeded. Customization log located at {{.LogLocation}} in the guest OS."},
	{Key: "CustomizationFailed", Description: "Cannot complete customization", Category: "error",
		FullFormat: "Cannot complete customization of VM {{.Vm.Name}}. See customization log at {{.LogLocation}} on the guest OS for details."},
	{Key: "CustomizationNetworkSetupFailed", Description: "Network setup failed in the guest during customization", Category: "error",
		FullFormat: "An error occurred while setting up network properties of the guest OS. See the log file {{.LogLocation}} in the guest OS for details."},
	{Key: "CustomizationLinuxIdentityFailed", Description: "Linux identity setup failed in the guest during customization", Category: "error",
		FullFormat: "An error occurred while setting up Linux identity. See log file '{{.LogLocation}}' on guest OS for details."},
	{Key: "CustomizationUnknownFailure", Description: "Unknown customization error", Category: "error",
		FullFormat: "An error occurred while customizing VM {{.Vm.Name}}. For details reference the log file {{.LogLocation}} in the guest OS."},
}

// customizationEvents posts the customization events of lab VMs.
type customizationEvents struct {
	fail *regexp.Regexp // VMs whose names match fail their customization (--customization-fail)
	ctx  *simulator.Context
}

func (l *Lab) installCustomizationEvents() {
	em := simulator.Map.EventManager()
	simulator.Map.WithLock(em, func() {
		have := map[string]bool{}
		for _, info := range em.Description.EventInfo {
			have[info.Key] = true
		}
		for _, info := range customizationEventInfo {
			if !have[info.Key] {
				em.Description.EventInfo = append(em.Description.EventInfo, info)
			}
		}
	})
	// Events posted by the lab itself, not by a client's call: vCenter's
	// own, with no user name.
	ctx := &simulator.Context{Session: &simulator.Session{}}
	l.events = &customizationEvents{fail: l.opts.CustomizationFail, ctx: ctx}
}

// vmEvent is the VmEvent part of an event about vm (locked by the caller):
// the VM, its host, compute resource and datacenter, as vCenter fills them.
func vmEvent(vm *simulator.VirtualMachine) types.VmEvent {
	ev := types.VmEvent{Event: types.Event{Vm: &types.VmEventArgument{
		EntityEventArgument: types.EntityEventArgument{Name: vm.Name}, Vm: vm.Self}}}
	if vm.Runtime.Host == nil {
		return ev
	}
	host, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	if !ok {
		return ev
	}
	ev.Host = &types.HostEventArgument{EntityEventArgument: types.EntityEventArgument{Name: host.Name}, Host: host.Self}
	if _, cr := computeOf(host); cr != nil {
		ev.ComputeResource = &types.ComputeResourceEventArgument{
			EntityEventArgument: types.EntityEventArgument{Name: cr.Name}, ComputeResource: cr.Self}
	}
	if dc := datacenterOf(host); dc != nil {
		ev.Datacenter = &types.DatacenterEventArgument{
			EntityEventArgument: types.EntityEventArgument{Name: dc.Name}, Datacenter: dc.Self}
	}
	return ev
}

// post hands an event to the EventManager, which files it and passes it
// to every event history collector whose filter matches.
func (c *customizationEvents) post(ev types.BaseEvent) {
	em := simulator.Map.EventManager()
	simulator.Map.WithLock(em, func() {
		em.PostEvent(c.ctx, &types.PostEvent{EventToPost: ev})
	})
}

func customizationEvent(vm *simulator.VirtualMachine) types.CustomizationEvent {
	return types.CustomizationEvent{VmEvent: vmEvent(vm), LogLocation: linuxCustomizationLog}
}

// fails says whether vm's customization fails (--customization-fail).
func (c *customizationEvents) fails(vm *simulator.VirtualMachine) bool {
	return c.fail != nil && c.fail.MatchString(vm.Name)
}

// startCustomization runs at the boot that applies spec (vm locked, the
// guest up with its interim address): the customization starts, and after
// --customization-time the guest either reboots into spec or fails.
func (l *Lab) startCustomization(vm *simulator.VirtualMachine, gen int, spec *types.CustomizationSpec) {
	l.events.post(&types.CustomizationStartedEvent{CustomizationEvent: customizationEvent(vm)})
	ref := vm.Self
	time.AfterFunc(l.opts.CustomizationTime, func() { l.endCustomization(ref, gen, spec) })
}

// endCustomization fails the customization, or reboots the guest (Tools not
// running, no address) into its customized identity; finishBoot reports
// that boot and posts CustomizationSucceeded.
func (l *Lab) endCustomization(ref types.ManagedObjectReference, gen int, spec *types.CustomizationSpec) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		l.mu.Lock()
		g := l.guest(ref.Value)
		if g.gen != gen {
			l.mu.Unlock()
			return
		}
		if l.events.fails(vm) {
			l.mu.Unlock()
			l.events.post(&types.CustomizationNetworkSetupFailed{CustomizationFailed: types.CustomizationFailed{
				CustomizationEvent: customizationEvent(vm)}})
			return
		}
		g.custom = spec
		g.announce = true
		g.gen++ // the reboot: a new boot of the same power-on
		next := g.gen
		l.mu.Unlock()
		if l.guestOps != nil {
			l.guestOps.endAll(ref.Value, false) // a reboot ends the guest's processes
		}
		simulator.Map.Update(vm, guestDownChanges(vm))
		time.AfterFunc(l.opts.BootDelay, func() { l.finishBoot(ref, next) })
	})
}

// succeeded posts CustomizationSucceeded for vm (locked by the caller).
func (l *Lab) customizationSucceeded(vm *simulator.VirtualMachine) {
	l.events.post(&types.CustomizationSucceeded{CustomizationEvent: customizationEvent(vm)})
}
