"""Scaling of cluster --create/--destroy, view and --plan with the number of VMs, with profiles
(`make bench` runs the same measurements without profiles).

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
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import PERF64_BASE, machine, new_lab, run_cli, table
from tests.plugins.lab import stop_lab

# 16 GPU hosts (vhpc-esx-02..17): 1,024 VMs reserving 8 GB each need more than the lab's 7 named
# hosts of 768 GB (the lab admits a power-on only when the reservation fits, as ESXi does).
LAB_ARGS = ("--extra-hosts", "9")

CLUSTER = "\n" + PERF64_BASE + """
[_VMS_]
{prefix}{{{first:05d}:{last:05d}}}: BASE host: vhpc-esx-{{02:17}}.hpc.vmware.com
"""


def quick_clones(lab) -> None:
    """The lab's clones are done within the call: its vCenter.conf says so (clone_time), so the
    toolkit makes no copies of the template as extra sources, which pay off only for long clones
    (docs/performance.md): these cases measure the toolkit's own cost per VM."""
    lab.conf.write_text(lab.conf.read_text() + "clone_time: 0.01\n")


def cluster_file(path: Path, n: int, prefix: str = "scale-vm", first: int = 1) -> Path:
    path.write_text(CLUSTER.format(prefix=prefix, first=first, last=first + n - 1))
    return path


def bench(args, work: Path) -> None:
    profile = Path(args.profile) if args.profile else None
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    print(f"latency {args.latency_ms} ms per call; {machine()}\n", flush=True)
    sizes = [int(x) for x in args.sizes.split(",") if int(x) > 0]
    lab = new_lab(work, "one", args.latency_ms, *LAB_ARGS, profile=profile) if args.one_lab else None
    if lab is not None:
        quick_clones(lab)
    rows, first = [], 1
    try:
        for n in sizes:
            own = lab is None
            cur = new_lab(work, str(n), args.latency_ms, *LAB_ARGS, profile=profile) if own else lab
            if own:
                quick_clones(cur)
            conf = cluster_file(work / f"c{n}-{first}.conf", n, first=first)
            prof = profile / f"toolkit-create-{n}.prof" if profile else None
            rows.append(run_cli(cur, f"cluster --create ({'fresh lab' if own else f'{first - 1} in lab'})", n,
                                ["cluster", "--create", "--file", str(conf)], prof))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
            if args.destroy:
                prof = profile / f"toolkit-destroy-{n}.prof" if profile else None
                rows.append(run_cli(cur, "cluster --destroy", n, ["cluster", "--destroy", "--file", str(conf)], prof))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            else:
                first += n
            if own:
                stop_lab(cur)
        if args.view_extra:
            cur = new_lab(work, "view", args.latency_ms, "--extra-vms", str(args.view_extra), profile=profile)
            try:
                prof = profile / "toolkit-view.prof" if profile else None
                rows.append(run_cli(cur, f"view ({args.view_extra} extra VMs)", args.view_extra, ["view"], prof))
            finally:
                stop_lab(cur)
        if args.plan:
            conf = cluster_file(work / "plan.conf", args.plan)
            rows.append(run_cli(None, f"cluster --plan ({args.plan} VMs, no vCenter)", args.plan,
                                ["cluster", "--plan", "--file", str(conf)]))
    finally:
        if lab is not None:
            stop_lab(lab)
    print("\n" + table(rows))


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
