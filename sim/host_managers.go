package main

// Every manager object a host's configManager names exists, per host, as
// on vCenter (HostConfigManager in the API reference). The stock
// simulator's hosts named 27 managers that were never registered (the
// reference fixtures of a stand-alone ESXi, shared by every host), so a
// client reading one got ManagedObjectNotFound: Ansible's
// vmware_host_service_info, vmware_host_ntp_info, vmware_host_package_info,
// vmware_host_acceptance_info, vmware_vmkernel_info, vmware_host_graphics,
// vmware_host_facts (vSAN status) failed, govc host.service,
// host.date.info and host.vnic.info too.
//
// Each host gets its own object of each missing type (reference
// FIELD-HOSTMOREF, e.g. serviceSystem-host-27), with the content an ESXi
// 7.0 host reports (host_services.go, host_nic_managers.go for the ones
// with methods or with content derived from the host). The others hold
// what an unconfigured host holds: no AD domain, no SNMP agent, no
// autostart, lockdown mode disabled, hyperthreading active, no vSAN.

import (
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// managerMakers build the managers with content or methods of their own;
// any other missing manager is the bare managed object of its type.
var managerMakers = map[string]func(l *Lab, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference{
	"serviceSystem":         newServiceSystem,     // host_services.go
	"dateTimeSystem":        newDateTimeSystem,    // host_services.go
	"imageConfigManager":    newImageConfig,       // host_services.go
	"virtualNicManager":     newVnicManager,       // host_nic_managers.go
	"vmotionSystem":         newVMotionSystem,     // host_nic_managers.go
	"graphicsManager":       newGraphicsManager,   // host_nic_managers.go
	"vsanSystem":            newVsanSystem,        // host_nic_managers.go
	"cpuScheduler":          newCPUScheduler,      // below
	"snmpSystem":            newSnmpSystem,        //
	"autoStartManager":      newAutoStartManager,  //
	"hostAccessManager":     newHostAccessManager, //
	"authenticationManager": newAuthManager,       //
}

// installHostManagers gives each of hosts the managers its configManager
// names and the inventory lacks.
func (l *Lab) installHostManagers(hosts []*simulator.HostSystem) {
	for _, host := range hosts {
		cm := reflect.ValueOf(&host.ConfigManager).Elem()
		ct := cm.Type()
		for i := 0; i < ct.NumField(); i++ {
			field := strings.Split(ct.Field(i).Tag.Get("xml"), ",")[0]
			ptr, ok := cm.Field(i).Interface().(*types.ManagedObjectReference)
			if !ok || ptr == nil || simulator.Map.Get(*ptr) != nil {
				continue
			}
			ref := types.ManagedObjectReference{Type: ptr.Type, Value: field + "-" + host.Self.Value}
			obj := l.newManager(field, host, ref)
			if obj == nil {
				continue
			}
			simulator.Map.Put(obj)
			cm.Field(i).Set(reflect.ValueOf(&ref))
		}
	}
}

// newManager makes the manager of configManager field for host.
func (l *Lab) newManager(field string, host *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	if make := managerMakers[field]; make != nil {
		return make(l, host, ref)
	}
	t := moType(ref.Type) // collector_validate.go
	if t == nil {
		return nil
	}
	v := reflect.New(t)
	self := v.Elem().FieldByName("Self")
	if !self.IsValid() {
		return nil
	}
	self.Set(reflect.ValueOf(ref))
	obj, _ := v.Interface().(mo.Reference)
	return obj
}

func newCPUScheduler(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	// Two threads per core (host_systems.go): hyperthreading available, on.
	return &mo.HostCpuSchedulerSystem{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: ref},
		HyperthreadInfo: &types.HostHyperThreadScheduleInfo{Available: true, Active: true, Config: true}}
}

func newSnmpSystem(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	return &mo.HostSnmpSystem{Self: ref,
		Configuration: types.HostSnmpConfigSpec{Enabled: types.NewBool(false), Port: 161},
		Limits: types.HostSnmpSystemAgentLimits{MaxReadOnlyCommunities: 10, MaxTrapDestinations: 10,
			MaxCommunityLength: 64, MaxBufferSize: 1500, Capability: types.HostSnmpAgentCapabilityCOMPLETE}}
}

func newAutoStartManager(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	return &mo.HostAutoStartManager{Self: ref, Config: types.HostAutoStartManagerConfig{
		Defaults: &types.AutoStartDefaults{Enabled: types.NewBool(false), StartDelay: 120, StopDelay: 120,
			WaitForHeartbeat: types.NewBool(false), StopAction: "PowerOff"}}}
}

func newHostAccessManager(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	return &mo.HostAccessManager{Self: ref, LockdownMode: types.HostLockdownModeLockdownDisabled}
}

func newAuthManager(_ *Lab, _ *simulator.HostSystem, ref types.ManagedObjectReference) mo.Reference {
	return &mo.HostAuthenticationManager{Self: ref, Info: types.HostAuthenticationManagerInfo{
		AuthConfig: []types.BaseHostAuthenticationStoreInfo{&types.HostLocalAuthenticationInfo{
			HostAuthenticationStoreInfo: types.HostAuthenticationStoreInfo{Enabled: true}}}}}
}
