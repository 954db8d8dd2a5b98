"""`make bench`: SOAP calls per VM and wall time on the lab at a fixed simulated latency.

Not a test: figures are printed (and written to docs/performance.md with --write).
Ratios are what count; the machine is shared and noisy.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from tests.plugins.lab import start_lab, stop_lab
from vhpc_toolkit.cli.main import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 10

CLUSTER = """
[BASE]
template: vhpc_clone
cpu: 4
memory: 16
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
latency: high
cpu_reservation: yes
memory_reservation: yes

[_VMS_]
bench-vm{{001:{n:03d}}}: BASE host: vhpc-esx-0{{2:8}}.hpc.vmware.com
"""

# The same VMs with a static IP each: guest customization, whose outcome the create waits for.
CUSTOMIZED = CLUSTER.replace("[_VMS_]", "[NET]\nis_dhcp: false\nport_group: vHPC-PG-VMNetwork\n"
                             "netmask: 255.255.0.0\n\n[_VMS_]").replace(
    "BASE host: vhpc-esx-0{{1:8}}.hpc.vmware.com",
    "BASE NET host: vhpc-esx-0{{1:8}}.hpc.vmware.com ip: 172.20.0.{{1:{n}}}").replace("bench-vm", "bench-cust")


# Placement: 256 VMs that ask for GPUs and name no host, on 64 GPU hosts (8 named + 56 extra); each
# host has two passthrough V100s and a shared V100 (four grid_v100-8q).
PLACEMENT_HOSTS = 64
PLACEMENT = """
[BASE]
template: vhpc_clone
cpu: 4
memory: 16
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore

[_VMS_]
place-gpu{{001:{half:03d}}}: BASE gpu: 1 gpu_model: V100
place-vgpu{{001:{half:03d}}}: BASE vgpu: grid_v100-8q
"""


def run(lab, *argv) -> tuple[int, float, dict]:
    lab.reset_calls()
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["--vcenter-conf", str(lab.conf), "--yes", "--output", "json", *argv])
    seconds = time.perf_counter() - start
    calls = lab.calls()
    if code != 0:
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(argv)}\n{out.getvalue()[-2000:]}")
    return code, seconds, calls


def row(what: str, vms: int, seconds: float, calls: dict) -> dict:
    total = calls["total"]
    return {"what": what, "vms": vms, "seconds": seconds, "calls": total,
            "per_vm": total / vms if vms else float("nan"), "methods": calls["methods"]}


def bench(sizes: list[int], work: Path) -> list[dict]:
    rows = []
    lab = start_lab(work / "lab", "--latency-ms", str(LATENCY_MS), "--extra-vms", "1024")
    try:
        _, s, c = run(lab, "view")
        rows.append(row("view (1024 extra VMs)", 1024, s, c))
        for n in sizes:
            conf = work / f"bench-{n}.conf"
            conf.write_text(CLUSTER.format(n=n))
            _, s, c = run(lab, "cluster", "--create", "--file", str(conf))
            rows.append(row(f"cluster --create ({n} VMs)", n, s, c))
            if n == 64:
                _, s, c = run(lab, "cluster", "--create", "--file", str(conf))
                rows.append(row("cluster --create re-run (64 existing)", n, s, c))
                names = work / "vms-64.txt"
                names.write_text("\n".join(f"bench-vm{i:03d}" for i in range(1, 65)) + "\n")
                _, s, c = run(lab, "power", "--off", "--file", str(names))
                rows.append(row("power --off --file (64)", n, s, c))
                _, s, c = run(lab, "cpumem", "--file", str(names), "--cpu", "8", "--memory", "32")
                rows.append(row("cpumem --file (64)", n, s, c))
                _, s, c = run(lab, "power", "--on", "--file", str(names))
                rows.append(row("power --on --file (64)", n, s, c))
            _, s, c = run(lab, "cluster", "--destroy", "--file", str(conf))
            rows.append(row(f"cluster --destroy ({n} VMs)", n, s, c))
            if n == 64:
                custom = work / "bench-customized.conf"
                custom.write_text(CUSTOMIZED.format(n=n))
                _, s, c = run(lab, "cluster", "--create", "--file", str(custom))
                rows.append(row(f"cluster --create, static IPs (customization waited for) ({n} VMs)", n, s, c))
                run(lab, "cluster", "--destroy", "--file", str(custom))
    finally:
        stop_lab(lab)
    return rows


def bench_placement(work: Path, n: int = 256) -> list[dict]:
    """Planning alone (read, place, check: what `cluster --create` does before it asks), then the create
    and the destroy, on a lab with 64 GPU hosts."""
    from vhpc_toolkit.cluster.prepare import prepare_create
    from vhpc_toolkit.clusterfile import parse_cluster_file

    rows = []
    (work / "placement-lab").mkdir()
    lab = start_lab(work / "placement-lab", "--latency-ms", str(LATENCY_MS),
                    "--extra-hosts", str(PLACEMENT_HOSTS - 8))
    try:
        conf = work / "placement.conf"
        conf.write_text(PLACEMENT.format(half=n // 2))
        spec = parse_cluster_file(conf)
        session = lab.connect()
        try:
            lab.reset_calls()
            start = time.perf_counter()
            prepared = prepare_create(session, spec)
            seconds = time.perf_counter() - start
            calls = lab.calls()
        finally:
            session.close()
        hosts = {p.placement.host.name for p in prepared.plan.vms}
        rows.append(row(f"placement: plan {n} GPU VMs on {PLACEMENT_HOSTS} hosts (read, place, check; "
                        f"{len(hosts)} hosts chosen)", n, seconds, calls))
        _, s, c = run(lab, "cluster", "--create", "--file", str(conf))
        rows.append(row(f"cluster --create, placed ({n} VMs, {PLACEMENT_HOSTS} hosts)", n, s, c))
        _, s, c = run(lab, "cluster", "--destroy", "--file", str(conf))
        rows.append(row(f"cluster --destroy, placed ({n} VMs)", n, s, c))
    finally:
        stop_lab(lab)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| operation | VMs | seconds | SOAP calls | calls per VM |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['what']} | {r['vms']} | {r['seconds']:.2f} | {r['calls']} | {r['per_vm']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="16,64,256", help="cluster sizes (default: %(default)s)")
    parser.add_argument("--write", action="store_true", help="also write docs/performance.md")
    parser.add_argument("--only", choices=("placement",), help="run one case only")
    args = parser.parse_args()
    if args.only and args.write:
        parser.error("--write rewrites the whole of docs/performance.md: run every case")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "lab").mkdir()
        rows = [] if args.only else bench([int(x) for x in args.sizes.split(",")], work)
        rows += bench_placement(work)
    text = table(rows)
    print(f"lab latency: {LATENCY_MS} ms per SOAP call\n\n{text}\n")
    for r in rows:
        top = sorted(r["methods"].items(), key=lambda kv: -kv[1])[:6]
        print(f"{r['what']}: " + ", ".join(f"{k} {v}" for k, v in top))
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        doc.write_text(PERF_DOC.format(latency=LATENCY_MS, table=text, date=time.strftime("%Y-%m-%d")))
        print(f"\nwritten: {doc}")


PERF_DOC = """# Performance

Measured with `make bench` (`python -m benchmarks.run --write`) on the lab simulator with
`--latency-ms {latency}` (every SOAP call delayed by {latency} ms) and 1024 extra VMs in the
inventory, on a 2-core machine ({date}). SOAP calls are counted by the lab itself
(`GET /debug/calls`); seconds are wall time of the whole command, login included. Cluster VMs are
created with clone + size + latency + reservations + power-on, and the create waits for every
guest IP.

{table}

The placement rows run on a second lab with 64 GPU hosts (`--extra-hosts 56`): 256 VMs that name
no host, half asking `gpu: 1` (a passthrough V100), half `vgpu: grid_v100-8q`. "plan" is what
`cluster --create` does before it asks: the one inventory read, the planner choosing a host and the
devices for every VM, the device checks (one QueryConfigTarget per host that gets a passthrough GPU).

What the numbers say: a new VM costs one CloneVM_Task whose spec carries everything; the task
waits are shared by all VMs through one PropertyCollector (WaitForUpdatesEx), and one more
collector waits for the guest IPs of all VMs at once. A re-run reads the inventory once and
changes nothing. `view` reads the whole inventory in one paged RetrievePropertiesEx.
"""

if __name__ == "__main__":
    main()
