package main

// Network adapters as vCenter gives them (sim/README.md "Adapters"):
//
//   - MAC addresses: vCenter assigns every new adapter of a VM it creates
//     or reconfigures a MAC address of its own (VMware OUI allocation,
//     00:50:56:XX:YY:ZZ with XX = 0x80 + the vCenter instance id, the lab's
//     id being 0), addressType "assigned". A clone's adapters get new ones:
//     two VMs never share a MAC address. Only an adapter with addressType
//     "manual" keeps the address the client gave. (The stock simulator copies
//     the source's adapter objects, MAC addresses included, into a clone.)
//   - PCI slots: every adapter has slotInfo.pciSlotNumber. Emulated adapters
//     (vmxnet3, e1000, PVRDMA: "ethernetN" in the VMX) take the ethernet slots
//     in the order they are added, each the lowest free one; SR-IOV adapters
//     ("pciPassthruN" in the VMX) take PCIe passthrough slots, after every
//     ethernet slot. The guest enumerates adapters in this order, and guest
//     customization maps nicSettingMap[i] to the i-th adapter in it.
//   - guest.net lists the VM's adapters in PCI slot order (network name,
//     MAC address, deviceConfigId), whatever methods changed them (the stock
//     simulator only appends on add, so removed and edited adapters stayed).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// vCenterID is the lab vCenter's instance id (VMware OUI allocation).
const vCenterID = 0

// ethernetSlots are the PCI slots of ethernet0, ethernet1, ... as in a VMX;
// SR-IOV adapters take passthroughSlotBase + 32*i.
var ethernetSlots = []int32{192, 224, 256, 1184, 1216, 1248, 1280, 2208, 2240, 2272}

const passthroughSlotBase = 3232

// nextMAC returns a MAC address no adapter of the lab has had; l.mu held.
func (l *Lab) nextMAC() string {
	for {
		n := l.macNext % (1 << 16)
		l.macNext++
		mac := fmt.Sprintf("00:50:56:%02x:%02x:%02x", 0x80+vCenterID, n>>8, n&0xff)
		if !l.macsUsed[mac] {
			l.macsUsed[mac] = true
			return mac
		}
	}
}

// ethernetCards are vm's adapters in PCI slot order (unslotted last, by key).
func ethernetCards(vm *simulator.VirtualMachine) []*types.VirtualEthernetCard {
	var cards []*types.VirtualEthernetCard
	for _, d := range vm.Config.Hardware.Device {
		if c, ok := d.(types.BaseVirtualEthernetCard); ok {
			cards = append(cards, c.GetVirtualEthernetCard())
		}
	}
	sort.SliceStable(cards, func(i, j int) bool {
		si, sj := pciSlot(cards[i]), pciSlot(cards[j])
		if si != sj {
			return si != 0 && (sj == 0 || si < sj)
		}
		return cards[i].Key < cards[j].Key
	})
	return cards
}

func pciSlot(c *types.VirtualEthernetCard) int32 {
	if s, ok := c.SlotInfo.(*types.VirtualDevicePciBusSlotInfo); ok {
		return s.PciSlotNumber
	}
	return 0
}

// isSriov tells an SR-IOV adapter (a passthrough device in the VMX).
func isSriov(vm *simulator.VirtualMachine, c *types.VirtualEthernetCard) bool {
	for _, d := range vm.Config.Hardware.Device {
		if s, ok := d.(*types.VirtualSriovEthernetCard); ok && s.Key == c.Key {
			return true
		}
	}
	return false
}

// settleAdapters gives vm's adapters (vm locked by the caller) what vCenter
// gives them after a clone or reconfigure: a new MAC address for each
// adapter not in keep (keep: device key -> MAC the adapter had before;
// adapters in it keep that address), unless the client set a manual one; a
// PCI slot for each adapter without one; guest.net rebuilt.
func (l *Lab) settleAdapters(vm *simulator.VirtualMachine, keep map[int32]string) {
	l.mu.Lock()
	for _, c := range ethernetCards(vm) {
		switch mac, kept := keep[c.Key]; {
		case c.AddressType == string(types.VirtualEthernetCardMacTypeManual) && c.MacAddress != "":
			l.macsUsed[strings.ToLower(c.MacAddress)] = true
		case kept && mac != "":
			c.MacAddress = mac
		default:
			c.MacAddress = l.nextMAC()
			c.AddressType = string(types.VirtualEthernetCardMacTypeAssigned)
		}
	}
	l.mu.Unlock()
	used := map[int32]bool{}
	cards := ethernetCards(vm)
	for _, c := range cards {
		if s := pciSlot(c); s != 0 {
			used[s] = true
		}
	}
	for _, c := range cards {
		if pciSlot(c) != 0 {
			continue
		}
		slot := freeSlot(used, isSriov(vm, c))
		used[slot] = true
		c.SlotInfo = &types.VirtualDevicePciBusSlotInfo{PciSlotNumber: slot}
	}
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config.hardware.device", Val: vm.Config.Hardware.Device},
		{Name: "guest.net", Val: guestNICs(vm)},
	})
}

// freeSlot is the lowest free ethernet slot, or passthrough slot for SR-IOV.
func freeSlot(used map[int32]bool, sriov bool) int32 {
	if !sriov {
		for _, s := range ethernetSlots {
			if !used[s] {
				return s
			}
		}
	}
	for s := int32(passthroughSlotBase); ; s += 32 {
		if !used[s] {
			return s
		}
	}
}

// adapterMACs are vm's adapters' MAC addresses by device key.
func adapterMACs(vm *simulator.VirtualMachine) map[int32]string {
	out := map[int32]string{}
	for _, c := range ethernetCards(vm) {
		out[c.Key] = c.MacAddress
	}
	return out
}

// guestNICs is guest.net for vm's adapters in PCI slot order, keeping what
// the guest reported for adapters it already had (addresses, DNS).
func guestNICs(vm *simulator.VirtualMachine) []types.GuestNicInfo {
	old := map[int32]types.GuestNicInfo{}
	for _, n := range vm.Guest.Net {
		old[n.DeviceConfigId] = n
	}
	var out []types.GuestNicInfo
	for _, c := range ethernetCards(vm) {
		n, ok := old[c.Key]
		if !ok {
			n = types.GuestNicInfo{Connected: true, DeviceConfigId: c.Key}
		}
		n.Network = adapterNetwork(c)
		n.MacAddress = c.MacAddress
		out = append(out, n)
	}
	return out
}

// adapterNetwork is the name of the port group an adapter is on.
func adapterNetwork(c *types.VirtualEthernetCard) string {
	switch b := c.Backing.(type) {
	case *types.VirtualEthernetCardNetworkBackingInfo:
		return b.DeviceName
	case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
		for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
			if pg, ok := e.(*simulator.DistributedVirtualPortgroup); ok && pg.Key == b.Port.PortgroupKey {
				return pg.Name
			}
		}
	}
	return ""
}

// checkNicSettings refuses a customization whose nicSettingMap does not fit
// vm's adapters: one mapping per adapter (NicSettingMismatch), and a
// mapping's MAC address, when given, must be that of the adapter at its
// position in PCI slot order (vSphere 7.0 wants the MAC addresses in
// ascending pciSlotNumber order and reports a mismatch otherwise).
func checkNicSettings(vm *simulator.VirtualMachine, spec *types.CustomizationSpec) types.BaseMethodFault {
	cards := ethernetCards(vm)
	if len(spec.NicSettingMap) != len(cards) {
		return withMessage(&types.NicSettingMismatch{
			NumberOfNicsInSpec: int32(len(spec.NicSettingMap)),
			NumberOfNicsInVM:   int32(len(cards)),
		}, "nicSettingMismatch", fmt.Sprintf(
			"The number of network adapter settings in the customization specification: %d does not match "+
				"the number of network adapters present in the virtual machine: %d (VM %s).",
			len(spec.NicSettingMap), len(cards), vm.Name))
	}
	for i, m := range spec.NicSettingMap {
		if m.MacAddress == "" || strings.EqualFold(m.MacAddress, cards[i].MacAddress) {
			continue
		}
		var order []string
		for _, c := range cards {
			order = append(order, c.MacAddress)
		}
		return withMessage(&types.InvalidArgument{InvalidProperty: "spec.nicSettingMap.macAddress"},
			"nicSettingMacMismatch", fmt.Sprintf(
				"MAC address mismatch: nicSettingMap[%d] names %s, but adapter %d of VM %s in PCI slot "+
					"order has %s (its adapters in that order: %s).",
				i, m.MacAddress, i+1, vm.Name, cards[i].MacAddress, strings.Join(order, ", ")))
	}
	return nil
}
