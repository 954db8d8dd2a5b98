"""Post scripts against the lab: upload, run, exit codes, output, barriers, errors.

The lab runs guest programs under bubblewrap in lab.guest_root / VM name,
so what a script writes in the guest can be read back from the host.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path

import pytest

from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.clusterfile.model import ScriptStep
from vhpc_toolkit.ops.post import password_source, run_barriers, run_scripts
from vhpc_toolkit.results import NOT_RUN, OK
from vhpc_toolkit.vsphere.guest.info import wait_for_tools
from vhpc_toolkit.vsphere.guest.operations import Guest, GuestLoginFailed, ToolsNotRunning, VMNotPoweredOn
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "VMware1!"


@pytest.fixture
def cli(lab, run_cli, monkeypatch):
    monkeypatch.delenv("VHPC_GUEST_PASSWORD", raising=False)
    monkeypatch.delenv("VHPC_GUEST_VAULT_PATH", raising=False)

    def run(*argv):
        return run_cli("--vcenter-conf", lab.conf, "--yes", *argv)
    return run


@pytest.fixture(scope="module")
def vms(lab, tmp_path_factory):
    """Three powered-on clones of the template, destroyed afterwards."""
    from vhpc_toolkit.cli.main import main

    names = [f"tp-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    listing = tmp_path_factory.mktemp("post-vms") / "vms.txt"
    listing.write_text("\n".join(names) + "\n")
    base = ["--vcenter-conf", str(lab.conf), "--yes"]
    assert main(base + ["clone", "--template", "vhpc_clone", "--file", str(listing)]) == 0
    assert main(base + ["power", "--on", "--file", str(listing)]) == 0
    yield names
    main(base + ["destroy", "--file", str(listing)])


def vm_obj(session, name):
    inv = read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
    return inv.find("VirtualMachine", name)


def power(session, name, on: bool):
    obj = vm_obj(session, name)
    want = "poweredOn" if on else "poweredOff"
    if obj.get("runtime.powerState") != want:
        wait_for_task(session, obj.ref.PowerOnVM_Task() if on else obj.ref.PowerOffVM_Task())


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    return path


def guest_file(lab, vm, path) -> Path:
    return lab.guest_root / vm / path.lstrip("/")


def test_exit_code_output_and_files_come_back(cli, lab, vms, tmp_path):
    ok = script(tmp_path, "ok.sh", "echo line1\necho line2 >&2\necho done > /tmp/ok-marker\npwd\n")
    bad = script(tmp_path, "bad.sh", "echo about to fail\nexit 3\n")
    code, out, err = cli("--output", "json", "post", "--vm", vms[0], "--script", ok, bad,
                         "--guest_password", PASSWORD, "--wait")
    assert code == 1, err
    doc = json.loads(out)
    first, second = doc["results"]
    assert (first["vm"], first["status"], first["exit_code"]) == (vms[0], OK, 0)
    assert first["output_tail"] == ["line1", "line2", "/tmp"]
    assert first["duration"] is not None and first["duration"] >= 0
    assert first["guest_script"].startswith("/tmp/vhpc-ok-") and first["guest_script"].endswith(".sh")
    assert (second["status"], second["exit_code"], second["output_tail"]) == ("failed", 3, ["about to fail"])
    assert guest_file(lab, vms[0], "/tmp/ok-marker").read_text() == "done\n"
    assert guest_file(lab, vms[0], first["guest_script"]).read_bytes() == ok.read_bytes()
    assert "bad.sh" in doc["failure"] and "exit code 3" in doc["failure"]


def test_table_output_and_exit_0_on_several_vms(cli, vms, tmp_path, monkeypatch):
    hello = script(tmp_path, "hello.sh", "echo hello from the guest\n")
    listing = tmp_path / "vms.txt"
    listing.write_text(f"{vms[0]}\n{vms[1]}\n")
    monkeypatch.setenv("VHPC_GUEST_PASSWORD", PASSWORD)  # the environment is a source too
    code, out, err = cli("post", "--file", listing, "--script", hello, "--wait")
    assert code == 0, err
    assert out.count("hello from the guest") == 2 and "2 ok" in out and PASSWORD not in out + err


def test_without_wait_the_script_is_started(cli, lab, vms, tmp_path):
    slow = script(tmp_path, "slow.sh", "sleep 0.3\necho finished > /tmp/slow-marker\n")
    code, out, err = cli("--output", "json", "post", "--vm", vms[1], "--script", slow,
                         "--guest_password", PASSWORD)
    assert code == 0, err
    run = json.loads(out)["results"][0]
    assert run["status"] == "started" and run["pid"] and run["exit_code"] is None
    marker = guest_file(lab, vms[1], "/tmp/slow-marker")
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "finished\n"


def test_wrong_password_is_one_line_per_vm(cli, vms, tmp_path):
    hello = script(tmp_path, "hello.sh", "echo hi\n")
    code, out, err = cli("post", "--vm", vms[0], "--script", hello, "--guest_password", "Not-It-42", "--wait")
    assert code == 1
    assert "Traceback" not in out + err and "Not-It-42" not in out + err
    assert err.strip().splitlines() == [f"error: VM {vms[0]}: script {hello} failed: "
                                        f"guest login to VM {vms[0]} as root failed"]


def test_missing_script_file_is_one_line(cli, vms, tmp_path):
    code, out, err = cli("post", "--vm", vms[0], "--script", tmp_path / "nope.sh", "--guest_password", PASSWORD)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [f"error: {tmp_path / 'nope.sh'}: script does not exist"]


def test_no_password_anywhere_is_one_line(cli, vms, tmp_path):
    hello = script(tmp_path, "hello.sh", "echo hi\n")
    code, _, err = cli("post", "--vm", vms[0], "--script", hello)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "VHPC_GUEST_PASSWORD" in err


def test_post_powers_on_a_powered_off_vm(cli, session, lab, vms, tmp_path):
    power(session, vms[2], on=False)
    hello = script(tmp_path, "boot.sh", "echo booted > /tmp/boot-marker\n")
    code, out, err = cli("--output", "json", "post", "--vm", vms[2], "--script", hello,
                         "--guest_password", PASSWORD, "--wait")
    assert code == 0, err
    assert json.loads(out)["results"][0]["status"] == OK
    assert vm_obj(session, vms[2]).get("runtime.powerState") == "poweredOn"
    assert guest_file(lab, vms[2], "/tmp/boot-marker").read_text() == "booted\n"


def test_library_errors_powered_off_and_tools_not_running(session, vms, tmp_path):
    name = vms[2]
    power(session, name, on=False)
    obj = vm_obj(session, name)
    guest = Guest(session, obj.ref, name, "root", PASSWORD)
    with pytest.raises(VMNotPoweredOn, match=f"^VM {name} is not powered on"):
        guest.start("/bin/true")
    hello = script(tmp_path, "hello.sh", "echo hi\n")
    report = run_scripts(session, [(name, [str(hello)])], "root", PASSWORD, power_on=False)
    assert report.runs[0].failed and "is not powered on" in report.runs[0].error
    assert vm_obj(session, name).get("runtime.powerState") == "poweredOff"
    # Just powered on: VMware Tools is not up yet (the lab's boot delay). Without retries
    # that is ToolsNotRunning at once; with them (the default) the upload waits it out.
    wait_for_task(session, obj.ref.PowerOnVM_Task())
    impatient = Guest(session, obj.ref, name, "root", PASSWORD, retry_for=0)
    with pytest.raises(ToolsNotRunning, match=f"^VMware Tools is not running in VM {name}"):
        impatient.upload(b"x", "/tmp/x")
    guest.upload(b"x", "/tmp/x")
    bad = Guest(session, obj.ref, name, "root", "nope")
    with pytest.raises(GuestLoginFailed, match=f"^guest login to VM {name} as root failed$"):
        bad.processes([])
    assert "nope" not in repr(bad)


def phases_for(tmp_path, vms, layout):
    """Cluster phases from layout {vm index: [(script path, barrier)]}, via VMSpec-like objects."""
    spec = parse_cluster_file(ROOT / "examples/cluster-scripts/cluster-post-scripts.conf")
    template = spec.vms[0]
    phases = {}
    for i, steps in layout.items():
        vm = dataclasses.replace(template, name=vms[i], scripts=[ScriptStep(str(p), b, p.name) for p, b in steps])
        for step in vm.scripts:
            phases.setdefault(step.barrier, []).append((vm, step))
    return [(b, phases[b]) for b in sorted(phases, key=lambda b: -1 if b is None else b)]


def stamps(lab, vm):
    path = guest_file(lab, vm, "/tmp/stamps")
    return [(line.split()[0], float(line.split()[1])) for line in path.read_text().splitlines()]


def test_barrier_order_holds_across_vms(session, lab, vms, tmp_path):
    for vm in vms:
        power(session, vm, on=True)
        guest_file(lab, vm, "/tmp/stamps").unlink(missing_ok=True)

    def stamp(label, sleep=0.0):
        return script(tmp_path, f"{label}.sh",
                      f"echo {label}-start $(date +%s.%N) >> /tmp/stamps\nsleep {sleep}\n"
                      f"echo {label}-end $(date +%s.%N) >> /tmp/stamps\n")

    slow0, fast1, b1, b2_0, b2_2 = stamp("p0slow", 0.6), stamp("p0fast"), stamp("b1"), stamp("b2a"), stamp("b2c")
    phases = phases_for(tmp_path, vms, {
        0: [(slow0, None), (b2_0, 2)],
        1: [(fast1, None), (b1, 1)],
        2: [(b2_2, 2)],
    })
    report = run_barriers(session, phases, password_source(PASSWORD))
    assert report.ok, report.to_dict()
    assert [p.barrier for p in report.phases] == [None, 1, 2]
    t0, t1, t2 = (dict(stamps(lab, vm)) for vm in vms)
    # Phase 0 ran concurrently on vm0 and vm1; barrier 1 started after the slow one ended.
    assert t1["p0fast-start"] < t0["p0slow-end"]
    assert t1["b1-start"] >= t0["p0slow-end"]
    assert min(t0["b2a-start"], t2["b2c-start"]) >= t1["b1-end"]
    doc = report.to_dict()
    assert doc["phases_not_run"] == [] and all(r["status"] == OK for r in doc["results"])


def test_failing_script_stops_later_barriers(session, lab, vms, tmp_path):
    for vm in vms[:2]:
        power(session, vm, on=True)
    marker = "/tmp/should-not-exist"
    guest_file(lab, vms[1], marker).unlink(missing_ok=True)
    good = script(tmp_path, "good.sh", "echo fine\n")
    bad = script(tmp_path, "broken.sh", "echo something broke >&2\nexit 7\n")
    later = script(tmp_path, "later.sh", f"touch {marker}\n")
    phases = phases_for(tmp_path, vms, {0: [(good, 1), (later, 3)], 1: [(bad, 1), (later, 2)]})
    report = run_barriers(session, phases, password_source(PASSWORD))
    assert not report.ok
    assert [(p.barrier, p.status) for p in report.phases] == [(1, "failed"), (2, NOT_RUN), (3, NOT_RUN)]
    failed = report.failed
    assert len(failed) == 1 and (failed[0].vm, failed[0].script, failed[0].exit_code) == (vms[1], "broken.sh", 7)
    assert failed[0].output_tail == ["something broke"]
    assert report.failure() == (f"VM {vms[1]}: script broken.sh failed: exit code 7; "
                                "last output: something broke")
    assert "phases not run: barrier 2, barrier 3" in report.summary()
    assert not guest_file(lab, vms[1], marker).exists()
    assert report.to_dict()["phases_not_run"] == [2, 3]


def test_example_cluster_scripts_run_in_their_phases(session, lab, vms, tmp_path):
    """cluster-post-scripts.conf's phases (three, two barriers) on our VMs instead of node1..4."""
    spec = parse_cluster_file(ROOT / "examples/cluster-scripts/cluster-post-scripts.conf")
    rename = {vm.name: vms[i % len(vms)] for i, vm in enumerate(spec.vms[:3])}
    phases = []
    for barrier, pairs in spec.script_phases():
        kept = [(dataclasses.replace(vm, name=rename[vm.name]), step) for vm, step in pairs if vm.name in rename]
        phases.append((barrier, kept))
    for vm in vms:
        power(session, vm, on=True)
    report = run_barriers(session, phases, password_source())
    assert report.ok, report.failure()
    assert [p.barrier for p in report.phases] == [None, 1, 2]
    # hello_world2 (barrier 2, node1 only) saw hello_world1's line (barrier 1).
    last = report.phases[2].runs[0]
    assert last.vm == vms[0] and "earlier steps left" in last.output_tail[-1]


def test_calls_one_inventory_read_and_one_list_per_vm_per_poll(session, lab, vms, tmp_path):
    for vm in vms[:2]:
        power(session, vm, on=True)
    wait_for_tools(session, [vm_obj(session, vm).ref for vm in vms[:2]], 60)
    for vm in vms[:2]:   # guest operations ready, and the session knows the hosts (read once per session)
        Guest(session, vm_obj(session, vm).ref, vm, "root", PASSWORD).upload(b"", "/tmp/warm-up")
    slow = script(tmp_path, "slow.sh", "sleep 0.5\necho done\n")
    lab.reset_calls()
    report = run_scripts(session, [(vms[0], [str(slow)]), (vms[1], [str(slow)])], "root", PASSWORD)
    calls = lab.calls()["methods"]
    assert report.ok, report.failure()
    assert calls.get("RetrievePropertiesEx") == 1 and "WaitForUpdatesEx" not in calls
    per_vm = {m: calls.get(m) for m in ("InitiateFileTransferToGuest", "StartProgramInGuest",
                                        "InitiateFileTransferFromGuest")}
    assert per_vm == dict.fromkeys(per_vm, 2)
    # 0.5 s with polls at 0, 0.2, 0.5, 0.95 s...: a handful per VM, not a busy loop.
    assert 2 * 2 <= calls["ListProcessesInGuest"] <= 2 * 5


def test_transfers_pin_each_host_read_once_per_session(lab, session, vms, tmp_path):
    """File transfers go to the VM's ESXi host (its own certificate, pinned by the thumbprint
    vCenter holds); the hosts are read once per session, not per transfer."""
    from vhpc_toolkit.vsphere.guest.transfers import directory

    for vm in vms[:2]:
        power(session, vm, on=True)
    s = lab.connect()   # a new session: it knows no host yet
    try:
        wait_for_tools(s, [vm_obj(s, vm).ref for vm in vms[:2]], 60)
        hello = script(tmp_path, "pin.sh", "echo pinned\n")
        lab.reset_calls()
        first = run_scripts(s, [(vms[0], [str(hello)]), (vms[1], [str(hello)])], "root", PASSWORD)
        reads_first = lab.calls()["methods"].get("RetrievePropertiesEx")
        lab.reset_calls()
        second = run_scripts(s, [(vms[0], [str(hello)]), (vms[1], [str(hello)])], "root", PASSWORD)
        reads_second = lab.calls()["methods"].get("RetrievePropertiesEx")
        assert first.ok and second.ok, (first.failure(), second.failure())
        assert (reads_first, reads_second) == (2, 1)   # the VMs each time; the hosts once
        assert [r.output_tail for r in second.runs] == [["pinned"], ["pinned"]]
        hosts = directory(s)._hosts
        ep = hosts["vhpc-esx-01.hpc.vmware.com"]
        assert ep.addresses == ("127.10.0.1",) and len(ep.thumbprint) == 59
    finally:
        s.close()


def test_guest_operations_are_retried_while_unavailable(cli, session, lab, vms, tmp_path):
    """Tools running does not mean ready: GuestOperationsUnavailable is retried with backoff."""
    power(session, vms[0], on=True)
    wait_for_tools(session, [vm_obj(session, vms[0]).ref], 60)
    lab.post(f"/debug/guestops?vm={vms[0]}&unavailable=2s")
    lab.reset_calls()
    hello = script(tmp_path, "ready.sh", "echo ready\n")
    code, out, err = cli("--output", "json", "post", "--vm", vms[0], "--script", hello,
                         "--guest_password", PASSWORD, "--wait")
    assert code == 0, err
    assert json.loads(out)["results"][0]["output_tail"] == ["ready"]
    assert lab.calls()["methods"]["InitiateFileTransferToGuest"] >= 2    # refused at first, then retried


def test_a_host_certificate_that_does_not_match_its_thumbprint_is_refused(session, lab, vms):
    """The pin is a check: a host presenting another certificate than vCenter's thumbprint says gets nothing."""
    from vhpc_toolkit.vsphere.guest.operations import GuestOpsError
    from vhpc_toolkit.vsphere.guest.transfers import HostEndpoint, directory

    power(session, vms[1], on=True)
    wait_for_tools(session, [vm_obj(session, vms[1]).ref], 60)
    s = lab.connect()
    try:
        obj = vm_obj(s, vms[1])
        guest = Guest(s, obj.ref, vms[1], "root", PASSWORD)
        guest.upload(b"fine", "/tmp/pinned")                 # the right pin: accepted
        hosts = directory(s)._hosts
        for key, ep in list(hosts.items()):
            hosts[key] = HostEndpoint(ep.name, "00:" * 19 + "00", ep.addresses)
        with pytest.raises(GuestOpsError, match="thumbprint"):
            guest.upload(b"tampered", "/tmp/pinned")
        assert guest_file(lab, vms[1], "/tmp/pinned").read_bytes() == b"fine"
    finally:
        s.close()


def test_transfers_pin_sha256_thumbprints_too(cli, session, lab, vms, tmp_path):
    """vSphere is moving host thumbprints from SHA-1 to SHA-256 (govmomi pins both since 2024): a host that
    gives its certificate's SHA-256 is pinned by it, not refused."""
    power(session, vms[0], on=True)
    wait_for_tools(session, [vm_obj(session, vms[0]).ref], 60)
    host = read_inventory(session, {"VirtualMachine": ["runtime.host"], "HostSystem": []})
    name = host.by_ref(host.find("VirtualMachine", vms[0]).get("runtime.host")).name
    got = lab.post(f"/debug/thumbprint?host={name}&algorithm=sha256")
    try:
        assert len(got["sslThumbprint"]) == 95
        hello = script(tmp_path, "sha256.sh", "echo sha256-pinned\n")
        code, out, err = cli("--output", "json", "post", "--vm", vms[0], "--script", hello,
                             "--guest_password", PASSWORD, "--wait")
        assert code == 0, err + out
        assert json.loads(out)["results"][0]["output_tail"] == ["sha256-pinned"]
    finally:
        lab.post(f"/debug/thumbprint?host={name}&algorithm=sha1")
