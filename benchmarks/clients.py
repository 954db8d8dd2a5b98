"""Third-party clients on the lab: Ansible's community.vmware modules, run once by hand.

Optional, in neither `make test` nor `make bench` (the lab's own sweep of such reads is
tests/integration/test_lab_clients.py, with pyVmomi alone). Needs Ansible in the venv:

    .venv/bin/pip install ansible
    nice .venv/bin/python -m benchmarks.clients [--keep DIR] [--only NAME,...] [--sim BINARY]

--sim measures another build of the lab (e.g. an older commit's: git archive COMMIT sim | tar -x -C DIR,
then go build there), to count what changed.

A fresh lab; one playbook of module calls in order (reads, then a VM cloned, used and destroyed, a
distributed switch made and removed), each followed by the checks of what vSphere would answer.
Every call ends as one of: ok, wrong (it answered, a check failed), fault (the module failed
cleanly), crash (a Python exception in the module), hang (no answer within the task timeout).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tests.plugins import lab as lab_plugin
from tests.plugins.lab import start_lab, stop_lab

DC, GPU_CLUSTER, HPC_CLUSTER = "HPC_Datacenter", "COMPUTE_GPU_Cluster", "HPC_Cluster"
HOST2 = "vhpc-esx-02.hpc.vmware.com"
GPU_HOSTS = [f"vhpc-esx-0{i}.hpc.vmware.com" for i in range(2, 9)]
VM, VM2 = "ans-vm1", "ans-vm2"
GUEST = {"vm_username": "root", "vm_password": "VMware1!", "datacenter": DC}
TIMEOUT = 90   # seconds: a module that answers nothing within this is a hang


def call(name: str, module: str, args: dict | None = None, checks: dict | None = None,
         fails: bool = False) -> dict:
    """One module call. checks: description -> Jinja expression over `r` (the result) that vSphere makes
    true; fails: the module is expected to fail (vSphere refuses)."""
    return {"name": name, "module": module, "args": args or {}, "checks": checks or {}, "fails": fails}


def reads() -> list[dict]:
    host = {"esxi_hostname": HOST2}
    return [
        call("about", "vmware_about_info", checks={"a vCenter": "r.about_info.product_name is defined"}),
        call("datacenters", "vmware_datacenter_info", checks={"one datacenter": "r.datacenter_info | length == 1"}),
        call("cluster info", "vmware_cluster_info", {"cluster_name": GPU_CLUSTER}, checks={
            "seven hosts": f"r.clusters['{GPU_CLUSTER}'].hosts | length == 7",
            "DRS on": f"r.clusters['{GPU_CLUSTER}'].enabled_drs",
            "capacity is the hosts' sum": f"r.clusters['{GPU_CLUSTER}'].resource_summary.cpuCapacityMHz == 7 * 40 * 2294",
            "storage": f"r.clusters['{GPU_CLUSTER}'].resource_summary.storageCapacityMB > 0"}),
        call("host facts", "vmware_host_facts", host, checks={
            "80 logical CPUs": "r.ansible_facts.ansible_processor_vcpus == 80",
            "40 cores": "r.ansible_facts.ansible_processor_cores == 40"}),
        call("host config", "vmware_host_config_info", host),
        call("host capability", "vmware_host_capability_info", host,
             checks={"a capability": f"r.hosts_capability_info['{HOST2}'] | length > 0"}),
        call("host services", "vmware_host_service_info", host),
        call("host firewall", "vmware_host_firewall_info", host,
             checks={"pvrdma ruleset": f"r.hosts_firewall_info['{HOST2}'] | selectattr('key', 'eq', 'pvrdma') | list | length == 1"}),
        call("host ntp", "vmware_host_ntp_info", host),
        call("host dns", "vmware_host_dns_info", host,
             checks={"host name": f"r.hosts_dns_info['{HOST2}'].host_name == 'vhpc-esx-02'"}),
        call("host vmnics", "vmware_host_vmnic_info", host,
             checks={"six vmnics": f"r.hosts_vmnics_info['{HOST2}'].all | length == 6"}),
        call("host vmhbas", "vmware_host_vmhba_info", host),
        call("host packages", "vmware_host_package_info", host),
        call("host features", "vmware_host_feature_info", host),
        call("host ssl", "vmware_host_ssl_info", host),
        call("host disks", "vmware_host_disk_info", host),
        call("host scsi disks", "vmware_host_scsidisk_info", host),
        call("host acceptance", "vmware_host_acceptance_info", host),
        call("host iscsi", "vmware_host_iscsi_info", host),
    ]


def network_reads() -> list[dict]:
    host = {"esxi_hostname": HOST2}
    return [
        call("vmkernel adapters", "vmware_vmkernel_info", host,
             checks={"vmk0": f"r.host_vmk_info['{HOST2}'] | selectattr('device', 'eq', 'vmk0') | list | length == 1"}),
        call("standard switches", "vmware_vswitch_info", host,
             checks={"vSwitch0": f"'vSwitch0' in r.hosts_vswitch_info['{HOST2}']"}),
        call("port groups", "vmware_portgroup_info", host,
             checks={"vHPC-PG-VMNetwork": f"r.hosts_portgroup_info['{HOST2}'] | selectattr('portgroup', 'eq', 'vHPC-PG-VMNetwork') | list | length == 1"}),
        call("datastores", "vmware_datastore_info", {"datacenter": DC},
             checks={"vsanDatastore": "r.datastores | selectattr('name', 'eq', 'COMPUTE01_vsanDatastore') | list | length == 1"}),
    ]


def inventory_reads() -> list[dict]:
    host = {"esxi_hostname": HOST2}
    return [
        call("resource pools", "vmware_resource_pool_info"),
        call("folders", "vmware_folder_info", {"datacenter": DC}),
        call("vms", "vmware_vm_info", {"vm_type": "all"},
             checks={"the template": "r.virtual_machines | selectattr('guest_name', 'eq', 'vhpc_clone') | list | length == 1"}),
        call("template info", "vmware_guest_info", {"datacenter": DC, "name": "vhpc_clone", "schema": "vsphere",
                                                      "properties": ["config.hardware.device", "guest", "summary"]},
             checks={"Network adapter 1": "r.instance.config.hardware.device | selectattr('deviceInfo.label', 'eq', 'Network adapter 1') | list | length == 1",
                     "NIC key 4000": "r.instance.config.hardware.device | selectattr('key', 'eq', 4000) | list | length == 1",
                     "Hard disk 1 key 2000": "r.instance.config.hardware.device | selectattr('key', 'eq', 2000) | map(attribute='deviceInfo.label') | list == ['Hard disk 1']"}),
        call("template info (summary)", "vmware_guest_info", {"datacenter": DC, "name": "vhpc_clone"}),
        call("template disks", "vmware_guest_disk_info", {"datacenter": DC, "name": "vhpc_clone"},
             checks={"Hard disk 1": "r.guest_disk_info['0'].label == 'Hard disk 1'",
                     "key 2000": "r.guest_disk_info['0'].key == 2000"}),
        call("template tools", "vmware_guest_tools_info", {"datacenter": DC, "name": "vhpc_clone"}),
        call("template snapshots", "vmware_guest_snapshot_info", {"datacenter": DC, "name": "vhpc_clone", "folder": f"/{DC}/vm"},
             checks={"linked-clone-base": "r.guest_snapshots.current_snapshot.name == 'linked-clone-base'"}),
        call("all snapshots", "vmware_all_snapshots_info", {"datacenter": DC}),
        call("template boot", "vmware_guest_boot_info", {"name": "vhpc_clone"}),
        call("find template", "vmware_guest_find", {"name": "vhpc_clone"}),
        call("vm config option", "vmware_vm_config_option", {"datacenter": DC, "esxi_hostname": HOST2,
                                                             "get_hardware_versions": True}),
        call("DRS rules", "vmware_drs_rule_info", {"cluster_name": GPU_CLUSTER}),
        call("DRS groups", "vmware_drs_group_info", {"cluster_name": GPU_CLUSTER}),
        call("roles", "vmware_local_role_info"),
        call("permissions", "vmware_object_role_permission_info", {"object_name": DC, "object_type": "Datacenter"}),
        call("vCenter settings", "vmware_vcenter_settings_info"),
        call("custom attribute defs", "vmware_guest_custom_attribute_defs", {"state": "present", "attribute_key": "ans-attr"}),
        call("host graphics", "vmware_host_graphics", {**host, "graphic_type": "shared"}),
        call("target canonical", "vmware_target_canonical_info", host),
        call("vgpu info", "vmware_guest_vgpu_info", {"datacenter": DC, "name": "vhpc_clone"}),
        call("host config manager", "vmware_host_config_manager", {**host, "options": {"Net.PVRDMAVmknic": ""}}),
        call("power policy", "vmware_host_powermgmt_policy", {**host, "policy": "high-performance"}),
        call("power policy back", "vmware_host_powermgmt_policy", {**host, "policy": "balanced"}),
    ]


def vm_life() -> list[dict]:
    vm = {"datacenter": DC, "name": VM}
    shell = {**GUEST, "vm_id": VM, "wait_for_process": True, "timeout": 30}
    return [
        call("clone into the GPU cluster's pool", "vmware_guest",
             {**vm, "template": "vhpc_clone", "folder": f"/{DC}/vm", "cluster": GPU_CLUSTER,
              "datastore": "COMPUTE01_vsanDatastore", "state": "poweredon"},
             checks={"on a host of the pool's cluster": f"r.instance.hw_esxi_host in {GPU_HOSTS}"}),
        call("clone info", "vmware_guest_info", {**vm, "schema": "vsphere", "properties": ["runtime.host", "resourcePool"]}),
        call("wait for tools", "vmware_guest_tools_wait", {**vm, "timeout": 60}),
        call("tools info", "vmware_guest_tools_info", vm,
             checks={"tools running": "r.vmtools_info.vm_tools_running_status == 'guestToolsRunning'"}),
        call("shell exit 0", "vmware_vm_shell", {**shell, "vm_shell": "/bin/true"},
             checks={"exit code 0": "r.exit_code == 0"}),
        call("shell exit 3", "vmware_vm_shell", {**shell, "vm_shell": "/bin/sh", "vm_shell_args": "-c 'exit 3'"},
             fails=True),
        call("guest mkdir", "vmware_guest_file_operation",
             {**GUEST, "vm_id": VM, "directory": {"operation": "create", "path": "/tmp/ansdir"}}),
        call("guest copy", "vmware_guest_file_operation",
             {**GUEST, "vm_id": VM, "validate_certs": False, "copy": {"src": "{{ playbook_dir }}/hello.txt", "dest": "/tmp/ansdir/hello.txt",
                                             "overwrite": True}}),
        call("guest fetch", "vmware_guest_file_operation",
             {**GUEST, "vm_id": VM, "validate_certs": False, "fetch": {"src": "/tmp/ansdir/hello.txt", "dest": "{{ playbook_dir }}/fetched.txt"}}),
        call("guest rmdir", "vmware_guest_file_operation",
             {**GUEST, "vm_id": VM, "directory": {"operation": "delete", "path": "/tmp/ansdir", "recurse": True}}),
        call("guest mkdir outside", "vmware_guest_file_operation",
             {**GUEST, "vm_id": VM, "directory": {"operation": "create", "path": "/../../escape"}},
             checks={"nothing outside the guest": "lookup('pipe', 'test -e {{ playbook_dir }}/guests/escape && echo yes || echo no') == 'no'"}),
        call("add a NIC", "vmware_guest_network",
             {**vm, "network_name": "vHPC-PG-VMNetwork", "device_type": "vmxnet3", "state": "present", "force": True},
             checks={"Network adapter 2": "r.network_info | map(attribute='label') | list == ['Network adapter 1', 'Network adapter 2']",
                     "NIC units 7, 8": "r.network_info | map(attribute='unit_number') | list == [7, 8]"}),
        call("NIC info", "vmware_guest_network", {**vm, "gather_network_info": True},
             checks={"labels": "r.network_info | map(attribute='label') | list == ['Network adapter 1', 'Network adapter 2']"}),
        call("add a disk", "vmware_guest_disk",
             {**vm, "disk": [{"size_gb": 1, "type": "thin", "datastore": "COMPUTE01_vsanDatastore",
                              "scsi_controller": 0, "unit_number": 1, "state": "present"}]}),
        call("disk info", "vmware_guest_disk_info", vm,
             checks={"Hard disk 2": "r.guest_disk_info | dict2items | map(attribute='value.label') | sort | list == ['Hard disk 1', 'Hard disk 2']"}),
        call("reboot guest", "vmware_guest_powerstate", {**vm, "state": "reboot-guest"}),
        call("snapshot", "vmware_guest_snapshot", {**vm, "folder": f"/{DC}/vm", "state": "present", "snapshot_name": "s1"}),
        call("snapshot info", "vmware_guest_snapshot_info", {**vm, "folder": f"/{DC}/vm"},
             checks={"one snapshot": "r.guest_snapshots.snapshots | length == 1"}),
    ]


def group_life() -> list[dict]:
    """A second VM beside the first: DRS group and rule, unregistered and registered, destroyed."""
    vm = {"datacenter": DC, "name": VM}
    return [
        call("second clone", "vmware_guest",
             {"datacenter": DC, "name": VM2, "template": "vhpc_clone", "folder": f"/{DC}/vm", "esxi_hostname": HOST2, "datastore": "COMPUTE01_vsanDatastore", "state": "present"}),
        call("VM group", "vmware_drs_group", {"cluster_name": GPU_CLUSTER, "datacenter": DC, "group_name": "ans-group",
                                               "vms": [VM, VM2], "state": "present"}),
        call("anti-affinity", "vmware_vm_vm_drs_rule", {"cluster_name": GPU_CLUSTER, "drs_rule_name": "ans-rule",
                                                        "vms": [VM, VM2], "affinity_rule": False, "enabled": True}),
        call("DRS rules after", "vmware_drs_rule_info", {"cluster_name": GPU_CLUSTER},
             checks={"the rule": f"r.drs_rule_info['{GPU_CLUSTER}'] | selectattr('rule_name', 'eq', 'ans-rule') | list | length == 1"}),
        call("cluster info after", "vmware_cluster_info", {"cluster_name": GPU_CLUSTER, "schema": "vsphere",
                                                           "properties": ["configuration.rule", "configurationEx.rule"]},
             checks={"configuration.rule mirrors configurationEx.rule":
                     f"r.clusters['{GPU_CLUSTER}'].configuration.rule | map(attribute='name') | list == "
                     f"r.clusters['{GPU_CLUSTER}'].configurationEx.rule | map(attribute='name') | list"}),
        call("unregister", "vmware_guest_register_operation", {"datacenter": DC, "name": VM2, "folder": f"/{DC}/vm",
                                                               "esxi_hostname": HOST2, "state": "absent"}),
        call("register", "vmware_guest_register_operation",
             {"datacenter": DC, "name": VM2, "folder": f"/{DC}/vm", "esxi_hostname": HOST2,
              "path": f"[COMPUTE01_vsanDatastore] {VM2}/{VM2}.vmx", "state": "present"}),
        call("registered VM info", "vmware_guest_info", {"datacenter": DC, "name": VM2},
             checks={"2 vCPU": "r.instance.hw_processor_count == 2", "4 GB": "r.instance.hw_memtotal_mb == 4096",
                     "its adapter": "r.instance.hw_interfaces | length == 1"}),
        call("rule off", "vmware_vm_vm_drs_rule", {"cluster_name": GPU_CLUSTER, "drs_rule_name": "ans-rule", "state": "absent"}),
        call("destroy second", "vmware_guest", {"datacenter": DC, "name": VM2, "state": "absent", "force": True}),
        call("DRS groups after destroy", "vmware_drs_group_info", {"cluster_name": GPU_CLUSTER},
             checks={"the destroyed VM left its group":
                     f"(r.drs_group_info['{GPU_CLUSTER}'] | selectattr('group_name', 'eq', 'ans-group') | first).vms == ['{VM}']"}),
        call("group off", "vmware_drs_group", {"cluster_name": GPU_CLUSTER, "datacenter": DC, "group_name": "ans-group",
                                               "vms": [VM], "state": "absent"}),
        call("destroy", "vmware_guest", {**vm, "state": "absent", "force": True}),
    ]


def switches() -> list[dict]:
    dvs = "ans-dvs"
    return [
        call("DVS", "vmware_dvswitch", {"datacenter": DC, "switch": dvs, "version": "7.0.0", "uplink_quantity": 1,
                                        "state": "present"}),
        call("DVS host", "vmware_dvs_host", {"esxi_hostname": HOST2, "switch_name": dvs, "vmnics": ["vmnic2"],
                                             "state": "present"}),
        call("DVS port group", "vmware_dvs_portgroup",
             {"portgroup_name": "ans-pg", "switch_name": dvs, "vlan_id": 0, "num_ports": 16,
              "port_binding": "static", "port_allocation": "fixed", "state": "present"}),
        call("DVS info", "vmware_dvswitch_info", {"switch_name": dvs},
             checks={"one switch": "r.distributed_virtual_switches | length == 1"}),
        call("DVS port group info", "vmware_dvs_portgroup_info", {"datacenter": DC, "dvswitch": dvs},
             checks={"16 ports": f"r.dvs_portgroup_info['{dvs}'] | selectattr('portgroup_name', 'eq', 'ans-pg') | map(attribute='num_ports') | list == [16]"}),
        call("DVS port group find", "vmware_dvs_portgroup_find", {"dvswitch": dvs}),
        call("DVS uplink port group", "vmware_dvswitch_uplink_pg", {"switch": dvs, "name": "ans-uplinks",
                                                                    "description": "uplinks"}),
        call("standard switch", "vmware_vswitch", {"esxi_hostname": HOST2, "switch": "ans-vss", "nics": ["vmnic3"],
                                                   "mtu": 9000}),
        call("standard port group", "vmware_portgroup", {"esxi_hostname": HOST2, "switch": "ans-vss",
                                                         "portgroup": "ans-vss-pg", "vlan_id": 0}),
        call("standard port group off", "vmware_portgroup", {"esxi_hostname": HOST2, "switch": "ans-vss",
                                                             "portgroup": "ans-vss-pg", "state": "absent"}),
        call("standard switch off", "vmware_vswitch", {"esxi_hostname": HOST2, "switch": "ans-vss", "state": "absent"}),
        call("DVS port group off", "vmware_dvs_portgroup", {"portgroup_name": "ans-pg", "switch_name": dvs,
                                                            "vlan_id": 0, "port_binding": "static", "state": "absent"}),
        call("DVS off", "vmware_dvswitch", {"datacenter": DC, "switch": dvs, "state": "absent"}),
        call("resource pool", "vmware_resource_pool", {"datacenter": DC, "cluster": GPU_CLUSTER,
                                                       "resource_pool": "ans-rp", "state": "present"}),
        call("resource pool off", "vmware_resource_pool", {"datacenter": DC, "cluster": GPU_CLUSTER,
                                                           "resource_pool": "ans-rp", "state": "absent"}),
    ]


def setup(lab) -> None:
    """What the playbook builds on: the distributed switch (vmware_dvswitch asks QueryAvailableDvsSpec first,
    which the lab may lack), made with pyVmomi."""
    from pyVmomi import vim

    si = lab.connect_plain()
    content = si.RetrieveContent()
    dc = next(e for e in content.rootFolder.childEntity if e.name == DC)
    spec = vim.DistributedVirtualSwitch.CreateSpec(configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
        name="ans-dvs", numStandalonePorts=0), productInfo=vim.dvs.ProductSpec(version="7.0.0"))
    task = dc.networkFolder.CreateDVS_Task(spec)
    while task.info.state not in ("success", "error"):
        pass
    if task.info.state == "error":
        raise SystemExit(f"CreateDVS_Task: {task.info.error.msg}")


def playbook(calls: list[dict]) -> list[dict]:
    tasks = []
    for i, c in enumerate(calls):
        tasks.append({"name": f"call {i}: {c['name']}", f"community.vmware.{c['module']}": c["args"],
                      "register": f"r{i}", "ignore_errors": True, "timeout": TIMEOUT})
        for desc, expr in c["checks"].items():
            tasks.append({"name": f"check {i}: {desc}", "assert": {"that": [expr], "quiet": True},
                          "vars": {"r": f"{{{{ r{i} }}}}"}, "when": f"r{i} is succeeded", "ignore_errors": True})
    return [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]


CRASH_MARKS = ("MODULE FAILURE", "Traceback", "AttributeError", "TypeError", "KeyError", "IndexError",
               "object has no attribute", "NoneType", "index out of range")
HANG_MARKS = ("timed out", "Timeout waiting")


def classify(calls: list[dict], results: list[dict]) -> list[dict]:
    """One row per call: its verdict and why."""
    rows, by_name = [], {}
    for t in results:
        res = t["hosts"].get("localhost", {})
        by_name[t["task"]["name"]] = res
    for i, c in enumerate(calls):
        res = by_name.get(f"call {i}: {c['name']}", {})
        text = " ".join(str(res.get(k, "")) for k in ("msg", "module_stderr", "exception"))
        if not res:
            verdict, why = "missing", "the task did not run"
        elif any(m in str(res.get("msg", "")) for m in HANG_MARKS):
            verdict, why = "hang", res["msg"]
        elif res.get("failed") and any(m in text for m in CRASH_MARKS):
            verdict, why = "crash", text.strip().splitlines()[-1][:300] if text.strip() else "?"
        elif res.get("failed") and not c["fails"]:
            verdict, why = "fault", str(res.get("msg"))[:300]
        elif not res.get("failed") and c["fails"]:
            verdict, why = "wrong", "succeeded where vSphere refuses"
        else:
            bad = [d for d in c["checks"] if by_name.get(f"check {i}: {d}", {}).get("failed")]
            verdict, why = ("wrong", "; ".join(bad)) if bad else ("ok", "")
        rows.append({"call": c["name"], "module": c["module"], "verdict": verdict, "why": why})
    return rows


def resolving_hosts(work: Path) -> list[str]:
    """A command prefix under which the lab's host names resolve to their management addresses, as an
    ESXi host's name resolves where vCenter runs (guest file transfers go to the VM's host by name):
    bubblewrap with an /etc/hosts of our own; none when bubblewrap is missing."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return []
    hosts = work / "hosts"
    lines = [Path("/etc/hosts").read_text()] + [f"127.10.0.{i} vhpc-esx-{i:02d}.hpc.vmware.com" for i in range(1, 9)]
    hosts.write_text("\n".join(lines) + "\n")
    return [bwrap, "--dev-bind", "/", "/", "--ro-bind", str(hosts), "/etc/hosts", "--"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="work in this folder and keep it (playbook, results, lab log)")
    ap.add_argument("--only", help="comma-separated call names to run")
    ap.add_argument("--sim", help="the lab binary to run (default: sim/bin/vhpc-sim, built by make)")
    args = ap.parse_args()
    if args.sim:
        lab_plugin.SIM = Path(args.sim).resolve()
        lab_plugin._build_sim = lambda: None
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.exists():
        raise SystemExit("ansible-playbook is not in this venv: .venv/bin/pip install ansible")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vhpc-clients-"))
    work.mkdir(parents=True, exist_ok=True)
    calls = reads() + network_reads() + inventory_reads() + vm_life() + group_life() + switches()
    if args.only:
        keep = set(args.only.split(","))
        calls = [c for c in calls if c["name"] in keep]
    (work / "hello.txt").write_text("hello from ansible\n")
    (work / "play.yml").write_text(yaml.safe_dump(playbook(calls), sort_keys=False))
    lab = start_lab(work, "--boot-delay", "300ms", "--guest-ops-delay", "200ms", "--customization-time", "100ms")
    try:
        setup(lab)
        s = lab.settings
        env = {**os.environ, "VMWARE_HOST": s["server"], "VMWARE_PORT": str(s["port"]),
               "VMWARE_USER": s["username"], "VMWARE_PASSWORD": s["password"], "VMWARE_VALIDATE_CERTS": "true",
               "SSL_CERT_FILE": s["ca_file"], "ANSIBLE_HOME": str(work / "home"),
               "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_STDOUT_CALLBACK": "json",
               "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_CONFIG": str(work / "none.cfg"), "ANSIBLE_LOCALHOST_WARNING": "0",
               "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"}
        lab.reset_calls()
        out = subprocess.run([*resolving_hosts(work), str(playbook_bin), "-i", "localhost,", "play.yml"], cwd=work,
                             env=env, capture_output=True, text=True)
        soap_calls = lab.calls()["total"]
    finally:
        stop_lab(lab)
    (work / "results.json").write_text(out.stdout)
    try:
        results = json.loads(out.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        raise SystemExit(f"ansible-playbook gave no JSON ({out.returncode}):\n{out.stderr[-3000:]}")
    rows = classify(calls, results)
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        if r["verdict"] != "ok":
            print(f"{r['verdict']:6} {r['call']} ({r['module']}): {r['why']}")
    print(json.dumps({"calls": len(rows), **counts, "soap_calls": soap_calls}))
    (work / "verdicts.json").write_text(json.dumps(rows, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
