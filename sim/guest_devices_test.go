package main

import (
	"io/ioutil"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// runInGuest runs shell command line cmd in vm's guest and returns its exit code.
func runInGuest(t *testing.T, e *labEnv, vm *object.VirtualMachine, cmd string) int32 {
	t.Helper()
	pm, err := guest.NewOperationsManager(e.c.Client, vm.Reference()).ProcessManager(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth := &types.NamePasswordAuthentication{Username: "root", Password: "VMware1!"}
	pid, err := pm.StartProgram(e.ctx, auth, &types.GuestProgramSpec{ProgramPath: "/bin/sh", Arguments: "-c '" + cmd + "'"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		procs, err := pm.ListProcesses(e.ctx, auth, []int64{pid})
		if err != nil || len(procs) != 1 {
			t.Fatalf("list: %v %v", procs, err)
		}
		if procs[0].EndTime != nil {
			return procs[0].ExitCode
		}
	}
	t.Fatalf("%s did not end", cmd)
	return -1
}

func mustGuestFile(t *testing.T, vm, p string) string {
	data, err := ioutil.ReadFile(filepath.Join(testLab.guestOps.root, vm, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A guest sees its own GPUs through nvidia-smi and its RDMA devices through ibv_devinfo.
func TestGuestSeesItsDevices(t *testing.T) {
	e := newLabEnv(t)
	gpuVM := e.bootedVM("guest-dev-gpu")
	plain := e.bootedVM("guest-dev-plain")

	// Devices put on the VM directly: this test is about what the guest sees, not the device rules.
	sim := simulator.Map.Get(gpuVM.Reference()).(*simulator.VirtualMachine)
	simulator.Map.WithLock(sim, func() {
		sim.Config.Hardware.Device = append(sim.Config.Hardware.Device,
			&types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{Key: 13000, Backing: &types.VirtualPCIPassthroughDeviceBackingInfo{
				Id: GPUIds[0], VendorId: nvidiaVendor,
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: gpuDeviceName}}}},
			&types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{Key: 13001, Backing: &types.VirtualPCIPassthroughVmiopBackingInfo{
				Vgpu: "grid_v100-8q"}}},
			&types.VirtualVmxnet3Vrdma{VirtualVmxnet3: types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{
				VirtualEthernetCard: types.VirtualEthernetCard{VirtualDevice: types.VirtualDevice{Key: 4100}}}}})
	})

	if code := runInGuest(t, e, gpuVM, "nvidia-smi -L > /tmp/gpus && ibv_devinfo > /tmp/ib"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	gpus := strings.Split(strings.TrimSpace(mustGuestFile(t, "guest-dev-gpu", "tmp/gpus")), "\n")
	if len(gpus) != 2 || !strings.HasPrefix(gpus[0], "GPU 0: "+gpuDeviceName+" (UUID: GPU-") ||
		!strings.HasPrefix(gpus[1], "GPU 1: GRID V100-8Q (UUID: GPU-") {
		t.Errorf("nvidia-smi -L: %q", gpus)
	}
	ib := mustGuestFile(t, "guest-dev-gpu", "tmp/ib")
	if !strings.Contains(ib, "hca_id:\tvmw_pvrdma0") || strings.Count(ib, "PORT_ACTIVE (4)") != 1 {
		t.Errorf("ibv_devinfo: %q", ib)
	}

	// No GPU: no NVIDIA driver, no nvidia-smi (the shell's 127); no RDMA device: ibv_devinfo fails.
	if code := runInGuest(t, e, plain, "nvidia-smi -L"); code != 127 {
		t.Errorf("nvidia-smi without GPUs: exit %d", code)
	}
	if code := runInGuest(t, e, plain, "ibv_devinfo 2> /tmp/err"); code == 0 ||
		strings.TrimSpace(mustGuestFile(t, "guest-dev-plain", "tmp/err")) != "No IB devices found" {
		t.Errorf("ibv_devinfo without devices: exit %d", code)
	}
}
