package main

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// cloneTo clones the template with spec.location = loc.
func (e *labEnv) cloneTo(name string, loc types.VirtualMachineRelocateSpec) (*object.VirtualMachine, error) {
	tk, err := e.tmpl.Clone(e.ctx, e.folders.VmFolder, name, types.VirtualMachineCloneSpec{Location: loc})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.taskVM(tk)
}

func (e *labEnv) hostOf(vm *object.VirtualMachine) types.ManagedObjectReference {
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"runtime.host"}, &m); err != nil {
		e.t.Fatal(err)
	}
	return *m.Runtime.Host
}

// A clone into the GPU cluster's pool without a host goes to a host of that
// cluster (the template runs on vhpc-esx-01, in HPC_Cluster), the one with
// the fewest VMs; a host outside the pool's cluster is refused.
func TestClonePoolWithoutHostLandsInThePoolsCluster(t *testing.T) {
	e := newLabEnv(t)
	var cluster mo.ClusterComputeResource
	gpu, err := e.f.ClusterComputeResource(e.ctx, GPUClusterName)
	if err != nil {
		t.Fatal(err)
	}
	if err := gpu.Properties(e.ctx, gpu.Reference(), []string{"host"}, &cluster); err != nil {
		t.Fatal(err)
	}
	fewest := -1
	vmsOn := map[types.ManagedObjectReference]int{}
	for _, ref := range cluster.Host {
		var h mo.HostSystem
		if err := gpu.Properties(e.ctx, ref, []string{"vm"}, &h); err != nil {
			t.Fatal(err)
		}
		vmsOn[ref] = len(h.Vm)
		if fewest < 0 || len(h.Vm) < fewest {
			fewest = len(h.Vm)
		}
	}
	vm, err := e.cloneTo("place-pool", types.VirtualMachineRelocateSpec{Pool: &e.pool})
	if err != nil {
		t.Fatal(err)
	}
	host := e.hostOf(vm)
	if n, ok := vmsOn[host]; !ok || n != fewest {
		t.Errorf("clone on %s (%d VMs, in cluster: %v); want a GPU cluster host with %d VMs", host.Value, n, ok, fewest)
	}
	var m mo.HostSystem
	if err := gpu.Properties(e.ctx, host, []string{"vm"}, &m); err != nil || !refsHas(m.Vm, vm.Reference()) {
		t.Errorf("the host's vm list lacks the clone (%v)", err)
	}

	outside := e.host(HPCClusterHost).Reference()
	_, err = e.cloneTo("place-outside", types.VirtualMachineRelocateSpec{Pool: &e.pool, Host: &outside})
	expectFault(t, err, &types.InvalidArgument{}, "spec.location.host", "vhpc-esx-01")
}
