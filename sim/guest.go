package main

// Guest state of lab VMs: VMware Tools, IP address and host name appear a
// boot delay after power-on and disappear at power-off. The address is the
// fixed IP the guest's customization gave it, else one from a DHCP-like
// pool (127.100.x.y: loopback, so real programs that contact a guest never
// send traffic off the machine), stable per VM. A pending customization is applied at
// the next boot, with a reboot (customization.go). Guest operations become
// available --guest-ops-delay after Tools starts running.

import (
	"fmt"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type guestState struct {
	pending  *types.CustomizationSpec // to be applied at the next boot (CustomizeVM_Task or clone spec)
	custom   *types.CustomizationSpec // the customization the guest runs with
	announce bool                     // this boot ends a customization: post CustomizationSucceeded
	dhcp     map[int]string           // NIC index -> pool address
	gen      int                      // bumped at every power state change and guest reboot
	opsReady time.Time                // guest operations answer from then on (Tools up + --guest-ops-delay)
}

// guest returns the state of VM moref value id; l.mu must be held.
func (l *Lab) guest(id string) *guestState {
	g := l.guests[id]
	if g == nil {
		g = &guestState{dhcp: make(map[int]string)}
		l.guests[id] = g
	}
	return g
}

func (l *Lab) setCustomization(vm *simulator.VirtualMachine, spec *types.CustomizationSpec) {
	cp := *spec
	l.mu.Lock()
	l.guest(vm.Self.Value).pending = &cp
	l.mu.Unlock()
}

// dhcpAddress returns the pool address of NIC i; l.mu must be held.
func (l *Lab) dhcpAddress(g *guestState, i int) string {
	if ip, ok := g.dhcp[i]; ok {
		return ip
	}
	n := l.ipNext % (250 * 250)
	l.ipNext++
	ip := fmt.Sprintf("127.100.%d.%d", n/250, n%250+2)
	g.dhcp[i] = ip
	return ip
}

// guestWatcher follows VM power state changes through the simulator's
// RegisterObject callbacks, whatever method caused them.
type guestWatcher struct {
	mo.ExtensibleManagedObject
	lab *Lab
}

func (l *Lab) installGuestWatcher() {
	w := &guestWatcher{lab: l}
	w.Self = types.ManagedObjectReference{Type: "LabGuestWatcher", Value: "lab-guest-watcher"}
	simulator.Map.AddHandler(w)
}

func (w *guestWatcher) PutObject(mo.Reference) {}

func (w *guestWatcher) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	ref := o.Reference()
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name == "runtime.powerState" {
			w.lab.powerChanged(ref, types.VirtualMachinePowerState(fmt.Sprint(c.Val)))
		}
	}
}

func (w *guestWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type != "VirtualMachine" {
		return
	}
	w.lab.mu.Lock()
	delete(w.lab.guests, ref.Value)
	w.lab.mu.Unlock()
	dropFromRules(ref) // drs_rules.go
}

// powerChanged runs inside the Map.Update of the power state, with the VM
// locked by the task that changed it.
func (l *Lab) powerChanged(ref types.ManagedObjectReference, state types.VirtualMachinePowerState) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	l.mu.Lock()
	g := l.guest(ref.Value)
	g.gen++
	gen := g.gen
	l.mu.Unlock()

	refreshRules(ref) // drs_rules.go: where the rules' VMs run changed
	if state == types.VirtualMachinePowerStatePoweredOn {
		time.AfterFunc(l.opts.BootDelay, func() { l.finishBoot(ref, gen) })
		return
	}
	l.releaseDevices(ref) // vGPU slots, Dynamic DirectPath devices (gpu_rules.go)
	simulator.Map.Update(vm, guestDownChanges(vm))
}

// finishBoot reports tools and addresses, unless the VM changed power
// state since the boot began; a boot with a pending customization starts
// it, and the boot after a customization's reboot announces its success.
func (l *Lab) finishBoot(ref types.ManagedObjectReference, gen int) {
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
		changes := l.guestUpChanges(vm, g)
		g.opsReady = time.Now().Add(l.opts.GuestOpsDelay)
		pending, announce := g.pending, g.announce
		g.pending, g.announce = nil, false
		l.mu.Unlock()
		simulator.Map.Update(vm, changes)
		if l.opts.GuestOpsDelay > 0 {
			time.AfterFunc(l.opts.GuestOpsDelay, func() { l.guestOpsNowReady(ref, gen) })
		}
		if l.guestOps != nil { // /etc/hosts, /etc/rc.local (guest_boot.go)
			l.guestOps.booted(ref.Value, vm.Name, changeValue(changes, "guest.hostName"),
				changeValue(changes, "guest.ipAddress"), vm)
		}
		switch {
		case pending != nil:
			l.startCustomization(vm, gen, pending)
		case announce:
			l.customizationSucceeded(vm)
		}
	})
}

// guestOpsNowReady reports guest.guestOperationsReady once the guest
// operations agent answers (--guest-ops-delay after Tools started), unless
// the VM's power changed since that boot.
func (l *Lab) guestOpsNowReady(ref types.ManagedObjectReference, gen int) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		l.mu.Lock()
		same := l.guest(ref.Value).gen == gen
		l.mu.Unlock()
		if same && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "guest.guestOperationsReady", Val: true}})
		}
	})
}

// changeValue is the value of property name among changes, as text ("" when absent).
func changeValue(changes []types.PropertyChange, name string) string {
	for _, c := range changes {
		if c.Name == name {
			return fmt.Sprint(c.Val)
		}
	}
	return ""
}

// guestOpsReady says whether vm's guest operations answer yet.
func (l *Lab) guestOpsReady(ref types.ManagedObjectReference) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !time.Now().Before(l.guest(ref.Value).opsReady)
}

// customizedName returns the host name a customization gives vm.
func customizedName(vm *simulator.VirtualMachine, spec *types.CustomizationSpec) string {
	var name types.BaseCustomizationName
	switch id := spec.Identity.(type) {
	case *types.CustomizationLinuxPrep:
		name = id.HostName
	case *types.CustomizationSysprep:
		name = id.UserData.ComputerName
	}
	switch n := name.(type) {
	case *types.CustomizationFixedName:
		return n.Name
	case *types.CustomizationPrefixName:
		return fmt.Sprintf("%s-%s", n.Base, vm.Self.Value)
	case *types.CustomizationVirtualMachineName:
		return vm.Name
	}
	return ""
}

// guestUpChanges computes the guest properties of a booted VM; l.mu held.
func (l *Lab) guestUpChanges(vm *simulator.VirtualMachine, g *guestState) []types.PropertyChange {
	hostName := vm.Name
	if g.custom != nil {
		if n := customizedName(vm, g.custom); n != "" {
			hostName = n
		}
	}
	primary := ""
	nets := make([]types.GuestNicInfo, len(vm.Guest.Net))
	for i, nic := range vm.Guest.Net {
		ip, prefix := "", int32(16)
		var adapter *types.CustomizationIPSettings
		if g.custom != nil && i < len(g.custom.NicSettingMap) {
			adapter = &g.custom.NicSettingMap[i].Adapter
		}
		if adapter != nil {
			if fixed, ok := adapter.Ip.(*types.CustomizationFixedIp); ok {
				ip = fixed.IpAddress
				prefix = maskBits(adapter.SubnetMask, 24)
			}
		}
		if ip == "" && (i == 0 || adapter != nil) {
			ip = l.dhcpAddress(g, i)
		}
		nic.Connected = true
		nic.IpAddress = nil
		nic.IpConfig = nil
		if ip != "" {
			nic.IpAddress = []string{ip}
			nic.IpConfig = &types.NetIpConfigInfo{IpAddress: []types.NetIpConfigInfoIpAddress{{
				IpAddress: ip, PrefixLength: prefix, State: string(types.NetIpConfigInfoIpAddressStatusPreferred),
			}}}
			if primary == "" {
				primary = ip
			}
		}
		nic.DnsConfig = &types.NetDnsConfigInfo{HostName: hostName}
		if adapter != nil && adapter.DnsDomain != "" {
			nic.DnsConfig.DomainName = adapter.DnsDomain
		}
		nets[i] = nic
	}
	running := string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	return []types.PropertyChange{
		{Name: "guest.toolsRunningStatus", Val: running},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
		{Name: "guest.toolsVersionStatus", Val: string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)},
		{Name: "guest.toolsVersionStatus2", Val: string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)},
		{Name: "guest.toolsVersion", Val: "11365"},
		{Name: "guest.guestState", Val: "running"},
		// vCenter says when the guest operations agent answers (after --guest-ops-delay)
		{Name: "guest.guestOperationsReady", Val: l.opts.GuestOpsDelay <= 0},
		{Name: "guest.interactiveGuestOperationsReady", Val: false},
		{Name: "guest.guestId", Val: vm.Config.GuestId},
		{Name: "guest.guestFullName", Val: vm.Config.GuestFullName},
		{Name: "guest.guestFamily", Val: string(types.VirtualMachineGuestOsFamilyLinuxGuest)},
		{Name: "guest.hostName", Val: hostName},
		{Name: "guest.ipAddress", Val: primary},
		{Name: "guest.net", Val: nets},
		{Name: "guestHeartbeatStatus", Val: types.ManagedEntityStatusGreen},
		{Name: "summary.guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
		{Name: "summary.guest.toolsRunningStatus", Val: running},
		{Name: "summary.guest.hostName", Val: hostName},
		{Name: "summary.guest.ipAddress", Val: primary},
		{Name: "summary.guest.guestId", Val: vm.Config.GuestId},
		{Name: "summary.quickStats.guestHeartbeatStatus", Val: types.ManagedEntityStatusGreen},
	}
}

// guestDownChanges clears what a running guest reports.
func guestDownChanges(vm *simulator.VirtualMachine) []types.PropertyChange {
	nets := make([]types.GuestNicInfo, len(vm.Guest.Net))
	for i, nic := range vm.Guest.Net {
		nic.IpAddress = nil
		nic.IpConfig = nil
		nic.DnsConfig = nil
		nets[i] = nic
	}
	notRunning := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	return []types.PropertyChange{
		{Name: "guest.toolsRunningStatus", Val: notRunning},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsNotRunning},
		{Name: "guest.guestState", Val: "notRunning"},
		{Name: "guest.guestOperationsReady", Val: false},
		{Name: "guest.interactiveGuestOperationsReady", Val: false},
		{Name: "guest.hostName", Val: ""},
		{Name: "guest.ipAddress", Val: ""},
		{Name: "guest.net", Val: nets},
		{Name: "guestHeartbeatStatus", Val: types.ManagedEntityStatusGray},
		{Name: "summary.guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsNotRunning},
		{Name: "summary.guest.toolsRunningStatus", Val: notRunning},
		{Name: "summary.guest.hostName", Val: ""},
		{Name: "summary.guest.ipAddress", Val: ""},
		{Name: "summary.quickStats.guestHeartbeatStatus", Val: types.ManagedEntityStatusGray},
	}
}

// maskBits converts a dotted subnet mask to a prefix length.
func maskBits(mask string, def int32) int32 {
	var a, b, c, d uint32
	if _, err := fmt.Sscanf(mask, "%d.%d.%d.%d", &a, &b, &c, &d); err != nil {
		return def
	}
	v := a<<24 | b<<16 | c<<8 | d
	n := int32(0)
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	return n
}
