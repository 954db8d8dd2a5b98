package main

// Go tests of the rules the original toolkit's 1.0.3 commands meet: host
// power policies and passthrough configuration (host_systems.go), moving
// VMs (vm_move.go), instant clones (vm_instantclone.go), boot and
// scheduling settings (rules_tuning.go) and switch MTUs (network_mtu.go).

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// labHost is the in-process HostSystem of lab host n (tests change it
// directly where no API can, and put it back).
func labHost(t *testing.T, n int) *simulator.HostSystem {
	for _, e := range simulator.Map.All("HostSystem") {
		if h := e.(*simulator.HostSystem); h.Name == HostName(n) {
			return h
		}
	}
	t.Fatalf("no host %d", n)
	return nil
}

func (e *labEnv) hostMo(h *object.HostSystem, props ...string) mo.HostSystem {
	var m mo.HostSystem
	if err := h.Properties(e.ctx, h.Reference(), props, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *labEnv) vmMo(vm *object.VirtualMachine, props ...string) mo.VirtualMachine {
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), props, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestHostTopologyAndPowerPolicy(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(NumNamedHosts + 1)
	m := e.hostMo(h, "hardware.cpuInfo", "hardware.numaInfo", "configManager.powerSystem", "config.powerSystemInfo")
	if m.Hardware.CpuInfo.NumCpuThreads != logicalCPUs || m.Hardware.NumaInfo.NumNodes != cpuPackages ||
		len(m.Hardware.NumaInfo.NumaNode[1].CpuID) != threadsPerSocket {
		t.Errorf("topology %+v %+v", m.Hardware.CpuInfo, m.Hardware.NumaInfo)
	}
	ref := *m.ConfigManager.PowerSystem
	other := *e.hostMo(e.host(2), "configManager.powerSystem").ConfigManager.PowerSystem
	if ref == other {
		t.Fatalf("hosts share power system %v", ref)
	}
	var ps mo.HostPowerSystem
	if err := h.Properties(e.ctx, ref, []string{"capability", "info"}, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Capability.AvailablePolicy) != 4 || ps.Info.CurrentPolicy.ShortName != "dynamic" {
		t.Fatalf("power system %+v", ps)
	}
	if _, err := methods.ConfigurePowerPolicy(e.ctx, e.c.Client, &types.ConfigurePowerPolicy{This: ref, Key: 1}); err != nil {
		t.Fatal(err)
	}
	defer methods.ConfigurePowerPolicy(e.ctx, e.c.Client, &types.ConfigurePowerPolicy{This: ref, Key: defaultPowerPolicy})
	m = e.hostMo(h, "config.powerSystemInfo", "hardware.cpuPowerManagementInfo")
	if m.Config.PowerSystemInfo.CurrentPolicy.ShortName != "static" ||
		m.Hardware.CpuPowerManagementInfo.CurrentPolicy != "High performance" {
		t.Errorf("after key 1: %+v %+v", m.Config.PowerSystemInfo, m.Hardware.CpuPowerManagementInfo)
	}
	_, err := methods.ConfigurePowerPolicy(e.ctx, e.c.Client, &types.ConfigurePowerPolicy{This: ref, Key: 9})
	if faultName(err) != "InvalidArgument" {
		t.Errorf("key 9: %v", err)
	}
}

func (e *labEnv) updatePassthru(h *object.HostSystem, cfg ...types.BaseHostPciPassthruConfig) error {
	ref := *e.hostMo(h, "configManager.pciPassthruSystem").ConfigManager.PciPassthruSystem
	_, err := methods.UpdatePassthruConfig(e.ctx, e.c.Client, &types.UpdatePassthruConfig{This: ref, Config: cfg})
	return err
}

func passthruOf(infos []types.BaseHostPciPassthruInfo, id string) types.BaseHostPciPassthruInfo {
	for _, i := range infos {
		if i.GetHostPciPassthruInfo().Id == id {
			return i
		}
	}
	return nil
}

func TestUpdatePassthruConfig(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(7)
	gpu := GPUIds[1]
	if err := e.updatePassthru(h, &types.HostPciPassthruConfig{Id: gpu, PassthruEnabled: false}); err != nil {
		t.Fatal(err)
	}
	m := e.hostMo(h, "config.pciPassthruInfo", "configManager.pciPassthruSystem")
	var sys mo.HostPciPassthruSystem
	if err := h.Properties(e.ctx, *m.ConfigManager.PciPassthruSystem, []string{"pciPassthruInfo"}, &sys); err != nil {
		t.Fatal(err)
	}
	for _, infos := range [][]types.BaseHostPciPassthruInfo{m.Config.PciPassthruInfo, sys.PciPassthruInfo} {
		if p := passthruOf(infos, gpu).GetHostPciPassthruInfo(); p.PassthruEnabled || p.PassthruActive {
			t.Errorf("still enabled: %+v", p)
		}
	}
	if err := e.updatePassthru(h, &types.HostPciPassthruConfig{Id: gpu, PassthruEnabled: true}); err != nil {
		t.Fatal(err)
	}

	// A device of a powered-on VM stays enabled; nothing of the call applies.
	vm := e.mustClone("parity-pt-user", h, reserved(gpuDevice(gpu, e.hostUUID(h))))
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	err := e.updatePassthru(h, &types.HostPciPassthruConfig{Id: GPUIds[0], PassthruEnabled: false},
		&types.HostPciPassthruConfig{Id: gpu, PassthruEnabled: false})
	if faultName(err) != "HostConfigFault" {
		t.Errorf("disable a used device: %v", err)
	}
	m = e.hostMo(h, "config.pciPassthruInfo")
	if !passthruOf(m.Config.PciPassthruInfo, GPUIds[0]).GetHostPciPassthruInfo().PassthruEnabled {
		t.Error("a refused call changed another device")
	}
	e.powerOff(vm)

	// SR-IOV: at most the PF's maximum; not below the VFs powered-on VMs hold.
	sriov := func(on bool, n int32) error {
		return e.updatePassthru(h, &types.HostSriovConfig{HostPciPassthruConfig: types.HostPciPassthruConfig{Id: SRIOVPFId},
			SriovEnabled: on, NumVirtualFunction: n})
	}
	if err := sriov(true, numVFs+1); faultName(err) != "HostConfigFault" {
		t.Errorf("%d VFs: %v", numVFs+1, err)
	}
	// A new VF count is requested; the host activates it at its next boot (host_state.go).
	if err := sriov(true, 4); err != nil {
		t.Fatal(err)
	}
	m = e.hostMo(h, "config.pciPassthruInfo", "summary.rebootRequired")
	if s := passthruOf(m.Config.PciPassthruInfo, SRIOVPFId).(*types.HostSriovInfo); s.NumVirtualFunctionRequested != 4 ||
		s.NumVirtualFunction != numVFs || !s.SriovActive || !m.Summary.RebootRequired {
		t.Errorf("after asking for 4 VFs: %+v, reboot required %v", s, m.Summary.RebootRequired)
	}
	e.rebootHost(h)
	m = e.hostMo(h, "config.pciPassthruInfo", "summary.rebootRequired")
	if s := passthruOf(m.Config.PciPassthruInfo, SRIOVPFId).(*types.HostSriovInfo); s.NumVirtualFunction != 4 ||
		!s.SriovActive || m.Summary.RebootRequired {
		t.Errorf("after the reboot: %+v, reboot required %v", s, m.Summary.RebootRequired)
	}
	user := e.mustClone("parity-vf-user", h, reserved(sriovDevice(SRIOVPFId, e.hostUUID(h))))
	if err := e.powerOn(user); err != nil {
		t.Fatal(err)
	}
	if err := sriov(false, 0); faultName(err) != "HostConfigFault" {
		t.Errorf("disable with a VF in use: %v", err)
	}
	if err := e.updatePassthru(h, &types.HostPciPassthruConfig{Id: "0000:aa:00.0"}); faultName(err) != "HostConfigFault" {
		t.Errorf("unknown device: %v", err)
	}
	e.powerOff(user)
	if err := sriov(true, numVFs); err != nil {
		t.Fatal(err)
	}
	e.rebootHost(h)
}

func (e *labEnv) relocate(vm *object.VirtualMachine, spec types.VirtualMachineRelocateSpec) error {
	tk, err := vm.Relocate(e.ctx, spec, types.VirtualMachineMovePriorityDefaultPriority)
	if err != nil {
		e.t.Fatal(err)
	}
	return tk.Wait(e.ctx)
}

func TestRelocateAndMigrate(t *testing.T) {
	e := newLabEnv(t)
	h2, h3, h1 := e.host(2), e.host(3), e.host(HPCClusterHost)
	vm := e.mustClone("parity-move", h2, reserved(gpuDevice(GPUIds[0], e.hostUUID(h2))))
	ref3 := h3.Reference()
	if err := e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref3}); err != nil {
		t.Fatal(err)
	}
	if got := e.vmMo(vm, "runtime.host").Runtime.Host; *got != ref3 {
		t.Errorf("on %v", got)
	}
	if !refsHas(e.hostMo(h3, "vm").Vm, vm.Reference()) || refsHas(e.hostMo(h2, "vm").Vm, vm.Reference()) {
		t.Error("host vm lists not moved")
	}

	// Another cluster needs that cluster's pool.
	ref1 := h1.Reference()
	if err := e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref1}); faultName(err) != "InvalidArgument" {
		t.Errorf("host of another cluster, old pool: %v", err)
	}
	pool1 := e.poolOf(h1)
	if err := e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref1, Pool: &pool1}); err != nil {
		t.Fatal(err)
	}
	if got := e.vmMo(vm, "resourcePool").ResourcePool; *got != pool1 {
		t.Errorf("pool %v", got)
	}

	// vMotion of a running DirectPath VM is refused; MigrateVM_Task checks the state. (After the
	// cold move its device is chosen again on h1: passthrough_systemid.go.)
	devs := e.vmMo(vm, "config.hardware.device").Config.Hardware.Device
	for _, d := range devs {
		if p, ok := d.(*types.VirtualPCIPassthrough); ok {
			p.Backing.(*types.VirtualPCIPassthroughDeviceBackingInfo).SystemId = e.hostUUID(h1)
			if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
				&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: p}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref3, Pool: &e.pool}),
		&types.DisallowedMigrationDeviceAttached{}, "prevents migration")
	tk, err := vm.Migrate(e.ctx, nil, h3, types.VirtualMachineMovePriorityDefaultPriority, types.VirtualMachinePowerStatePoweredOff)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(e.ctx); faultName(err) != "InvalidPowerState" {
		t.Errorf("migrate with state off: %v", err)
	}
	e.powerOff(vm)
	pool := object.NewResourcePool(e.c.Client, e.pool)
	if tk, err = vm.Migrate(e.ctx, pool, h3, types.VirtualMachineMovePriorityDefaultPriority, ""); err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(e.ctx); err != nil {
		t.Errorf("cold migration with a GPU: %v", err)
	}
}

func TestMoveVGPUNeedsTheProfileOnTheDestination(t *testing.T) {
	e := newLabEnv(t)
	h8, h9 := e.host(8), e.host(NumNamedHosts+1)
	vm := e.mustClone("parity-move-vgpu", h8, reserved(vgpuDevice("grid_v100-8q")))
	real := labHost(t, NumNamedHosts+1)
	simulator.Map.WithLock(real, func() {
		saved := real.Config.SharedPassthruGpuTypes
		real.Config.SharedPassthruGpuTypes = []string{"grid_p100-4q"}
		t.Cleanup(func() { simulator.Map.WithLock(real, func() { real.Config.SharedPassthruGpuTypes = saved }) })
	})
	ref9 := h9.Reference()
	expectFault(t, e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref9}), &types.CannotAccessVmDevice{},
		"grid_v100-8q", "grid_p100-4q")
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	ref7 := e.host(7).Reference()
	// vMotion of a running vGPU VM waits for vCenter's vgpu.hotmigrate.enabled (gpu_catalog.go).
	expectFault(t, e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref7}), &types.DisallowedMigrationDeviceAttached{},
		"vGPU hot migration is not enabled", vgpuHotMigrate)
	e.setVCenterOption(vgpuHotMigrate, "true")
	defer e.setVCenterOption(vgpuHotMigrate, "false")
	if err := e.relocate(vm, types.VirtualMachineRelocateSpec{Host: &ref7}); err != nil {
		t.Errorf("vMotion of a vGPU VM to a host with its profile: %v", err)
	}
}

// setVCenterOption sets one of vCenter's advanced settings (content.setting).
func (e *labEnv) setVCenterOption(key, value string) {
	e.t.Helper()
	m := object.NewOptionManager(e.c.Client, *e.c.ServiceContent.Setting)
	if err := m.Update(e.ctx, []types.BaseOptionValue{&types.OptionValue{Key: key, Value: value}}); err != nil {
		e.t.Fatal(err)
	}
}

func TestInstantClone(t *testing.T) {
	e := newLabEnv(t)
	h4 := e.host(4)
	off := e.mustClone("parity-ic-off", h4, nil)
	clone := func(src *object.VirtualMachine, name string, host *object.HostSystem) (*object.VirtualMachine, error) {
		spec := types.VirtualMachineInstantCloneSpec{Name: name,
			Config: []types.BaseOptionValue{&types.OptionValue{Key: "guestinfo.role", Value: "compute"}}}
		if host != nil {
			ref, pool := host.Reference(), e.poolOf(host)
			spec.Location.Host, spec.Location.Pool = &ref, &pool
		}
		tk, err := src.InstantClone(e.ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		info, err := tk.WaitForResult(e.ctx, nil)
		if vm, ferr := e.f.VirtualMachine(e.ctx, name); ferr == nil {
			e.made = append(e.made, vm)
		}
		if err != nil {
			return nil, err
		}
		return object.NewVirtualMachine(e.c.Client, info.Result.(types.ManagedObjectReference)), nil
	}
	if _, err := clone(off, "parity-ic-1", nil); faultName(err) != "InvalidPowerState" {
		t.Errorf("from a powered-off VM: %v", err)
	}
	src := e.bootedVM("parity-ic-src") // on the template's host, vhpc-esx-01
	// The clone runs on its source's host: another host is refused, the source's own is fine.
	expectFault(t, errOf(clone(src, "parity-ic-elsewhere", e.host(5))), &types.InvalidArgument{},
		"runs on its source's host", HostName(HPCClusterHost), HostName(5))
	loc := types.VirtualMachineInstantCloneSpec{Name: "parity-ic-disk", Location: types.VirtualMachineRelocateSpec{
		DiskMoveType: string(types.VirtualMachineRelocateDiskMoveOptionsCreateNewChildDiskBacking)}}
	if tk, err := src.InstantClone(e.ctx, loc); err != nil {
		t.Fatal(err)
	} else {
		expectFault(t, tk.Wait(e.ctx), &types.InvalidArgument{}, "spec.location.diskMoveType")
	}
	ic, err := clone(src, "parity-ic-2", e.host(HPCClusterHost))
	if err != nil {
		t.Fatal(err)
	}
	m := e.vmMo(ic, "runtime", "config.extraConfig", "config.firmware")
	if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn ||
		*m.Runtime.Host != e.host(HPCClusterHost).Reference() || m.Config.Firmware != "efi" {
		t.Errorf("instant clone %+v firmware %s", m.Runtime, m.Config.Firmware)
	}
	if v, _ := extraValue(m.Config.ExtraConfig, "guestinfo.role"); v != "compute" {
		t.Errorf("extraConfig %v", m.Config.ExtraConfig)
	}
	gpu := e.mustClone("parity-ic-gpu", h4, reserved(gpuDevice(GPUIds[1], e.hostUUID(h4))))
	if err := e.powerOn(gpu); err != nil {
		t.Fatal(err)
	}
	if _, err := clone(gpu, "parity-ic-3", nil); faultName(err) != "DisallowedMigrationDeviceAttached" {
		t.Errorf("from a DirectPath VM: %v", err)
	}
}

// errOf is the error of a (value, error) pair.
func errOf(_ interface{}, err error) error { return err }

func countKey(opts []types.BaseOptionValue, key string) int {
	n := 0
	for _, o := range opts {
		if o.GetOptionValue().Key == key {
			n++
		}
	}
	return n
}

func TestSecureBootAffinityNumaAndCores(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(NumNamedHosts + 1)
	bios := e.mustClone("parity-bios", h, &types.VirtualMachineConfigSpec{Firmware: "bios"})
	on := types.NewBool(true)
	expectFault(t, e.reconfigure(bios, types.VirtualMachineConfigSpec{BootOptions: &types.VirtualMachineBootOptions{EfiSecureBootEnabled: on}}),
		&types.InvalidVmConfig{}, "Secure boot needs EFI firmware", "bios")

	vm := e.mustClone("parity-tune", h, nil)
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{BootOptions: &types.VirtualMachineBootOptions{BootDelay: 3000}}); err != nil {
		t.Fatal(err)
	}
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{BootOptions: &types.VirtualMachineBootOptions{EfiSecureBootEnabled: on}}); err != nil {
		t.Fatal(err)
	}
	if b := e.vmMo(vm, "config.bootOptions").Config.BootOptions; !isOn(b.EfiSecureBootEnabled) || b.BootDelay != 3000 {
		t.Errorf("boot options not merged: %+v", b)
	}
	aff := func(cpus ...int32) types.VirtualMachineConfigSpec {
		return types.VirtualMachineConfigSpec{CpuAffinity: &types.VirtualMachineAffinityInfo{AffinitySet: cpus}}
	}
	numa := func(v string) types.VirtualMachineConfigSpec {
		return types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: numaAffinityKey, Value: v}}}
	}
	expectFault(t, e.reconfigure(vm, aff(0, logicalCPUs)), &types.InvalidArgument{}, "logical CPU 80", "0-79")
	expectFault(t, e.reconfigure(vm, numa("0,2")), &types.InvalidArgument{}, "NUMA node 2")
	if err := e.reconfigure(vm, aff(0, 2, 79)); err != nil {
		t.Fatal(err)
	}
	if err := e.reconfigure(vm, numa("1")); err != nil {
		t.Fatal(err)
	}
	if err := e.reconfigure(vm, numa("0,1")); err != nil {
		t.Fatal(err)
	}
	if n := countKey(e.vmMo(vm, "config.extraConfig").Config.ExtraConfig, numaAffinityKey); n != 1 {
		t.Errorf("%s %d times after setting it twice", numaAffinityKey, n)
	}
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{NumCPUs: 4, NumCoresPerSocket: 3}),
		&types.InvalidArgument{}, "cores per socket must divide")
	if err := e.reconfigure(vm, types.VirtualMachineConfigSpec{NumCPUs: 4, NumCoresPerSocket: 2}); err != nil {
		t.Fatal(err)
	}

	// Powered on: affinity, cores and secure boot stay as they are.
	if err := e.powerOn(vm); err != nil {
		t.Fatal(err)
	}
	expectFault(t, e.reconfigure(vm, aff(1)), &types.InvalidPowerState{}, "scheduling affinity")
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{NumCoresPerSocket: 4}), &types.InvalidPowerState{})
	expectFault(t, e.reconfigure(vm, types.VirtualMachineConfigSpec{BootOptions: &types.VirtualMachineBootOptions{EfiSecureBootEnabled: types.NewBool(false)}}),
		&types.InvalidPowerState{})
	e.powerOff(vm)
	if err := e.reconfigure(vm, numa("")); err != nil {
		t.Fatal(err)
	}
	if n := countKey(e.vmMo(vm, "config.extraConfig").Config.ExtraConfig, numaAffinityKey); n != 0 {
		t.Errorf("an empty value should remove the key (%d left)", n)
	}

	// Power-on checks the host the VM is on.
	real := labHost(t, NumNamedHosts+1)
	simulator.Map.WithLock(real, func() { real.Hardware.CpuInfo.NumCpuThreads = 40 })
	defer simulator.Map.WithLock(real, func() { real.Hardware.CpuInfo.NumCpuThreads = logicalCPUs })
	expectFault(t, e.powerOn(vm), &types.GenericVmConfigFault{}, "logical CPU 79")
}

func TestSwitchMtu(t *testing.T) {
	e := newLabEnv(t)
	h := e.host(6)
	ns, err := h.ConfigManager().NetworkSystem(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec := func(mtu int32) *types.HostVirtualSwitchSpec {
		return &types.HostVirtualSwitchSpec{NumPorts: 128, Mtu: mtu,
			Bridge: &types.HostVirtualSwitchBondBridge{NicDevice: []string{"vmnic3"}}}
	}
	if err := ns.AddVirtualSwitch(e.ctx, "parity-mtu", spec(10000)); faultName(err) != "InvalidArgument" {
		t.Errorf("mtu 10000: %v", err)
	}
	if err := ns.AddVirtualSwitch(e.ctx, "parity-mtu", spec(9000)); err != nil {
		t.Fatal(err)
	}
	defer ns.RemoveVirtualSwitch(e.ctx, "parity-mtu")
	found := false
	for _, vs := range e.hostMo(h, "config.network").Config.Network.Vswitch {
		if vs.Name == "parity-mtu" {
			found = vs.Mtu == 9000 && vs.Spec.Mtu == 9000 && len(vs.Pnic) == 1
		}
	}
	if !found {
		t.Error("switch not shown with its MTU and uplink")
	}

	create := func(name string, mtu int32) (*object.Task, error) {
		return e.folders.NetworkFolder.CreateDVS(e.ctx, types.DVSCreateSpec{ConfigSpec: &types.VMwareDVSConfigSpec{
			DVSConfigSpec: types.DVSConfigSpec{Name: name}, MaxMtu: mtu}})
	}
	tk, err := create("parity-dvs-bad", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(e.ctx); faultName(err) != "InvalidArgument" {
		t.Errorf("maxMtu 100: %v", err)
	}
	if tk, err = create("parity-dvs-mtu", 9000); err != nil {
		t.Fatal(err)
	}
	info, err := tk.WaitForResult(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	dvs := object.NewDistributedVirtualSwitch(e.c.Client, info.Result.(types.ManagedObjectReference))
	defer func() {
		if tk, err := dvs.Destroy(e.ctx); err == nil {
			_ = tk.Wait(e.ctx)
		}
	}()
	var m mo.DistributedVirtualSwitch
	if err := dvs.Properties(e.ctx, dvs.Reference(), []string{"config"}, &m); err != nil {
		t.Fatal(err)
	}
	if c, ok := m.Config.(*types.VMwareDVSConfigInfo); !ok || c.MaxMtu != 9000 {
		t.Errorf("config %T %+v", m.Config, m.Config)
	}
}
