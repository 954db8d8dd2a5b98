package main

// MTU of standard and distributed switches. ESXi takes 1280 to 9000 bytes
// (1500 when not given) for a standard switch's spec.mtu and a distributed
// switch's maxMtu; other values are refused with InvalidArgument. The stock
// AddVirtualSwitch keeps only the switch's name: the lab keeps its spec
// (uplinks, ports, MTU), as host.config.network and networkInfo show it.

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	defaultMtu = 1500
	minMtu     = 1280
	maxMtu     = 9000
)

// mtuFault refuses an MTU outside ESXi's range (0: not given).
func mtuFault(mtu int32, property string) types.BaseMethodFault {
	if mtu == 0 || (mtu >= minMtu && mtu <= maxMtu) {
		return nil
	}
	return withMessage(&types.InvalidArgument{InvalidProperty: property}, "mtu",
		fmt.Sprintf("MTU %d is out of range: a switch takes %d to %d bytes.", mtu, minMtu, maxMtu))
}

// keepSwitchSpec records the spec of the switch AddVirtualSwitch just added
// to s (locked by the caller).
func keepSwitchSpec(s *simulator.HostNetworkSystem, req *types.AddVirtualSwitch) {
	for i := range s.NetworkInfo.Vswitch {
		vs := &s.NetworkInfo.Vswitch[i]
		if vs.Name != req.VswitchName {
			continue
		}
		if req.Spec != nil {
			vs.Spec = *req.Spec
			vs.NumPorts = req.Spec.NumPorts
			vs.Mtu = req.Spec.Mtu
			if b, ok := req.Spec.Bridge.(*types.HostVirtualSwitchBondBridge); ok {
				vs.Pnic = nil
				for _, nic := range b.NicDevice {
					vs.Pnic = append(vs.Pnic, "key-vim.host.PhysicalNic-"+nic)
				}
			}
		}
		if vs.Mtu == 0 {
			vs.Mtu = defaultMtu
		}
		vs.Key = "key-vim.host.VirtualSwitch-" + vs.Name
	}
}

// dvsMaxMtu is the maxMtu a distributed switch's config spec asks for (0: none).
func dvsMaxMtu(spec types.BaseDVSConfigSpec) int32 {
	if v, ok := spec.(*types.VMwareDVSConfigSpec); ok {
		return v.MaxMtu
	}
	return 0
}

// setDVSMaxMtu gives switch s (locked by the caller) its maxMtu.
func setDVSMaxMtu(s *simulator.DistributedVirtualSwitch, mtu int32) {
	if mtu == 0 {
		mtu = defaultMtu
	}
	if c, ok := s.Config.(*types.VMwareDVSConfigInfo); ok {
		c.MaxMtu = mtu
	}
}
