package main

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) addVnicIP(h *types.ManagedObjectReference, uuid, key string, ip *types.HostIpConfig) (string, error) {
	res, err := methods.AddVirtualNic(e.ctx, e.c.Client, &types.AddVirtualNic{This: *h,
		Nic: types.HostVirtualNicSpec{Ip: ip, DistributedVirtualPort: &types.DistributedVirtualSwitchPortConnection{
			SwitchUuid: uuid, PortgroupKey: key}}})
	if err != nil {
		return "", err
	}
	return res.Returnval, nil
}

// A VMkernel adapter's address: DHCP takes no explicit address (the lab's fabric
// gives none), a static one needs an IPv4 address and a netmask; UpdateVirtualNic
// changes it.
func TestVMkernelAdapterAddress(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(8)
	s, uuid, key := e.pvrdmaSwitch("vnic-ip", []string{"vmnic5"}, h)
	defer destroyDVS(t, e, s)
	ns := e.networkSystem(h).Reference()
	for _, bad := range []struct {
		ip       types.HostIpConfig
		property string
	}{
		{types.HostIpConfig{Dhcp: true, IpAddress: "10.9.0.1"}, "nic.ip"},
		{types.HostIpConfig{IpAddress: "10.9.0.300", SubnetMask: "255.255.255.0"}, "nic.ip.ipAddress"},
		{types.HostIpConfig{IpAddress: "10.9.0.1"}, "nic.ip.subnetMask"},
		{types.HostIpConfig{IpAddress: "10.9.0.1", SubnetMask: "255.0.255.0"}, "nic.ip.subnetMask"},
	} {
		ip := bad.ip
		_, err := e.addVnicIP(&ns, uuid, key, &ip)
		if f, ok := soapFault(err).(types.InvalidArgument); !ok || f.InvalidProperty != bad.property {
			t.Errorf("AddVirtualNic with %+v: %v", bad.ip, err)
		}
	}
	dhcp, err := e.addVnicIP(&ns, uuid, key, &types.HostIpConfig{Dhcp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.removeVnic(h, dhcp)
	vnic := e.vnic(h, dhcp)
	if vnic == nil || !vnic.Spec.Ip.Dhcp || vnic.Spec.Ip.IpAddress != "" {
		t.Errorf("a DHCP adapter on a fabric without DHCP: %+v", vnic)
	}
	static := types.HostIpConfig{IpAddress: "10.9.0.8", SubnetMask: "255.255.255.0"}
	_, err = methods.UpdateVirtualNic(e.ctx, e.c.Client, &types.UpdateVirtualNic{This: ns, Device: dhcp,
		Nic: types.HostVirtualNicSpec{Ip: &static}})
	if err != nil {
		t.Fatal(err)
	}
	if v := e.vnic(h, dhcp); v == nil || v.Spec.Ip.Dhcp || v.Spec.Ip.IpAddress != "10.9.0.8" || v.Spec.Ip.SubnetMask != "255.255.255.0" {
		t.Errorf("after UpdateVirtualNic: %+v", v)
	}
	_, err = methods.UpdateVirtualNic(e.ctx, e.c.Client, &types.UpdateVirtualNic{This: ns, Device: "vmk99",
		Nic: types.HostVirtualNicSpec{Ip: &static}})
	if _, ok := soapFault(err).(types.NotFound); !ok {
		t.Errorf("UpdateVirtualNic of a missing adapter: %v", err)
	}
	_, err = methods.UpdateVirtualNic(e.ctx, e.c.Client, &types.UpdateVirtualNic{This: ns, Device: dhcp,
		Nic: types.HostVirtualNicSpec{Ip: &types.HostIpConfig{IpAddress: "10.9.0.8"}}})
	if f, ok := soapFault(err).(types.InvalidArgument); !ok || f.InvalidProperty != "nic.ip.subnetMask" {
		t.Errorf("UpdateVirtualNic without a netmask: %v", err)
	}
}

// soapFault is the vSphere fault of a method call's error (nil for none).
func soapFault(err error) types.AnyType {
	if err == nil || !soap.IsSoapFault(err) {
		return nil
	}
	return soap.ToSoapFault(err).VimFault()
}

func (e *labEnv) vnic(h *object.HostSystem, device string) *types.HostVirtualNic {
	for _, v := range e.hostNetwork(h).Vnic {
		if v.Device == device {
			v := v
			return &v
		}
	}
	return nil
}
