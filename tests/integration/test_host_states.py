"""The toolkit and hosts that take no new VMs: a host in maintenance mode (vCenter powers on, clones and
moves nothing there) is refused before any change when a file or a command names it, and left out by
the planner; a datacenter made with CreateDatacenter has no host at all. The host is taken out of
maintenance mode again, the datacenter removed: the lab is shared."""
from __future__ import annotations

import uuid

import pytest

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks

HOST = "vhpc-esx-08.hpc.vmware.com"


def host_ref(session, name=HOST):
    return read_inventory(session, {"HostSystem": []}).find("HostSystem", name).ref


@pytest.fixture
def in_maintenance(session):
    host = host_ref(session)
    wait_for_tasks(session, [host.EnterMaintenanceMode_Task(timeout=0)])
    assert host.runtime.inMaintenanceMode
    yield host
    wait_for_tasks(session, [host.ExitMaintenanceMode_Task(timeout=0)])
    assert not host.runtime.inMaintenanceMode


def vm_names(session, prefix):
    return {o.name for o in read_inventory(session, {"VirtualMachine": []}).of_type("VirtualMachine")
            if o.name.startswith(prefix)}


def destroy_vms(session, *names: str) -> None:
    """Power off and destroy the VMs of those names, if there are any (what a refusal that broke made)."""
    inv = read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
    found = [o for o in inv.of_type("VirtualMachine") if o.name in names]
    on = [o.ref.PowerOffVM_Task() for o in found if o.get("runtime.powerState") == "poweredOn"]
    if on:
        wait_for_tasks(session, on)
    if found:
        wait_for_tasks(session, [o.ref.Destroy_Task() for o in found])


def test_a_pinned_host_in_maintenance_mode_is_refused_before_any_change(cli, cluster_file, session, in_maintenance):
    path, pfx = cluster_file(f"""
[_VMS_]
PFX-ok: template: vhpc_clone cluster: COMPUTE_GPU_Cluster host: vhpc-esx-07.hpc.vmware.com
PFX-mm: template: vhpc_clone cluster: COMPUTE_GPU_Cluster host: {HOST}
""")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and f"{path}:4:" in err and f"host {HOST} is in maintenance mode" in err, err
    assert "nothing was changed" in err and "Traceback" not in err
    assert vm_names(session, pfx) == set()
    name = f"mm{uuid.uuid4().hex[:6]}"
    try:
        code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", name, "--host", HOST)
        assert code == 2 and "in maintenance mode" in err, err
        assert vm_names(session, name) == set()
    finally:
        destroy_vms(session, name)


def test_the_planner_leaves_a_host_in_maintenance_mode_out(cli, cluster_file, session, in_maintenance):
    path, pfx = cluster_file("[_VMS_]\nPFX-{1:7}: template: vhpc_clone cluster: COMPUTE_GPU_Cluster "
                             "anti_affinity: PFX power: off\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    # seven anti-affine VMs, seven hosts in the cluster, one of them in maintenance mode: short by one
    assert code == 2 and "needs 7 more hosts" in err and "has 6 that can take one" in err, err
    assert vm_names(session, pfx) == set()


def test_an_existing_vm_is_not_powered_on_on_a_host_in_maintenance_mode(cli, cluster_file, session):
    path, pfx = cluster_file(f"[_VMS_]\nPFX-1: template: vhpc_clone cluster: COMPUTE_GPU_Cluster host: {HOST} "
                             "power: off\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    host = host_ref(session)
    wait_for_tasks(session, [host.EnterMaintenanceMode_Task(timeout=0)])
    try:
        path.write_text(path.read_text().replace(" power: off", ""))
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and f"{path}:2:" in err and "is in maintenance mode" in err, err
    finally:
        wait_for_tasks(session, [host.ExitMaintenanceMode_Task(timeout=0)])
    inv = read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
    assert inv.find("VirtualMachine", f"{pfx}-1").get("runtime.powerState") == "poweredOff"


def test_a_datacenter_without_hosts_is_refused_before_any_change(cli, cluster_file, session):
    """vCenter makes a VM only where its folder, pool, host and datastore are of one datacenter."""
    dc = session.content.rootFolder.CreateDatacenter(name=f"empty-{uuid.uuid4().hex[:6]}")
    pfx = f"c{uuid.uuid4().hex[:6]}"
    try:
        path, _ = cluster_file(f"""
[_VMS_]
PFX-{{1:2}}: template: vhpc_clone datacenter: {dc.name}
PFX-pinned: template: vhpc_clone datacenter: {dc.name} host: vhpc-esx-07.hpc.vmware.com
""", pfx=pfx)
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and "nothing was changed" in err
        assert f"datacenter {dc.name} has no cluster" in err and f"not found in {dc.name}" in err
        code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-c", "--datacenter", dc.name)
        assert code == 2 and "nothing was cloned" in err
        assert vm_names(session, pfx) == set() and dc.vmFolder.childEntity == []
    finally:
        destroy_vms(session, f"{pfx}-1", f"{pfx}-2", f"{pfx}-pinned", f"{pfx}-c")
        wait_for_tasks(session, [dc.Destroy_Task()])
