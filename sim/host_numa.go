package main

// Host memory and NUMA layout, and the power-on rule that keeps memory
// reservations within a host's memory.
//
// Every lab host has two NUMA nodes (two sockets), as ESXi reports them in
// hardware.numaInfo: each node's CPUs, memory range and the PCI devices
// attached to it (HostNumaNode.pciId, vSphere 7.0). On the lab's two-socket
// servers PCI buses below 0x80 hang off socket 0 and the others off socket 1,
// so the V100s at 3b:00.0 and 5e:00.0 are on node 0, the P100 (86:00.0), the
// SR-IOV ConnectX-4 (af:00.0 and its virtual functions) and the V100 at
// d8:00.0 on node 1. Memory: 768 GB (V100 hosts) or 1 TB (A100 hosts),
// half per node.
//
// Power-on (admission control): the memory reservations of the powered-on
// VMs of a host and the VM being powered on must fit in the host's memory,
// else InsufficientHostMemoryCapacityFault ("The host does not have
// sufficient memory resources to satisfy the reservation."). ESXi also keeps
// memory for itself and each VM's overhead; the lab counts the reservations
// only.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const gib = int64(1) << 30

// hostMemoryBytes is the memory of host number index.
func hostMemoryBytes(index int) int64 {
	if isA100Host(index) {
		return 1024 * gib
	}
	return 768 * gib
}

// numaNodeOf is the NUMA node a PCI device is attached to.
func numaNodeOf(pciID string) int {
	bus, _, _ := parsePCIId(pciID)
	if bus >= 0x80 {
		return 1
	}
	return 0
}

// applyHostNUMA gives host (not yet serving) its memory and NUMA layout.
func applyHostNUMA(host *simulator.HostSystem, index int) {
	memory := hostMemoryBytes(index)
	host.Hardware.MemorySize = memory
	host.Summary.Hardware.MemorySize = memory
	threads := int(host.Hardware.CpuInfo.NumCpuThreads)
	info := &types.HostNumaInfo{Type: "NUMA", NumNodes: 2}
	for node := 0; node < 2; node++ {
		n := types.HostNumaNode{
			TypeId:            byte(node),
			MemoryRangeBegin:  int64(node) * memory / 2,
			MemoryRangeLength: memory / 2,
		}
		for cpu := node * threads / 2; cpu < (node+1)*threads/2; cpu++ {
			n.CpuID = append(n.CpuID, int16(cpu))
		}
		for _, d := range host.Hardware.PciDevice {
			if numaNodeOf(d.Id) == node {
				n.PciId = append(n.PciId, d.Id)
			}
		}
		info.NumaNode = append(info.NumaNode, n)
	}
	host.Hardware.NumaInfo = info
}

// settleClusterMemory recomputes the clusters' total and effective memory
// from their hosts (the simulator summed the stock 4 GB when adding them).
func settleClusterMemory() {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c, ok := e.(*simulator.ClusterComputeResource)
		if !ok {
			continue
		}
		s := c.Summary.GetComputeResourceSummary()
		s.TotalMemory, s.EffectiveMemory = 0, 0
		for _, ref := range c.Host {
			if h, ok := simulator.Map.Get(ref).(*simulator.HostSystem); ok {
				s.TotalMemory += h.Summary.Hardware.MemorySize
				s.EffectiveMemory += h.Summary.Hardware.MemorySize / (1 << 20) // MB, as vCenter reports it
			}
		}
	}
}

// reservedMB is the memory vm reserves once powered on.
func reservedMB(mem memorySettings) int64 {
	if mem.lockedToMax || mem.reservation > mem.sizeMB {
		return mem.sizeMB
	}
	return mem.reservation
}

// memoryAdmission refuses powering on vm on host when its reservation does
// not fit beside those of the host's powered-on VMs.
func memoryAdmission(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.BaseMethodFault {
	want := reservedMB(vmMemory(vm))
	if want == 0 || host.Hardware == nil {
		return nil
	}
	totalMB := host.Hardware.MemorySize >> 20
	var used int64
	var holders []string
	for _, other := range poweredOnVMs(host.Self, &vm.Self) {
		if r := reservedMB(vmMemory(other)); r > 0 {
			used += r
			holders = append(holders, fmt.Sprintf("%s %d MB", other.Name, r))
		}
	}
	if used+want <= totalMB {
		return nil
	}
	msg := fmt.Sprintf("The host does not have sufficient memory resources to satisfy the reservation. "+
		"VM %s reserves %d MB on host %s, which has %d MB of memory and %d MB reserved by powered-on VMs (%s).",
		vm.Name, want, host.Name, totalMB, used, strings.Join(holders, ", "))
	f := &types.InsufficientHostMemoryCapacityFault{Unreserved: (totalMB - used) << 20, Requested: want << 20}
	f.Host = &host.Self
	return withMessage(f, "hostMemory", msg)
}
