package main

// What a guest sees of its devices: the tools a GPU or RDMA guest has
// (NVIDIA's driver utility, rdma-core's ibv_devinfo) list the VM's own
// devices, so health checks run in the lab as in a real guest.
//
// At each StartProgramInGuest the lab writes, for the VM, a folder bound
// read-only at /usr/local/bin in its sandbox (guest_ops.go) with:
//   - nvidia-smi, when the VM has NVIDIA GPUs (DirectPath devices of vendor
//     0x10de, Dynamic DirectPath devices assigned at power-on, vGPUs):
//     `nvidia-smi -L` prints "GPU N: NAME (UUID: GPU-...)" per GPU, in device
//     order; any other use prints the same list after a header. A guest
//     without GPUs has no NVIDIA driver, hence no nvidia-smi ("not found",
//     exit 127 from the shell), as a real guest without the driver.
//   - ibv_devinfo, always (rdma-core is in the image): an "hca_id:" block per
//     RDMA device of the VM, vmw_pvrdmaN for each PVRDMA adapter and mlx5_N
//     for each SR-IOV adapter on a Mellanox (0x15b3) physical function, each
//     with one port in state PORT_ACTIVE (4), link layer Ethernet (RoCE);
//     none: "No IB devices found" on stderr and a non-zero exit.
// Names come from the VM's devices as vCenter holds them: a passthrough
// device's deviceName, a vGPU's profile ("grid_v100-8q" -> "GRID V100-8Q").

import (
	"crypto/md5"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	nvidiaVendor   = 0x10de
	mellanoxVendor = 0x15b3
	guestToolsBin  = "/usr/local/bin" // where the device tools appear in the guest
)

type guestDevices struct {
	gpus []string // names, in device order
	rdma []string // hca ids
}

// devicesOf reads vm's GPUs and RDMA devices (the caller holds no lock).
func devicesOf(vm *simulator.VirtualMachine) guestDevices {
	var out guestDevices
	simulator.Map.WithLock(vm, func() {
		hostPCI := map[string]types.HostPciDevice{}
		if vm.Runtime.Host != nil {
			if h, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok && h.Hardware != nil {
				for _, d := range h.Hardware.PciDevice {
					hostPCI[d.Id] = d
				}
			}
		}
		pvrdma, mlx := 0, 0
		for _, dev := range vm.Config.Hardware.Device {
			switch d := dev.(type) {
			case *types.VirtualPCIPassthrough:
				out.gpus = append(out.gpus, passthroughGPUs(d, hostPCI)...)
			case *types.VirtualVmxnet3Vrdma:
				out.rdma = append(out.rdma, fmt.Sprintf("vmw_pvrdma%d", pvrdma))
				pvrdma++
			case *types.VirtualSriovEthernetCard:
				if d.SriovBacking != nil && d.SriovBacking.PhysicalFunctionBacking != nil &&
					hostPCI[d.SriovBacking.PhysicalFunctionBacking.Id].VendorId == mellanoxVendor {
					out.rdma = append(out.rdma, fmt.Sprintf("mlx5_%d", mlx))
					mlx++
				}
			}
		}
	})
	return out
}

// passthroughGPUs is the NVIDIA GPU a passthrough device gives its guest (none for other devices).
func passthroughGPUs(d *types.VirtualPCIPassthrough, hostPCI map[string]types.HostPciDevice) []string {
	switch b := d.Backing.(type) {
	case *types.VirtualPCIPassthroughDeviceBackingInfo:
		if b.VendorId == nvidiaVendor {
			return []string{b.DeviceName}
		}
	case *types.VirtualPCIPassthroughVmiopBackingInfo:
		name := strings.TrimPrefix(b.Vgpu, "grid_")
		return []string{"GRID " + strings.ToUpper(name)}
	case *types.VirtualPCIPassthroughDynamicBackingInfo:
		if b.AssignedId == "" {
			return nil // not powered on yet: the guest has no device
		}
		if h, ok := hostPCI[b.AssignedId]; ok && h.VendorId == nvidiaVendor {
			return []string{h.DeviceName}
		}
	}
	return nil
}

func gpuUUID(vm, name string, i int) string {
	sum := md5.Sum([]byte(fmt.Sprintf("%s/%d/%s", vm, i, name)))
	h := fmt.Sprintf("%x", sum)
	return fmt.Sprintf("GPU-%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func nvidiaSmi(vmName string, gpus []string) string {
	var list strings.Builder
	for i, g := range gpus {
		fmt.Fprintf(&list, "echo %s\n", shellQuote(fmt.Sprintf("GPU %d: %s (UUID: %s)", i, g, gpuUUID(vmName, g, i))))
	}
	return "#!/bin/sh\n# The lab's nvidia-smi: the GPUs of this VM (sim/guest_devices.go).\n" +
		"case \"$1\" in\n-L|--list-gpus) ;;\n*) echo 'NVIDIA-SMI (vhpc-sim lab)'; echo ;;\nesac\n" + list.String()
}

func ibvDevinfo(hcas []string) string {
	if len(hcas) == 0 {
		return "#!/bin/sh\n# The lab's ibv_devinfo (sim/guest_devices.go).\necho 'No IB devices found' >&2\nexit 1\n"
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# The lab's ibv_devinfo: the RDMA devices of this VM (sim/guest_devices.go).\ncat <<'EOF'\n")
	for _, h := range hcas {
		fmt.Fprintf(&b, "hca_id:\t%s\n\ttransport:\t\t\tInfiniBand (0)\n\tphys_port_cnt:\t\t\t1\n"+
			"\t\tport:\t1\n\t\t\tstate:\t\t\tPORT_ACTIVE (4)\n\t\t\tmax_mtu:\t\t4096 (5)\n"+
			"\t\t\tactive_mtu:\t\t1024 (3)\n\t\t\tlink_layer:\t\tEthernet\n\n", h)
	}
	b.WriteString("EOF\n")
	return b.String()
}

// deviceTools writes VM name's device tools into a folder of their own and
// returns it ("" when the host has no /usr/local/bin to bind it over).
func (g *guestOps) deviceTools(vm *simulator.VirtualMachine, name string) (string, error) {
	if fi, err := os.Stat(guestToolsBin); err != nil || !fi.IsDir() {
		return "", nil
	}
	dir := filepath.Join(g.root, ".lab-tools", name)
	if err := os.MkdirAll(dir, 0755); err != nil {
		return "", err
	}
	devs := devicesOf(vm)
	smi := filepath.Join(dir, "nvidia-smi")
	if len(devs.gpus) > 0 {
		if err := ioutil.WriteFile(smi, []byte(nvidiaSmi(name, devs.gpus)), 0755); err != nil {
			return "", err
		}
	} else if err := os.Remove(smi); err != nil && !os.IsNotExist(err) {
		return "", err
	}
	if err := ioutil.WriteFile(filepath.Join(dir, "ibv_devinfo"), []byte(ibvDevinfo(devs.rdma)), 0755); err != nil {
		return "", err
	}
	return dir, nil
}
