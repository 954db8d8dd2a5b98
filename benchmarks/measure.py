"""What the benchmarks measure and how: the CLI in a child process (its wall time, CPU seconds and
peak RSS from wait4), the lab's SOAP calls (GET /debug/calls) and CPU seconds (/proc), and the
machine it all ran on."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.plugins.lab import start_lab

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")

# perf64.conf's shape (clone, 4 vCPU, 8 GB, latency high, full reservations, power on), in the
# original's syntax, which ours reads unchanged: the [BASE] of the scale and peers clusters.
PERF64_BASE = """[BASE]
template: vhpc_clone
cpu: 4
memory: 8
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
latency: high
cpu_reservation: yes
memory_reservation: yes
power: on
"""


@dataclass
class Row:
    what: str
    vms: int
    wall: float
    calls: int
    methods: dict = field(default_factory=dict)
    cli_cpu: float | None = None       # seconds (None: measured in-process)
    rss_mb: float | None = None
    lab_cpu: float | None = None
    extra: dict = field(default_factory=dict)   # what a case adds (the admission case: clone time, hosts)

    def per_vm_ms(self) -> float | None:
        return self.wall / self.vms * 1000 if self.vms else None

    def calls_per_vm(self) -> float | None:
        return self.calls / self.vms if self.vms else None

    def cpu_per_vm_ms(self) -> float | None:
        return self.cli_cpu / self.vms * 1000 if self.vms and self.cli_cpu is not None else None


def lab_cpu(lab) -> float:
    """CPU seconds (user + system) the lab process has used so far."""
    fields = Path(f"/proc/{lab.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_cli(lab, what: str, vms: int, argv: list[str], cprofile: Path | None = None) -> Row:
    """One CLI command against ``lab`` in a child process, measured."""
    cmd = [sys.executable, "-m", "benchmarks.scale", "cli"]
    if cprofile:
        cmd += ["--cprofile", str(cprofile)]
    if lab is not None:
        cmd += ["--", "--vcenter-conf", str(lab.conf), "--yes", "--output", "json", *argv]
        lab.reset_calls()
        cpu0 = lab_cpu(lab)
    else:
        cmd += ["--", "--output", "json", *argv]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            out.seek(0)
            raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{out.read()[-3000:].decode()}")
    row = Row(what, vms, wall, 0, cli_cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024)
    if lab is not None:
        calls = lab.calls()
        row.calls, row.methods, row.lab_cpu = calls["total"], calls["methods"], lab_cpu(lab) - cpu0
    return row


def new_lab(work: Path, name: str, latency_ms: int, *extra: str, profile: Path | None = None):
    d = work / name
    d.mkdir()
    args = ["--latency-ms", str(latency_ms), *extra]
    if profile:
        args += ["--cpuprofile", str(profile / f"lab-{name}.pprof")]
    return start_lab(d, *args)


def machine() -> str:
    """The machine, in one line: CPUs, model, memory, load, Python."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()[2]
    except (OSError, IndexError):
        go = "go ?"
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.0f} GB RAM, load average {load} at the "
            f"start, Python {platform.python_version()}, {go}, {platform.system()} {platform.release()}")


def table(rows: list[Row]) -> str:
    def f(x, fmt):
        return "-" if x is None else format(x, fmt)

    lines = ["| operation | VMs | wall s | ms/VM | SOAP calls | calls/VM | CLI CPU s | CLI CPU ms/VM | CLI RSS MB "
             "| lab CPU s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.what} | {r.vms} | {r.wall:.2f} | {f(r.per_vm_ms(), '.1f')} | {r.calls} "
                     f"| {f(r.calls_per_vm(), '.2f')} | {f(r.cli_cpu, '.2f')} | {f(r.cpu_per_vm_ms(), '.2f')} "
                     f"| {f(r.rss_mb, '.0f')} | {f(r.lab_cpu, '.1f')} |")
    return "\n".join(lines)
