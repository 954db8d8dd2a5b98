package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Two NUMA nodes per host, with the PCI devices of each: buses below 0x80
// on node 0; memory per host and node.
func TestHostNUMAInfo(t *testing.T) {
	e := newLabEnv(t)
	for _, n := range []int{2, a100MIGHost} {
		var h mo.HostSystem
		if err := e.host(n).Properties(e.ctx, e.host(n).Reference(), []string{"hardware", "summary.hardware"}, &h); err != nil {
			t.Fatal(err)
		}
		want := int64(768) << 30
		if n == a100MIGHost {
			want = int64(1024) << 30
		}
		if h.Hardware.MemorySize != want || h.Summary.Hardware.MemorySize != want {
			t.Errorf("host %d memory %d / %d", n, h.Hardware.MemorySize, h.Summary.Hardware.MemorySize)
		}
		numa := h.Hardware.NumaInfo
		if numa == nil || numa.NumNodes != 2 || len(numa.NumaNode) != 2 {
			t.Fatalf("host %d numaInfo %+v", n, numa)
		}
		node := map[string]byte{}
		for _, nn := range numa.NumaNode {
			if nn.MemoryRangeLength != want/2 || len(nn.CpuID) == 0 {
				t.Errorf("host %d node %d: %+v", n, nn.TypeId, nn)
			}
			for _, id := range nn.PciId {
				node[id] = nn.TypeId
			}
		}
		if len(node) != len(h.Hardware.PciDevice) {
			t.Errorf("host %d: %d PCI devices on nodes, %d on the host", n, len(node), len(h.Hardware.PciDevice))
		}
		gpu0, gpu1 := GPUIds[0], GPUIds[1]
		if n == a100MIGHost {
			gpu0, gpu1 = A100DirectId0, A100DirectId1
		}
		if node[gpu0] != 0 || node[gpu1] != 1 || node[SRIOVPFId] != 1 || node["0000:af:00.1"] != 1 || node[rdmaPCI] != 0 {
			t.Errorf("host %d nodes %v", n, node)
		}
	}
}

// Reservations of the powered-on VMs of a host and the VM powering on must
// fit in the host's memory.
func TestHostMemoryAdmission(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(7)
	big := func(name string, gb int64) *types.VirtualMachineConfigSpec {
		return &types.VirtualMachineConfigSpec{MemoryMB: gb * 1024, MemoryReservationLockedToMax: types.NewBool(true)}
	}
	a := e.mustClone("mem-admit-a", h, big("a", 500))
	b := e.mustClone("mem-admit-b", h, big("b", 300))
	loose := e.mustClone("mem-admit-unreserved", h, &types.VirtualMachineConfigSpec{MemoryMB: 512 * 1024})
	if err := e.powerOn(a); err != nil {
		t.Fatal(err)
	}
	err := e.powerOn(b)
	expectFault(t, err, &types.InsufficientHostMemoryCapacityFault{},
		"The host does not have sufficient memory resources to satisfy the reservation.", "mem-admit-a 512000 MB")
	if err := e.powerOn(loose); err != nil { // nothing reserved: not admission-controlled
		t.Errorf("unreserved VM: %v", err)
	}
	e.powerOff(a)
	if err := e.powerOn(b); err != nil {
		t.Errorf("after the power-off: %v", err)
	}
}

// 1 GB pages need all guest memory reserved.
func TestHugePages1GNeedFullReservation(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(3)
	opt := []types.BaseOptionValue{&types.OptionValue{Key: hugePages1G, Value: "TRUE"}}
	vm := e.mustClone("hugepages-unreserved", h, &types.VirtualMachineConfigSpec{ExtraConfig: opt})
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "1 GB pages", hugePages1G, "memsize(4096)")
	ok := e.mustClone("hugepages-reserved", h, &types.VirtualMachineConfigSpec{ExtraConfig: opt,
		MemoryReservationLockedToMax: types.NewBool(true)})
	if err := e.powerOn(ok); err != nil {
		t.Errorf("fully reserved: %v", err)
	}
}
