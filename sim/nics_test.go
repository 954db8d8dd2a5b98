package main

import (
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// cards are vm's adapters as read, in PCI slot order.
func (e *labEnv) cards(vm object.Reference) []*types.VirtualEthernetCard {
	e.t.Helper()
	var out []*types.VirtualEthernetCard
	for _, d := range e.vmProps(vm, "config.hardware.device").Config.Hardware.Device {
		if c, ok := d.(types.BaseVirtualEthernetCard); ok {
			out = append(out, c.GetVirtualEthernetCard())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return pciSlot(out[i]) < pciSlot(out[j]) })
	return out
}

// diskFiles are the file names of vm's disks.
func (e *labEnv) diskFiles(vm object.Reference) []string {
	var out []string
	for _, d := range e.vmProps(vm, "config.hardware.device").Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			out = append(out, disk.Backing.(types.BaseVirtualDeviceFileBackingInfo).GetVirtualDeviceFileBackingInfo().FileName)
		}
	}
	return out
}

func vmxnet3On(pg string, key int32) types.BaseVirtualDeviceConfigSpec {
	return &types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationAdd,
		Device: &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{
			VirtualDevice: types.VirtualDevice{Key: key, Backing: &types.VirtualEthernetCardNetworkBackingInfo{
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: pg}}},
		}}},
	}
}

func TestClonesGetTheirOwnMACAddresses(t *testing.T) {
	e := newLabEnv(t)
	tmplCards := e.cards(e.tmpl)
	tmplDisks := e.diskFiles(e.tmpl)
	a := e.mustClone("mac-a", nil, nil)
	b := e.mustClone("mac-b", nil, addDevices())
	seen := map[string]string{tmplCards[0].MacAddress: TemplateName}
	for _, vm := range []*object.VirtualMachine{a, b} {
		for _, c := range e.cards(vm) {
			if !strings.HasPrefix(c.MacAddress, "00:50:56:80:") || c.AddressType != "assigned" {
				t.Errorf("%s: MAC %s (%s), want a vCenter-assigned 00:50:56:80:xx:xx", vm.Reference(), c.MacAddress, c.AddressType)
			}
			if other, dup := seen[c.MacAddress]; dup {
				t.Errorf("%s has the MAC address %s of %s", vm.Reference(), c.MacAddress, other)
			}
			seen[c.MacAddress] = vm.Reference().Value
		}
	}
	// The template is left as it was (the stock clone edits the source's own device objects).
	if got := e.cards(e.tmpl)[0].MacAddress; got != tmplCards[0].MacAddress {
		t.Errorf("template MAC changed: %s -> %s", tmplCards[0].MacAddress, got)
	}
	if got := e.diskFiles(e.tmpl); len(got) != 1 || got[0] != tmplDisks[0] || got[0] == "" {
		t.Errorf("template disk changed: %q -> %q", tmplDisks, got)
	}
	// A manual MAC address is kept; an added adapter gets a new one, an existing one keeps its own.
	before := e.cards(a)[0].MacAddress
	manual := vmxnet3On(PortGroupName, -200)
	card := manual.GetVirtualDeviceConfigSpec().Device.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
	card.AddressType, card.MacAddress = "manual", "00:50:56:3f:00:01"
	if err := e.reconfigure(a, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		manual, vmxnet3On(PortGroupName, -201)}}); err != nil {
		t.Fatal(err)
	}
	cards := e.cards(a)
	if len(cards) != 3 || cards[0].MacAddress != before || cards[1].MacAddress != "00:50:56:3f:00:01" ||
		!strings.HasPrefix(cards[2].MacAddress, "00:50:56:80:") || cards[2].MacAddress == before {
		for _, c := range cards {
			t.Logf("%d slot %d %s %s", c.Key, pciSlot(c), c.MacAddress, c.AddressType)
		}
		t.Error("after adding a manual and an assigned adapter")
	}
}

func TestAdaptersInPCISlotOrderAndCustomization(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(7)
	uuid := e.hostUUID(h)
	// The SR-IOV adapter comes first in the spec; the guest still sees it last.
	cfg := reserved(sriovDevice(SRIOVPFId, uuid), vmxnet3On("VM Network", -300))
	vm := e.mustClone("nic-order", h, cfg)
	cards := e.cards(vm)
	slots := []int32{}
	for _, c := range cards {
		slots = append(slots, pciSlot(c))
	}
	if len(cards) != 3 || slots[0] != 192 || slots[1] != 224 || slots[2] != passthroughSlotBase {
		t.Fatalf("slots %v", slots)
	}
	if _, ok := findDevice(e.vmProps(vm, "config.hardware.device").Config.Hardware.Device, cards[2].Key).(*types.VirtualSriovEthernetCard); !ok {
		t.Error("the last adapter in slot order is not the SR-IOV one")
	}
	nets := e.vmProps(vm, "guest.net").Guest.Net
	if len(nets) != 3 || nets[0].Network != PortGroupName || nets[1].Network != "VM Network" || nets[2].MacAddress != cards[2].MacAddress {
		t.Errorf("guest.net %+v", nets)
	}

	customize := func(maps ...types.CustomizationAdapterMapping) error {
		tk, err := vm.Customize(e.ctx, types.CustomizationSpec{
			Identity:         &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: "nic-order"}, Domain: "lab"},
			GlobalIPSettings: types.CustomizationGlobalIPSettings{},
			NicSettingMap:    maps,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tk.WaitForResult(e.ctx, nil)
		return err
	}
	fixed := func(ip, mac string) types.CustomizationAdapterMapping {
		return types.CustomizationAdapterMapping{MacAddress: mac, Adapter: types.CustomizationIPSettings{
			Ip: &types.CustomizationFixedIp{IpAddress: ip}, SubnetMask: "255.255.255.0"}}
	}
	expectFault(t, customize(fixed("10.1.0.1", ""), fixed("10.2.0.1", "")), &types.NicSettingMismatch{},
		"customization specification: 2 does not match", "virtual machine: 3")
	expectFault(t, customize(fixed("10.1.0.1", cards[1].MacAddress), fixed("10.2.0.1", cards[0].MacAddress),
		fixed("10.3.0.1", "")), &types.InvalidArgument{}, "MAC address mismatch: nicSettingMap[0] names "+cards[1].MacAddress)
	if err := customize(fixed("10.1.0.1", cards[0].MacAddress), fixed("10.2.0.1", ""), fixed("10.3.0.1", cards[2].MacAddress)); err != nil {
		t.Fatal(err)
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	e.waitTools(vm)
	got := map[string]string{}
	for _, n := range e.vmProps(vm, "guest.net").Guest.Net {
		if len(n.IpAddress) > 0 {
			got[n.MacAddress] = n.IpAddress[0]
		}
	}
	if got[cards[0].MacAddress] != "10.1.0.1" || got[cards[1].MacAddress] != "10.2.0.1" || got[cards[2].MacAddress] != "10.3.0.1" {
		t.Errorf("guest addresses by MAC: %v", got)
	}
	e.powerOff(vm)

	// A removed adapter leaves guest.net; its slot is the next one given.
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: findDevice(
			e.vmProps(vm, "config.hardware.device").Config.Hardware.Device, cards[1].Key)}}}); err != nil {
		t.Fatal(err)
	}
	if nets := e.vmProps(vm, "guest.net").Guest.Net; len(nets) != 2 || nets[1].MacAddress != cards[2].MacAddress {
		t.Errorf("guest.net after removing an adapter: %+v", nets)
	}
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		vmxnet3On(PortGroupName, -301)}}); err != nil {
		t.Fatal(err)
	}
	if cards := e.cards(vm); len(cards) != 3 || pciSlot(cards[1]) != 224 {
		t.Errorf("the new adapter's slot: %d", pciSlot(cards[1]))
	}
}

func findDevice(devs []types.BaseVirtualDevice, key int32) types.BaseVirtualDevice {
	for _, d := range devs {
		if d.GetVirtualDevice().Key == key {
			return d
		}
	}
	return nil
}
