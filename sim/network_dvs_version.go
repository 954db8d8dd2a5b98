package main

// Distributed switch versions and the ESXi versions that can join them.
//
// A switch has a version (summary.productInfo.version, also
// config.productInfo): CreateDVS_Task takes spec.productInfo.version, or
// makes the newest version vCenter knows (the lab's vCenter is 7.0.0: it
// creates 6.5.0, 6.6.0 and 7.0.0 switches; anything else is
// InvalidArgument spec.productInfo.version). A host joins only a switch
// whose version its ESXi supports (6.5.0: ESXi 6.5 or later; 6.6.0: ESXi
// 6.7 or later; 7.0.0: ESXi 7.0 or later); otherwise CreateDVS_Task and
// ReconfigureDvs_Task fail with NotSupportedHostInDvs naming the host's
// product and the switch's product spec.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// dvsMinESXi is the oldest ESXi version that can be a member of a switch of
// each version the lab's vCenter creates.
var dvsMinESXi = map[string]string{"6.5.0": "6.5.0", "6.6.0": "6.7.0", "7.0.0": "7.0.0"}

// versionLess compares dotted version numbers.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// newSwitchProduct is the product spec of a switch created with spec (nil
// and a message when the version is not one vCenter creates).
func newSwitchProduct(spec *types.DistributedVirtualSwitchProductSpec) (*types.DistributedVirtualSwitchProductSpec, string) {
	content := vcenterAbout()
	creatable := creatableDVSVersions() // network_dvs_manager.go
	product := types.DistributedVirtualSwitchProductSpec{
		Name: "DVS", Vendor: content.Vendor, Version: creatable[len(creatable)-1], Build: content.Build, ForwardingClass: "etherswitch",
	}
	if spec != nil {
		if spec.Version != "" {
			product.Version = spec.Version
		}
		if spec.Name != "" {
			product.Name = spec.Name
		}
		if spec.Vendor != "" {
			product.Vendor = spec.Vendor
		}
	}
	if !dvsVersionCreatable(product.Version) {
		return nil, fmt.Sprintf("vCenter %s cannot create a distributed switch of version %s (it creates %s)",
			content.Version, product.Version, strings.Join(creatable, ", "))
	}
	return &product, ""
}

// vcenterAbout is the lab vCenter's about information.
func vcenterAbout() types.AboutInfo {
	ref := types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}
	if si, ok := simulator.Map.Get(ref).(*simulator.ServiceInstance); ok {
		return si.Content.About
	}
	return types.AboutInfo{Vendor: "VMware, Inc.", Version: "7.0.0"}
}

// checkMemberVersion refuses host as a member of a switch of product.
func checkMemberVersion(host *simulator.HostSystem, product *types.DistributedVirtualSwitchProductSpec) (types.BaseMethodFault, string) {
	if product == nil || host.Config == nil {
		return nil, ""
	}
	min, ok := dvsMinESXi[product.Version]
	have := host.Config.Product.Version
	if !ok || !versionLess(have, min) {
		return nil, ""
	}
	msg := fmt.Sprintf("Host %s runs %s %s, which cannot be a member of distributed switch version %s (it needs ESXi %s or later); "+
		"create the switch at a version all its hosts support.", host.Name, host.Config.Product.Name, have, product.Version, min)
	f := &types.NotSupportedHostInDvs{
		NotSupportedHost:  types.NotSupportedHost{ProductName: host.Config.Product.Name, ProductVersion: have},
		SwitchProductSpec: *product,
	}
	return withMessage(f, "dvsVersion", msg), msg
}
