"""`make bench`: SOAP calls per VM, wall time and the client's CPU on the lab at 10 ms per call.

Not a test: figures are printed, and written to docs/performance.md with --write (every case).
Ratios and calls are what count; the machine is shared and noisy. Cases:

- operations: the everyday commands on 64 VMs (create, re-run, power, cpumem, destroy, static IPs);
- scale: cluster --create and --destroy of 64, 256, 512 and 1024 VMs, each on a fresh lab;
- large: view of a lab with 10,000 extra VMs, cluster --plan of 10,000 VMs;
- placement: 256 GPU VMs without host: on 64 GPU hosts, planned, created, destroyed;
- scripts: 64 VMs with script steps and a check: create, re-runs, one VM's steps pending, status.
- slurm: a real slurmctld resumes 2 and 16 new GPU nodes for a job, then suspends them (benchmarks/slurm.py).
- admission: 256 VMs on 16 hosts and 1,024 on 64, full clones of one template on a lab whose
  clones take a clone time and that admits them as vCenter does (16 units per host, 2 per side).
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from benchmarks.measure import PERF64_BASE, ROOT, Row, machine, new_lab, run_cli, table
from benchmarks.scale import LAB_ARGS, cluster_file, quick_clones
from benchmarks.scripts import scripts
from tests.plugins.lab import stop_lab

LATENCY_MS = 10
SCALE_SIZES = (64, 256, 512, 1024)
LARGE = 10_000
CASES = ("operations", "scale", "large", "placement", "scripts", "slurm", "admission")
# The admission case: a full clone takes CLONE_TIME seconds on the lab (c); the goal is a wall time
# within 1.5 x c x (ceil(log9(hosts)) + ceil(VMs / (4 x hosts))): 6 c for both sizes.
CLONE_TIME = 5.0
ADMISSION_SIZES = ((256, 16), (1024, 64))

# The 64 VMs of the operations case, then the same with a static IP each: guest customization,
# whose outcome the create waits for.
CUSTOMIZED = """
[BASE]
template: vhpc_clone
cpu: 4
memory: 8
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
is_dhcp: false
port_group: vHPC-PG-VMNetwork
netmask: 255.255.0.0

[_VMS_]
bench-cust{{001:{n:03d}}}: BASE host: vhpc-esx-0{{2:8}}.hpc.vmware.com ip: 172.20.0.{{1:{n}}}
"""

# 256 VMs that ask for GPUs and name no host, on 64 GPU hosts (7 named + 57 extra); each host has
# two passthrough V100s and a shared V100 (four grid_v100-8q).
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


def operations(work: Path) -> list[Row]:
    n, rows = 64, []
    lab = new_lab(work, "operations", LATENCY_MS, "--extra-vms", "1024", *LAB_ARGS)
    quick_clones(lab)
    try:
        rows.append(run_cli(lab, "view (1024 extra VMs)", 1024, ["view"]))
        conf = cluster_file(work / "ops.conf", n, prefix="ops-vm")
        rows.append(run_cli(lab, "cluster --create", n, ["cluster", "--create", "--file", str(conf)]))
        rows.append(run_cli(lab, "cluster --create re-run (64 up to date)", n, ["cluster", "--create", "--file", str(conf)]))
        names = work / "ops-vms.txt"
        names.write_text("".join(f"ops-vm{i:05d}\n" for i in range(1, n + 1)))
        rows.append(run_cli(lab, "power --off --file", n, ["power", "--off", "--file", str(names)]))
        rows.append(run_cli(lab, "cpumem --file", n, ["cpumem", "--file", str(names), "--cpu", "8", "--memory", "32"]))
        rows.append(run_cli(lab, "power --on --file", n, ["power", "--on", "--file", str(names)]))
        rows.append(run_cli(lab, "cluster --destroy", n, ["cluster", "--destroy", "--file", str(conf)]))
        custom = work / "customized.conf"
        custom.write_text(CUSTOMIZED.format(n=n))
        rows.append(run_cli(lab, "cluster --create, static IPs (customization waited for)", n,
                            ["cluster", "--create", "--file", str(custom)]))
        run_cli(lab, "", n, ["cluster", "--destroy", "--file", str(custom)])
    finally:
        stop_lab(lab)
    return rows


def scale(work: Path, sizes=SCALE_SIZES) -> list[Row]:
    rows = []
    for n in sizes:
        lab = new_lab(work, f"scale-{n}", LATENCY_MS, *LAB_ARGS)
        quick_clones(lab)
        try:
            conf = cluster_file(work / f"scale-{n}.conf", n)
            rows.append(run_cli(lab, f"cluster --create ({n})", n, ["cluster", "--create", "--file", str(conf)]))
            rows.append(run_cli(lab, f"cluster --destroy ({n})", n, ["cluster", "--destroy", "--file", str(conf)]))
        finally:
            stop_lab(lab)
    return rows


def large(work: Path) -> list[Row]:
    lab = new_lab(work, "large", LATENCY_MS, "--extra-vms", str(LARGE))
    try:
        rows = [run_cli(lab, f"view ({LARGE} extra VMs)", LARGE, ["view"])]
    finally:
        stop_lab(lab)
    conf = cluster_file(work / "plan.conf", LARGE)
    rows.append(run_cli(None, f"cluster --plan ({LARGE} VMs, no vCenter)", LARGE, ["cluster", "--plan", "--file", str(conf)]))
    return rows


def placement(work: Path, n: int = 256) -> list[Row]:
    """Planning alone (read, place, check: what `cluster --create` does before it asks), in this
    process, then the create and the destroy."""
    from vhpc_toolkit.cluster.planning.prepare import prepare_create
    from vhpc_toolkit.clusterfile import parse_cluster_file

    lab = new_lab(work, "placement", LATENCY_MS, "--extra-hosts", str(PLACEMENT_HOSTS - 7))
    quick_clones(lab)
    try:
        conf = work / "placement.conf"
        conf.write_text(PLACEMENT.format(half=n // 2))
        session = lab.connect()
        try:
            lab.reset_calls()
            start = time.perf_counter()
            prepared = prepare_create(session, parse_cluster_file(conf))
            seconds = time.perf_counter() - start
            calls = lab.calls()
        finally:
            session.close()
        hosts = {p.placement.host.name for p in prepared.plan.vms}
        rows = [Row(f"placement: plan {n} GPU VMs on {PLACEMENT_HOSTS} hosts ({len(hosts)} chosen; in-process)", n,
                    seconds, calls["total"], calls["methods"])]
        rows.append(run_cli(lab, f"cluster --create, placed ({PLACEMENT_HOSTS} hosts)", n,
                            ["cluster", "--create", "--file", str(conf)]))
        rows.append(run_cli(lab, "cluster --destroy, placed", n, ["cluster", "--destroy", "--file", str(conf)]))
    finally:
        stop_lab(lab)
    return rows


def slurm(work: Path) -> list[Row]:
    """sbatch -> job running on new nodes, and the whole cycle to powered off (benchmarks/slurm.py)."""
    from benchmarks.slurm import slurm_cycles

    rows = []
    for c in slurm_cycles(work):
        rows.append(Row(f"slurm: sbatch → job running on {c.nodes} new nodes (Slurm calls the ResumeProgram after "
                        f"{c.called:.1f} s; provisioning {c.provisioning:.1f} s = {c.provisioning / c.running:.0%})",
                        c.nodes, c.running, 0))
        rows.append(Row(f"slurm: whole cycle, sbatch → job done → suspended → {c.nodes} VMs powered off "
                        f"(SuspendTime 5 s, SuspendTimeout 5 s)", c.nodes, c.off, c.calls))
    return rows


def admission_file(path: Path, n: int, hosts: int) -> Path:
    path.write_text("\n" + PERF64_BASE + f"\n[_VMS_]\nadm-vm{{00001:{n:05d}}}: BASE host: "
                    f"vhpc-esx-{{02:{hosts + 1:02d}}}.hpc.vmware.com\n")
    return path


def rounds_goal(n: int, hosts: int) -> int:
    """Rounds of a full clone the issue allows: copies to every host (each source makes 8 a round: 9x
    sources), then each host 4 at a time from its own copy."""
    return math.ceil(math.log(hosts, 9) - 1e-9) + math.ceil(n / (4 * hosts))


def admission(work: Path, sizes=ADMISSION_SIZES, clone_time: float = CLONE_TIME) -> list[Row]:
    """cluster --create on a lab whose full clones take ``clone_time`` once vCenter admits them."""
    rows = []
    for n, hosts in sizes:
        lab = new_lab(work, f"admission-{n}", LATENCY_MS, "--extra-hosts", str(hosts - 7),
                      "--clone-time", f"{clone_time:g}s")
        try:
            # The clone time is known, as a user's vCenter.conf says it (or the last run measured it).
            lab.conf.write_text(lab.conf.read_text() + f"clone_time: {clone_time:g}\n")
            conf = admission_file(work / f"admission-{n}.conf", n, hosts)
            row = run_cli(lab, f"cluster --create, clone time {clone_time:g} s ({n} VMs, {hosts} hosts)", n,
                          ["cluster", "--create", "--file", str(conf)])
            row.extra = {"clone_time": clone_time, "hosts": hosts, "admission": lab_admission(lab)}
            rows.append(row)
        finally:
            stop_lab(lab)
    return rows


def lab_admission(lab) -> dict:
    rep = lab.admission()
    return {"waited": rep["waited"], "peak_running": rep["peak_running"],
            "template_host_peak": rep["hosts"].get("vhpc-esx-01.hpc.vmware.com", {}).get("peak", 0)}


def admission_goals(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        c, hosts = r.extra["clone_time"], r.extra["hosts"]
        goal, direct = rounds_goal(r.vms, hosts), math.ceil(r.vms / 8)
        out.append(f"| {r.vms} VMs on {hosts} hosts, clone time c = {c:g} s: wall / ({goal} c) (goal at most 1.5; "
                   f"{direct} c from the template alone) | {r.wall:.1f} s / {goal * c:g} s = {r.wall / (goal * c):.2f} |")
        out.append(f"| {r.vms} VMs on {hosts} hosts: calls per VM (goal at most 1.2) | {r.calls_per_vm():.2f} |")
    return out


def goals(results: dict[str, list[Row]]) -> list[str]:
    """The scaling goals, each with what this run measured."""
    out = []
    by = {r.what: r for rows in results.values() for r in rows}
    for verb in ("create", "destroy"):
        small, big = by.get(f"cluster --{verb} (64)"), by.get(f"cluster --{verb} (1024)")
        if small and big:
            out.append(f"| cluster --{verb}: calls per VM at 1024 | {big.calls_per_vm():.2f} |")
            out.append(f"| cluster --{verb}: ms per VM at 1024 / at 64 | {big.per_vm_ms():.1f} / "
                       f"{small.per_vm_ms():.1f} = {big.per_vm_ms() / small.per_vm_ms():.2f}x |")
            sizes = [by[f"cluster --{verb} ({n})"] for n in SCALE_SIZES if f"cluster --{verb} ({n})" in by]
            marginal = [(b.cli_cpu - a.cli_cpu) / (b.vms - a.vms) * 1000 for a, b in zip(sizes, sizes[1:])]
            out.append(f"| cluster --{verb}: CLI CPU ms per VM at 64, 1024 (the interpreter's start and login "
                       f"spread over fewer VMs at 64) | {small.cpu_per_vm_ms():.2f}, {big.cpu_per_vm_ms():.2f} |")
            out.append(f"| cluster --{verb}: CLI CPU ms per added VM, 64→256→512→1024 | "
                       + ", ".join(f"{m:.1f}" for m in marginal) + " |")
    view, plan = by.get(f"view ({LARGE} extra VMs)"), by.get(f"cluster --plan ({LARGE} VMs, no vCenter)")
    if view:
        out.append(f"| view of {LARGE} extra VMs: calls, wall, client memory | {view.calls}, {view.wall:.2f} s, "
                   f"{view.rss_mb:.0f} MB |")
    if plan:
        out.append(f"| cluster --plan of {LARGE} VMs | {plan.wall:.2f} s |")
    out += admission_goals(results.get("admission", []))
    return ["| goal | measured |", "| --- | --- |", *out] if out else []


# Each case by its name (the scripts case lives in its own module).
RUNNERS = {"operations": operations, "scale": scale, "large": large, "placement": placement,
           "scripts": scripts, "slurm": slurm, "admission": admission}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=CASES, action="append", help="run this case (repeatable; default: all)")
    parser.add_argument("--write", action="store_true", help="also write docs/performance.md (needs every case)")
    args = parser.parse_args()
    cases = args.only or list(CASES)
    if args.write and set(cases) != set(CASES):
        parser.error("--write rewrites the whole of docs/performance.md: run every case")
    where = machine()
    print(f"lab latency: {LATENCY_MS} ms per SOAP call; {where}", flush=True)
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            results[case] = RUNNERS[case](Path(tmp))
            print(f"\n{case}:\n{table(results[case])}", flush=True)
    summary = "\n".join(goals(results))
    if summary:
        print(f"\n{summary}")
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        doc.write_text(PERF_DOC.format(latency=LATENCY_MS, machine=where, date=time.strftime("%Y-%m-%d"),
                                       goals=summary, clone_time=CLONE_TIME, **{c: table(results[c]) for c in CASES}))
        print(f"\nwritten: {doc}")


PERF_DOC = """# Performance

Written by `make bench BENCH_ARGS=--write` (`python -m benchmarks.run --write`) on {date}, on
{machine}. The lab delays every SOAP call by {latency} ms (a vCenter a few hops away). SOAP calls
are counted by the lab (`GET /debug/calls`); each command runs as a child process, so wall time
includes the interpreter's start and the login, and CPU seconds and peak memory (RSS) are the
client's own (`wait4`); the lab's CPU seconds come from `/proc`. The machine is shared: wall times
move between runs, calls and CPU per VM much less. The lab's clones are done within the call (its
vCenter.conf says `clone_time: 0.01`, so no copies of the template are made: they pay off only for
long clones, see "vCenter's admission limits"), except in that section. Cluster VMs are clones with 4 vCPU, 8 GB,
latency high, full reservations, powered on, spread over 16 GPU hosts (vhpc-esx-02..17: the 1,024
VMs' reservations need them).

## Scaling goals

Goals: calls per VM at most 1.1 at 1,024 VMs, wall time per VM at 1,024 within 1.5x of that at 64,
the client's CPU per VM constant; `view` of 10,000 extra VMs with a constant number of calls,
under 3 s and 300 MB; `cluster --plan` of 10,000 VMs under 2 s; under vCenter's admission limits
with a clone time c, 256 VMs on 16 hosts and 1,024 on 64 within 1.5x of 6c, at most 1.2 calls per VM
(below).

{goals}

`cluster --destroy` cannot reach 1.1 calls per VM: vSphere destroys only powered-off VMs and has no
call that powers off or destroys many VMs at once (`Datacenter.PowerOnMultiVM_Task` has no
power-off twin), so a running VM costs `PowerOffVM_Task` and `Destroy_Task`: 2 calls, plus the
shared reads and waits. `view`'s calls grow by one `ContinueRetrievePropertiesEx` per 1,000
objects, as vCenter pages property reads.

## Scale: a fresh lab per size

{scale}

## Everyday operations (64 VMs, 1,024 other VMs in the inventory)

{operations}

## A large inventory

{large}

`cluster --plan` reads no vCenter: it expands and checks the file.

## Placement

256 VMs that name no host, half asking `gpu: 1` with `gpu_model: V100` (a passthrough GPU), half
`vgpu: grid_v100-8q`, on a lab with 64 GPU hosts (`--extra-hosts 57`). "plan" is what
`cluster --create` does before it asks: the one inventory read, the planner choosing a host and the
devices for every VM, the device checks (one QueryConfigTarget per host that gets a passthrough GPU).

{placement}

## Guest setup: recorded script steps and checks (64 VMs)

Each VM has two scripts in two barriers and one check (benchmarks/scripts.py). A VM records the
steps it finished with one ReconfigVM_Task per barrier; a re-run with every step done runs no
script and writes nothing (the checks still run in every guest unless `--no-checks`).

{scripts}

## Elastic Slurm

Debian's slurmctld 22.05 on this machine runs `vhpc_toolkit slurm resume/suspend` for a job of 2,
then 16, GPU nodes of examples/cluster-scripts/cluster-slurm.conf that do not exist yet: cloned
(one passthrough V100 each), booted (the lab's boot, customization and guest-operation delays,
0.5 s each), their post script starting munged and slurmd, which registers; after 5 idle seconds
Slurm suspends them and their VMs are powered off. SOAP calls are those of the whole cycle (both
programs). What the figures mean, and how this compares with slurm-gcp and ParallelCluster:
[slurm.md](slurm.md).

{slurm}
## vCenter's admission limits

vCenter does not run every clone at once. VMware documents a cost model ("Limits on Simultaneous
Migrations" in vCenter Server and Host Management; the VMware performance blog "vCenter Limits for
Tasks Running at the Same Time", February 2021):

| | |
| --- | --- |
| units of an ESXi 6.x/7.x host | 16 |
| a full clone | 2 units on its source host and 2 on its destination host (4 on one host when it clones to its own host) |
| a linked clone (from a snapshot) | 1 unit per side |
| operations per vCenter | about 640 at once |
| what does not fit | waits in vCenter's queue (`TaskInfo.state` `queued`), then runs |

So every full clone of one template runs 8 at a time, wherever it goes: N VMs from one template take
ceil(N / 8) clone times. The lab admits clones the same way (sim/README.md "Admission").

**The plan.** A copy of the template on another host is one more source. The template makes 8 copies
in one clone time; those 9 sources make 72 more in the next (each source 8 a round: 9x the sources
a round), so every one of H hosts holds a copy after ceil(log9(H)) clone times; then each host clones
from its own copy, 4 at a time (a same-host clone takes 4 of its 16 units), all hosts at once:
ceil(N / 4H) more. `cluster --create` simulates vCenter's admission for a few choices of hosts to
copy to and keeps the soonest finish ([cluster-create.md](cluster-create.md#cloning-under-vcenters-limits));
the toolkit then keeps in flight exactly what vCenter admits (it never fills vCenter's queue), each
clone starting when its source exists and its hosts have the units. The copies stay for later runs
(which skip the copying) and go with `cluster --destroy`.

**The figures.** The lab's full clones take c = {clone_time:g} s once admitted (the clone time), at
{latency} ms per call. The goal is a wall time within 1.5x of c x (ceil(log9(H)) + ceil(N / 4H)): 6c for
256 VMs on 16 hosts and for 1,024 on 64, where cloning everything from the template takes 32c and
128c. The wall time counts the whole command (the interpreter's start, the login, the inventory read,
the plan, the guests' boot after the last clone).

{admission}

Calls: one CloneVM_Task per VM and one per copy of the template (16 and 64 here: 0.06 per VM), about
17 whatever the size (the login, the run's lock and record, the inventory read and the read-back,
the two watches, the logout, which also frees the views and collectors), 3 to 4 per round (the
ModifyListView that adds the round's tasks to the watch, the wait that reports them entering, often
one that reports them running a moment later, the wait that reports their ends), 6 rounds here, and
2 or 3 waits for the guests' IPs. At 256 VMs that is just above the goal of 1.2 calls per VM (the
copies take 0.06, the fixed calls 0.07, the rounds and the IP wait about 0.11); at 1,024 VMs it is
well below. When the
clone time is known to be under half a second (a lab without a clone time, storage that offloads
clones) the toolkit makes no copies and clones as it did before the model: the other sections' labs.

**What to expect with a real clone time.** Measure one clone of your template (or let a run measure
it: the plan's estimate uses it next time), or set `clone_time` in vCenter.conf. A cluster of N VMs
on H hosts then takes about c x (ceil(log9(H)) + ceil(N / 4H)) plus a second or two per round,
against c x ceil(N / 8) from the template alone: with c = 4 min, 256 VMs on 16 hosts take about
24 min instead of 2 h 8 min, 1,024 on 64 hosts about 24 min instead of 8 h 32 min; a later run that
grows the cluster reuses the copies and skips the first ceil(log9(H)) rounds. What the model leaves
out slows real runs down: the datastore's and the network's own limits (not modelled, nor in the
lab), and storage bandwidth: 4 clones on each of 64 hosts are 256 disk copies at once on shared
storage, so c itself grows with the load; the plan's rounds are then a lower bound. The copies take
a template's disk space on the datastore once per host.

## What the numbers say

A new VM costs one CloneVM_Task whose spec carries everything (size, latency, reservations,
devices, customization, power-on); the task waits are shared by all VMs through one
PropertyCollector (WaitForUpdatesEx over a ListView of the tasks in flight), and one more collector
waits for the guest IPs of all VMs at once. A re-run reads the inventory once and changes nothing.
Property reads decode plain values without pyVmomi's decoder (`vsphere/fastread.py`). Where the
cost was quadratic before (the lab's collector, the toolkit's task filters, the job queue,
inventory lookups), see [scaling.md](scaling.md); how the toolkit compares with the original
toolkit and Ansible on the same lab, [peers.md](peers.md).
"""

if __name__ == "__main__":
    main()
