"""Elastic Slurm on the lab: from `sbatch` to the job running on 2 and on 16 new nodes, and the whole
cycle until Slurm has suspended them and their VMs are powered off.

Debian's real slurmctld (tests/plugins/slurm.py) runs the toolkit's programs; the lab answers every
SOAP call after 10 ms and boots guests as it always does (Tools and the IP 0.5 s after power-on, the
customization 0.5 s and a reboot, guest operations 0.5 s after Tools). The nodes are
examples/cluster-scripts/cluster-slurm.conf's GPU nodes (one passthrough V100 each, a static IP,
the slurm-node.sh post script that starts munged and slurmd), with short Slurm timings
(SuspendTime 5 s, SuspendTimeout 5 s). "provisioning" is the ResumeProgram's own time: plan,
clones, boots, guest customization, the post script; the rest is Slurm (scheduling, slurmd
registering, the job's launch) and the log's one-second gaps.

    python -m benchmarks.slurm            (or make bench, with the other cases)
"""
from __future__ import annotations

import datetime as dt
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import ROOT, machine, new_lab
from tests.plugins.lab import stop_lab
from tests.plugins.slurm import (cluster_file_for, free_port, give_template_munge_key, install, slurm_log,
                                 start_slurm, stop_slurm, wait_for)

LATENCY_MS = 10
EXAMPLE = ROOT / "examples" / "cluster-scripts" / "cluster-slurm.conf"
SIZES = (2, 16)
TIMINGS = {"suspend_time": 5, "suspend_timeout": 5, "resume_timeout": 300}
WARM_UP = 8   # seconds between slurmctld's start and the first job


@dataclass
class Cycle:
    nodes: int
    called: float           # sbatch -> the ResumeProgram starts (s)
    running: float          # sbatch -> job RUNNING
    completed: float        # sbatch -> job COMPLETED
    provisioning: float     # the ResumeProgram's own time (its runs together)
    resumes: int            # ResumeProgram runs
    off: float              # sbatch -> every VM powered off (the SuspendProgram done)
    suspend: float          # the SuspendProgram's own time
    calls: int              # SOAP calls of the whole cycle


def _stamps(cluster: Path, action: str, since: float) -> list[tuple[float, int, str]]:
    """(time, pid, text) of the lines of ``action`` written to ``cluster``'s Slurm log after ``since``."""
    out = []
    for line in slurm_log(cluster).splitlines():
        m = re.match(r"(\S+Z) (\S+)\[(\d+)\] (.*)$", line)
        if not m or m.group(2) != action:
            continue
        t = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()
        if t >= since:
            out.append((t, int(m.group(3)), m.group(4)))
    return out


def _runs(lines) -> list[tuple[float, float]]:
    """(start, end) of each run of a program, from its last line: "N nodes, M failed, S s"."""
    out = []
    for t, _, text in lines:
        m = re.search(r"nodes?, \d+ failed, ([0-9.]+) s$", text)
        if m:
            out.append((t - float(m.group(1)), t))
    return out


def cycle(lab, slurm, cluster: Path, n: int) -> Cycle:
    nodes = f"gpu[001-{n:03d}]"
    wait_for(lambda: set(slurm.node_states(nodes).values()) == {"idle~"}, 120,
             "slurm benchmark: every node powered down", 0.1, error=SystemExit)
    lab.reset_calls()
    t0 = time.time()
    job = slurm.sbatch("-N", str(n), "--chdir=/tmp", "-o", "/tmp/bench-%j.out", "--wrap", "hostname")
    wait_for(lambda: slurm.job(job).get("JobState") in ("RUNNING", "COMPLETING", "COMPLETED"), 600,
             "slurm benchmark: job running", 0.05, error=SystemExit)
    running = time.time() - t0
    wait_for(lambda: slurm.job(job).get("JobState") == "COMPLETED", 600, "slurm benchmark: job completed", 0.1,
             error=SystemExit)
    completed = time.time() - t0
    done = wait_for(lambda: [line for line in _stamps(cluster, "suspend", t0)
                             if re.search(r"nodes?, \d+ failed", line[2])], 600,
                    "slurm benchmark: SuspendProgram done", 0.1, error=SystemExit)
    off = done[-1][0] - t0
    calls = lab.calls()["total"]
    resumes, suspends = _runs(_stamps(cluster, "resume", t0)), _runs(_stamps(cluster, "suspend", t0))
    first = min(start for start, _ in resumes)
    return Cycle(n, first - t0, running, completed, max(end for _, end in resumes) - first, len(resumes), off,
                 max(end for _, end in suspends) - min(start for start, _ in suspends), calls)


def table(cycles: list[Cycle]) -> str:
    lines = ["| new nodes | sbatch → job running, s | Slurm calls the ResumeProgram after, s | provisioning "
             "(the ResumeProgram), s (share) | runs | sbatch → job completed, s | whole cycle: sbatch → VMs powered "
             "off, s | SuspendProgram, s | SOAP calls (cycle) | calls per node |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cycles:
        lines.append(f"| {c.nodes} | {c.running:.1f} | {c.called:.1f} | {c.provisioning:.1f} "
                     f"({c.provisioning / c.running:.0%}) | {c.resumes} | {c.completed:.1f} | {c.off:.1f} "
                     f"| {c.suspend:.1f} | {c.calls} | {c.calls / c.nodes:.1f} |")
    return "\n".join(lines)


def slurm_cycles(work: Path, sizes=SIZES) -> list[Cycle]:
    why = install()
    if why:
        raise SystemExit(f"slurm benchmark: {why}")
    lab = new_lab(work, "slurm", LATENCY_MS, "--extra-hosts", "2")   # 9 GPU hosts: 18 passthrough V100s
    slurm = None
    try:
        port = free_port()
        text = EXAMPLE.read_text().replace("gpu{001:004}", f"gpu{{001:{max(sizes):03d}}}") \
            .replace("127.200.0.{11:14}", f"127.200.0.{{11:{10 + max(sizes)}}}")
        source = work / "example.conf"
        source.write_text(text)
        cluster = cluster_file_for(source, work / "bench.conf", port, **TIMINGS)
        cluster.write_text(re.sub(r"(?m)^script: .*slurm-node\.sh$",
                                  f"script: {ROOT / 'examples' / 'post-scripts' / 'slurm-node.sh'}", cluster.read_text()))
        slurm = start_slurm(work / "ctl", cluster, lab.conf, port)
        give_template_munge_key(lab.guest_root, "vhpc_clone", slurm.munge_key)
        time.sleep(WARM_UP)   # slurmctld's first scheduling passes after its start are slow (3-4 s)
        return [cycle(lab, slurm, cluster, n) for n in sizes]
    finally:
        if slurm is not None:
            stop_slurm(slurm)
        stop_lab(lab)


def main() -> None:
    print(f"lab latency: {LATENCY_MS} ms per SOAP call; {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(table(slurm_cycles(Path(tmp))))


if __name__ == "__main__":
    sys.exit(main())
