"""Peers: the same 64-VM cluster created and destroyed on the lab by our toolkit, VMware's original
vHPC Toolkit 1.0.3 and Ansible's community.vmware vmware_guest.

Optional, in neither `make test` nor `make bench`: the first run installs the peers from the package
index (pip) into .cache/peers/venv. Each peer runs as a child process on a fresh lab; the lab counts
the SOAP calls (GET /debug/calls) and every create is read back before its destroy.

    nice .venv/bin/python -m benchmarks.peers                      # at 10 ms per call
    nice .venv/bin/python -m benchmarks.peers --latency-ms 10,0 --write   # also docs/peers.md
    nice .venv/bin/python -m benchmarks.peers --clone-time 5 --write      # full clones take 5 s (docs/peers.md)

With ``--clone-time S`` the lab's full clones take S seconds once vCenter's admission lets them run
(sim/README.md "Admission": 16 units per host, 2 per side of a full clone), as on real storage.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from benchmarks.measure import PERF64_BASE, lab_cpu, machine
from tests.plugins.lab import start_lab, stop_lab

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".cache" / "peers" / "venv"
VMS = 64
HOSTS = [f"vhpc-esx-0{i}.hpc.vmware.com" for i in range(2, 9)]   # COMPUTE_GPU_Cluster
# The SDK and the original's undeclared dependencies; pyVmomi at our own version, so the clients differ
# only in what they call.
PACKAGES = ["vhpc_toolkit==1.0.3", "ansible", f"pyvmomi=={version('pyvmomi')}", "requests", "pyyaml",
            "texttable", "textwrap3", "coloredlogs", "hvac"]

# One file for every peer.
CLUSTER = PERF64_BASE + """
[_VMS_]
peer-vm{1:%d}: BASE host: vhpc-esx-0{2:8}.hpc.vmware.com
""" % VMS

# vmware_guest has no latency sensitivity: its advanced_settings (extraConfig) carry the VMX option.
PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - community.vmware.vmware_guest:
        name: "{{ inventory_hostname }}"
        datacenter: HPC_Datacenter
        folder: /HPC_Datacenter/vm
        %s
"""
CREATE_TASK = """template: vhpc_clone
        esxi_hostname: "{{ esxi }}"
        datastore: COMPUTE01_vsanDatastore
        hardware: {num_cpus: 4, memory_mb: 8192, cpu_reservation: %d, memory_reservation_lock: true}
        advanced_settings: [{key: sched.cpu.latencySensitivity, value: high}]
        state: poweredon"""
DESTROY_TASK = "state: absent\n        force: true"


def peer_python() -> Path:
    """The peers' venv, created and filled by pip once (again when PACKAGES change)."""
    py = VENV / "bin" / "python"
    stamp = VENV / "packages.txt"
    if not py.exists() or not stamp.exists() or stamp.read_text() != "\n".join(PACKAGES):
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PACKAGES], check=True)
        stamp.write_text("\n".join(PACKAGES))
    return py


def versions(py: Path) -> dict:
    code = ("import json, sys; from importlib.metadata import version as v; print(json.dumps({n: v(n) for n in "
            "['vhpc_toolkit', 'ansible', 'ansible-core', 'pyvmomi']} | {'python': sys.version.split()[0]}))")
    theirs = json.loads(subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True).stdout)
    coll = next(VENV.glob("lib/python*/site-packages/ansible_collections/community/vmware/MANIFEST.json"))
    return {"ours": version("vhpc_toolkit"), "original vhpc_toolkit": theirs["vhpc_toolkit"],
            "ansible": theirs["ansible"], "ansible-core": theirs["ansible-core"],
            "community.vmware": json.loads(coll.read_text())["collection_info"]["version"],
            "pyvmomi": theirs["pyvmomi"], "python": f"{platform.python_version()} (peers {theirs['python']})"}


def run(lab, label: str, cmd: list[str], cwd: Path, env: dict, stdin: str) -> dict:
    """One command of a peer: wall seconds and the lab's calls; its output goes to cwd/LABEL.log."""
    lab.reset_calls()
    cpu0, lab0, start = client_cpu(), lab_cpu(lab), time.perf_counter()
    with open(cwd / f"{label}.log", "w") as out:
        code = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, input=stdin.encode(),
                              stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    cpu, lab_s = client_cpu() - cpu0, lab_cpu(lab) - lab0
    calls = lab.calls()
    log = (cwd / f"{label}.log").read_text()
    if code != 0:
        raise SystemExit(f"{label} failed ({code}): {' '.join(cmd)}\n{log[-3000:]}")
    # The original logs its failures and exits 0: its errors are reported beside the read-back.
    errors = [x for x in log.splitlines() if "ERROR" in x or "Traceback" in x]
    return {"wall": wall, "cpu": cpu, "lab_cpu": lab_s, "calls": calls["total"], "methods": calls["methods"],
            "errors": errors}


def client_cpu() -> float:
    """CPU seconds of our finished children and theirs (Ansible's forks included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_back(lab, count: int) -> list[str]:
    """What differs from the asked cluster (an empty list: COUNT VMs of the shape, powered on)."""
    from vhpc_toolkit.vsphere.inventory import read_inventory

    session = lab.connect()
    try:
        inv = read_inventory(session, {"VirtualMachine": [
            "runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB",
            "config.latencySensitivity", "config.extraConfig", "config.cpuAllocation.reservation",
            "config.memoryReservationLockedToMax", "config.memoryAllocation.reservation"]})
    finally:
        session.close()
    vms = [o for o in inv.of_type("VirtualMachine") if o.name.startswith("peer-vm")]
    wrong = [] if len(vms) == count else [f"{len(vms)} VMs"]
    for vm in vms:
        extra = {o.key: o.value for o in vm.get("config.extraConfig") or []}
        level = vm.get("config.latencySensitivity").level
        checks = {"poweredOn": vm.get("runtime.powerState") == "poweredOn",
                  "4 vCPU": vm.get("config.hardware.numCPU") == 4,
                  "8 GB": vm.get("config.hardware.memoryMB") == 8192,
                  "latency high": level == "high" or extra.get("sched.cpu.latencySensitivity") == "high",
                  "CPU reserved": vm.get("config.cpuAllocation.reservation") > 0,
                  "memory reserved": vm.get("config.memoryReservationLockedToMax")
                  or vm.get("config.memoryAllocation.reservation") >= 8192}
        wrong += [f"{vm.name}: not {k}" for k, ok in checks.items() if not ok]
    return wrong


def host_mhz(lab) -> int:
    from vhpc_toolkit.vsphere.inventory import read_inventory

    session = lab.connect()
    try:
        inv = read_inventory(session, {"HostSystem": ["summary.hardware.cpuMhz"]})
    finally:
        session.close()
    return inv.find("HostSystem", HOSTS[0]).get("summary.hardware.cpuMhz")


def ours(lab, d: Path, py: Path, forks: int):
    (d / "cluster.conf").write_text(CLUSTER)
    cli = [str(Path(sys.executable).parent / "vhpc_toolkit"), "--vcenter-conf", str(lab.conf), "--yes"]
    return lambda op: ([*cli, "cluster", f"--{op}", "--file", "cluster.conf"], d, {}, "")


def original(lab, d: Path, py: Path, forks: int):
    """Run from its bin/ folder as its users did: ../config/vCenter.conf; it asks on stdin."""
    (d / "bin").mkdir()
    (d / "config").mkdir()
    s = lab.settings
    (d / "config" / "vCenter.conf").write_text(
        f"server: {s['server']}\nport: {s['port']}\nusername: {s['username']}\npassword: {s['password']}\n")
    (d / "bin" / "cluster.conf").write_text(CLUSTER)
    cmd = [str(py), "-c", "from vhpc_toolkit.command import command; command()", "cluster", "--file", "cluster.conf"]
    env = {"HOME": str(d)}   # no ~/vhpc_toolkit/vCenter.conf of the user's
    # Its questions: the range mapping (both commands), then the destroy.
    return lambda op: ([*cmd, f"--{op}"], d / "bin", env, "y\n" * 4)


def ansible(lab, d: Path, py: Path, forks: int):
    """One inventory host per VM (local connection), so -f forks clone in parallel."""
    hosts = {f"peer-vm{i}": {"esxi": HOSTS[(i - 1) % len(HOSTS)]} for i in range(1, VMS + 1)}
    inv = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local", "ansible_python_interpreter": str(py)}}}
    (d / "inventory.json").write_text(json.dumps(inv))
    (d / "create.yml").write_text(PLAYBOOK % (CREATE_TASK % (4 * host_mhz(lab))))
    (d / "destroy.yml").write_text(PLAYBOOK % DESTROY_TASK)
    s = lab.settings
    env = {"VMWARE_HOST": s["server"], "VMWARE_PORT": str(s["port"]), "VMWARE_USER": s["username"],
           "VMWARE_PASSWORD": s["password"], "VMWARE_VALIDATE_CERTS": "true", "SSL_CERT_FILE": s["ca_file"],
           "ANSIBLE_HOME": str(d / "home"), "ANSIBLE_LOCAL_TEMP": str(d / "tmp"),
           "ANSIBLE_REMOTE_TEMP": str(d / "tmp"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(d / "none.cfg")}
    cmd = [str(py.parent / "ansible-playbook"), "-i", "inventory.json", "-f", str(forks)]
    return lambda op: ([*cmd, f"{op}.yml"], d, env, "")


PEERS = {"ours": ours, "original": original, "ansible": ansible}


def measure(peer: str, latency: int, work: Path, py: Path, forks: int, clone_time: float = 0) -> list[dict]:
    """Create, read back, destroy, read back, on a fresh lab."""
    d = work / f"{peer}-{latency}"
    d.mkdir()
    lab = start_lab(d, "--latency-ms", str(latency), "--clone-time", f"{clone_time:g}s")
    try:
        command = PEERS[peer](lab, d, py, forks)
        create = run(lab, f"{peer}-create", *command("create"))
        create["wrong"] = read_back(lab, VMS)
        destroy = run(lab, f"{peer}-destroy", *command("destroy"))
        destroy["wrong"] = read_back(lab, 0)
    finally:
        stop_lab(lab)
    log = (d / "sim.log").read_text()
    create["lab_panics"] = destroy["lab_panics"] = log.count("panic")
    return [create, destroy]


def top(methods: dict, n: int = 4) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(methods.items(), key=lambda kv: -kv[1])[:n])


def table(results: dict) -> str:
    lines = ["| latency | peer | operation | wall s | x ours | client CPU s | lab CPU s | SOAP calls | calls/VM "
             "| x ours | top methods |", "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for (latency, peer), pair in results.items():
        for i, (op, r) in enumerate(zip(("create", "destroy"), pair)):
            base = results[(latency, "ours")][i]
            lines.append(f"| {latency} ms | {NAMES[peer]} | {op} | {r['wall']:.1f} | {r['wall'] / base['wall']:.1f} "
                         f"| {r['cpu']:.1f} | {r['lab_cpu']:.1f} | {r['calls']} | {r['calls'] / VMS:.1f} "
                         f"| {r['calls'] / base['calls']:.0f} | {top(r['methods'])} |")
    return "\n".join(lines)


NAMES = {"ours": "ours", "original": "original 1.0.3", "ansible": "Ansible vmware_guest"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--latency-ms", default="10", help="comma-separated lab latencies (default: %(default)s)")
    p.add_argument("--peers", default="ours,original,ansible")
    p.add_argument("--forks", type=int, default=32, help="Ansible's -f (default: %(default)s)")
    p.add_argument("--keep", metavar="DIR", help="keep the peers' logs, files and lab logs in DIR")
    p.add_argument("--clone-time", type=float, default=0, metavar="SECONDS",
                   help="the lab's full clones take this long once admitted (default: done within the call)")
    p.add_argument("--write", action="store_true", help="also write docs/peers.md (its clone-time part with\n"
                   "--clone-time)")
    args = p.parse_args()
    py = peer_python()
    vers = versions(py)
    peers = ["ours", *[x for x in args.peers.split(",") if x != "ours"]]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp).resolve()
        work.mkdir(parents=True, exist_ok=True)
        results = {}
        for latency in [int(x) for x in args.latency_ms.split(",")]:
            for peer in peers:
                results[(latency, peer)] = measure(peer, latency, work, py, args.forks, args.clone_time)
                print(f"{peer} at {latency} ms: {results[(latency, peer)][0]['wall']:.1f} s", file=sys.stderr)
    text = table(results)
    print(f"{machine()}; {json.dumps(vers)}\n\n{text}")
    for (latency, peer), (create, destroy) in results.items():
        for what, r in (("create", create), ("destroy", destroy)):
            if r["wrong"] or r["lab_panics"] or r["errors"]:
                print(f"{peer} {what} at {latency} ms: read back {r['wrong'][:5]}, errors {r['errors'][:5]}, "
                      f"lab panics {r['lab_panics']}")
    if args.write:
        write_doc(text, vers, args)


def write_doc(text: str, vers: dict, args) -> None:
    """Replace a generated part of docs/peers.md (between its markers: the clone-time part with
    --clone-time); the prose around it is kept."""
    doc = ROOT / "docs" / "peers.md"
    begin, end = (CLONE_BEGIN, CLONE_END) if args.clone_time else (BEGIN, END)
    old = doc.read_text() if doc.exists() else "# Peers\n\n"
    if begin not in old:
        old += f"\n{begin}\n{end}\n"
    head, rest = old.split(begin, 1)
    command = f"nice .venv/bin/python -m benchmarks.peers --latency-ms {args.latency_ms} --forks {args.forks}" + \
        (f" --clone-time {args.clone_time:g}" if args.clone_time else "") + " --write"
    part = (f"{begin}\nMeasured {time.strftime('%Y-%m-%d')} on {machine()} with `{command}`.\n"
            f"Versions: {', '.join(f'{k} {v}' for k, v in vers.items())}.\n\n{text}\n")
    doc.write_text(head + part + end + rest.split(end, 1)[1])
    print(f"\nwritten: {doc}")


BEGIN, END = "<!-- peers.py: begin -->", "<!-- peers.py: end -->"
CLONE_BEGIN, CLONE_END = "<!-- peers.py clone time: begin -->", "<!-- peers.py clone time: end -->"


if __name__ == "__main__":
    main()
