"""Scaling of cluster --create/--destroy, view and --plan with the number of VMs (issue 18).

Not a test: it prints a table. Each size runs on a fresh lab (or, with --one-lab, one lab for
all sizes, one batch after the other, as the issue measured). The CLI runs in a child process so
its CPU time and peak RSS are its own; the lab's CPU time is read from /proc.

    .venv/bin/python -m benchmarks.scale --sizes 64,256 --latency-ms 10
    .venv/bin/python -m benchmarks.scale --sizes 512 --profile /tmp/prof   # lab pprof + toolkit cProfile
    .venv/bin/python -m benchmarks.scale --sizes 0 --view-extra 10000 --plan 10000

With --profile DIR: DIR/lab-N.pprof (go tool pprof -top sim/bin/vhpc-sim DIR/lab-N.pprof) and
DIR/toolkit-create-N.prof (python -m pstats).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.plugins.lab import start_lab, stop_lab

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")

# perf64.conf's shape: clone, 4 vCPU, 8 GB, latency high, full reservations, power on.
CLUSTER = """
[BASE]
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

[_VMS_]
{prefix}{{{first:05d}:{last:05d}}}: BASE host: vhpc-esx-0{{2:8}}.hpc.vmware.com
"""


def cluster_file(path: Path, n: int, prefix: str = "scale-vm", first: int = 1) -> Path:
    path.write_text(CLUSTER.format(prefix=prefix, first=first, last=first + n - 1))
    return path


def lab_cpu(lab) -> float:
    """CPU seconds (user + system) the lab process has used so far."""
    fields = Path(f"/proc/{lab.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_cli(lab, argv: list[str], cprofile: Path | None = None) -> dict:
    """The CLI in a child process: wall, its CPU seconds and peak RSS, the lab's calls and CPU."""
    cmd = [sys.executable, "-m", "benchmarks.scale", "cli"]
    if cprofile:
        cmd += ["--cprofile", str(cprofile)]
    cmd += ["--", "--vcenter-conf", str(lab.conf), "--yes", "--output", "json", *argv]
    lab.reset_calls()
    cpu0 = lab_cpu(lab)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{out.read()[-3000:].decode()}")
    calls = lab.calls()
    return {"wall": wall, "calls": calls["total"], "methods": calls["methods"],
            "cli_cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "lab_cpu": lab_cpu(lab) - cpu0}


def new_lab(work: Path, name: str, latency: int, profile: Path | None, *extra: str):
    d = work / name
    d.mkdir()
    args = ["--latency-ms", str(latency), *extra]
    if profile:
        args += ["--cpuprofile", str(profile / f"lab-{name}.pprof")]
    return start_lab(d, *args)


def line(what: str, n: int, r: dict) -> str:
    per = f"{r['wall'] / n * 1000:.0f}" if n else "-"
    cpv = f"{r['calls'] / n:.2f}" if n else "-"
    cpu_vm = f"{r['cli_cpu'] / n * 1000:.1f}" if n else "-"
    return (f"| {what} | {n} | {r['wall']:.1f} | {per} | {r['calls']} | {cpv} | {r['lab_cpu']:.1f} "
            f"| {r['cli_cpu']:.1f} | {cpu_vm} | {r['rss_mb']:.0f} |")


HEADER = ("| operation | VMs | wall s | ms/VM | calls | calls/VM | lab CPU s | CLI CPU s | CLI CPU ms/VM "
          "| CLI RSS MB |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def bench(args, work: Path) -> None:
    profile = Path(args.profile) if args.profile else None
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    print(f"latency {args.latency_ms} ms per call\n\n{HEADER}", flush=True)
    sizes = [int(x) for x in args.sizes.split(",") if int(x) > 0]
    lab = new_lab(work, "one", args.latency_ms, profile) if args.one_lab else None
    first = 1
    try:
        for n in sizes:
            own = lab is None
            cur = new_lab(work, str(n), args.latency_ms, profile) if own else lab
            conf = cluster_file(work / f"c{n}-{first}.conf", n, first=first)
            prof = profile / f"toolkit-create-{n}.prof" if profile else None
            print(line(f"cluster --create ({'fresh lab' if own else f'{first - 1} in lab'})", n,
                       run_cli(cur, ["cluster", "--create", "--file", str(conf)], prof)), flush=True)
            if args.destroy:
                prof = profile / f"toolkit-destroy-{n}.prof" if profile else None
                print(line("cluster --destroy", n, run_cli(cur, ["cluster", "--destroy", "--file", str(conf)], prof)),
                      flush=True)
            else:
                first += n
            if own:
                stop_lab(cur)
        if args.view_extra:
            cur = new_lab(work, "view", args.latency_ms, profile, "--extra-vms", str(args.view_extra))
            try:
                prof = profile / "toolkit-view.prof" if profile else None
                print(line(f"view ({args.view_extra} extra VMs)", args.view_extra, run_cli(cur, ["view"], prof)),
                      flush=True)
            finally:
                stop_lab(cur)
        if args.plan:
            conf = cluster_file(work / "plan.conf", args.plan)
            start = time.perf_counter()
            code = subprocess.run([sys.executable, "-m", "benchmarks.scale", "cli", "--", "--output", "json",
                                   "cluster", "--plan", "--file", str(conf)], cwd=ROOT, stdout=subprocess.DEVNULL).returncode
            print(f"\ncluster --plan of {args.plan} VMs: {time.perf_counter() - start:.2f} s (exit {code})")
    finally:
        if lab is not None:
            stop_lab(lab)


def cli_child(argv: list[str]) -> None:
    """The child: the CLI's main, under cProfile when asked."""
    from vhpc_toolkit.cli.main import main

    out = None
    if argv and argv[0] == "--cprofile":
        out, argv = argv[1], argv[2:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if out is None:
        raise SystemExit(main(argv))
    import cProfile

    prof = cProfile.Profile()
    code = prof.runcall(main, argv)
    prof.dump_stats(out)
    raise SystemExit(code)


def main() -> None:
    if sys.argv[1:2] == ["cli"]:
        return cli_child(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="64,256,512,1024")
    p.add_argument("--latency-ms", type=int, default=10)
    p.add_argument("--one-lab", action="store_true", help="all sizes in one lab, one batch after the other")
    p.add_argument("--destroy", action="store_true", help="also time cluster --destroy of each batch")
    p.add_argument("--profile", metavar="DIR", help="lab CPU profiles and toolkit cProfile stats to DIR")
    p.add_argument("--view-extra", type=int, default=0, metavar="N", help="also time view with N extra VMs")
    p.add_argument("--plan", type=int, default=0, metavar="N", help="also time cluster --plan of N VMs")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(args, Path(tmp))


if __name__ == "__main__":
    main()
