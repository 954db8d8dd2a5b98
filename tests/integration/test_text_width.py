"""Text that never loses data: every table, rendered at 60, 80, 100, 120, 160 and 200 columns, has no
line wider than the terminal, no cropped right edge, no ellipsis, and every word it shows at 200
columns (no word is ever split). The results are made once on the lab (a cluster with a switch, a
DRS rule, post scripts, strays, exports; per-VM reports and queries; view and capacity) and
rendered again at each width, as the CLI renders them."""
from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from tests.reference import CLUSTER_SCRIPTS
from vhpc_toolkit.cli.context import Context

WIDTHS = [60, 80, 100, 120, 160, 200]
LEFT, RIGHT = "│┃┏┡└├┌╭", "│┃┓┩┘┤┐╮"
BOX = re.compile(r"[─-╿]")
TREE = re.compile(r"^(?:[│ ]   )*(?:[├└]── |[│ ]   \S)")   # the view's tree: guides, not table edges
PASSWORD = "VMware1!"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "cluster-scripts").glob("*.conf")) + sorted(CLUSTER_SCRIPTS.glob("*.conf"))


def words(text: str) -> set[str]:
    """The words of a rendering, box drawing left out."""
    return {w for w in BOX.sub(" ", text).split() if any(c.isalnum() for c in w)}


def check(render, width: int, wide: str) -> str:
    """Render at ``width``; assert it fits and loses nothing that the 200-column rendering shows."""
    out = render(width)
    lines = out.splitlines()
    assert not [l for l in lines if cell_len(l) > width], f"wider than {width}:\n{out}"
    cropped = [l for l in lines if l.strip()[:1] in LEFT and l.rstrip()[-1:] not in RIGHT and not TREE.match(l)]
    assert not cropped, f"cropped at {width}:\n" + "\n".join(cropped[:5])
    assert "…" not in out
    # A word longer than the room left (a long path) can only be folded: its characters must all be there.
    joined = re.sub(r"\s", "", BOX.sub("", out))
    lost = {w for w in words(wide) - words(out) if not (cell_len(w) > width // 2 and w in joined)}
    assert not lost, f"at {width} columns lost {sorted(lost)[:10]}:\n{out}"
    return out


def console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, legacy_windows=False)


def rendered(shows: list, results: list):
    """A function of the width: the text the CLI prints for these shows and results."""
    from vhpc_toolkit.output.emit import emit

    def render(width: int) -> str:
        out, err = console(width), console(width)
        ctx = Context(out=out, err=err)
        for render_fn, args in shows:
            render_fn(*args, out)
        for result in results:
            emit(ctx, result)
        return out.file.getvalue()

    return render


def all_widths(render) -> None:
    wide = render(200)
    for width in WIDTHS:
        check(render, width, wide)


@pytest.fixture
def captured(monkeypatch):
    """The CLI's results and its text shown before them (plans, previews), kept to render again."""
    from vhpc_toolkit.cli.commands import cluster as cluster_cmd
    from vhpc_toolkit.output import emit as emit_mod

    got = {"shows": [], "results": []}
    real_emit, real_show = emit_mod.emit, cluster_cmd.show

    def emit(ctx, result):
        got["results"].append(result)
        real_emit(ctx, result)

    def show(ctx, render, *args):
        got["shows"].append((render, args))
        real_show(ctx, render, *args)

    monkeypatch.setattr(emit_mod, "emit", emit)
    monkeypatch.setattr(cluster_cmd, "show", show)

    def take():
        shows, results = got["shows"][:], got["results"][:]
        got["shows"].clear()
        got["results"].clear()
        return shows, results

    return take


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_plan_of_every_example(example):
    from vhpc_toolkit.clusterfile import parse_cluster_file
    from vhpc_toolkit.output.cluster.plan import render_plan

    spec = parse_cluster_file(str(example), check_scripts=False)
    all_widths(rendered([(render_plan, (spec,))], []))


def test_a_switch_only_file_draws_no_empty_table(tmp_path, run_cli, monkeypatch):
    path = tmp_path / "s.conf"
    path.write_text("[_SVS_]\nsw1: host: vhpc-esx-01.hpc.vmware.com pnic: vmnic4 port_group: pg1\n")
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = run_cli("cluster", "--plan", "--file", path)
    assert code == 0, err
    assert "VMs" not in out and "sw1" in out


def test_every_table_of_a_cluster_life(cli, captured, tmp_path, monkeypatch, lab):
    """create (plan, actions, result with switches, VMs, DRS rule, post scripts), status (switches,
    VMs, strays made by the file and by hand, exports), destroy (preview, result)."""
    monkeypatch.chdir(tmp_path)   # short paths: a path longer than the terminal is one unbreakable word
    pfx = f"w{uuid.uuid4().hex[:5]}"
    (tmp_path / "hello.sh").write_text("#!/bin/sh\necho hello from $(hostname)\n")
    body = (f"[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 2\ndatastore: COMPUTE01_vsanDatastore\n"
            f"guest_username: root\nguest_password: {PASSWORD}\n"
            f"[_SVS_]\n{pfx}-sw: host: vhpc-esx-0{{2:3}}.hpc.vmware.com pnic: vmnic4 port_group: {pfx}-pg\n"
            f"[_VMS_]\n{pfx}-n{{1:3}}: B host: vhpc-esx-0{{2:4}}.hpc.vmware.com anti_affinity: {pfx}g "
            f"script: hello.sh barrier: 1\n")
    (tmp_path / "c.conf").write_text(body)
    try:
        code, _, err = cli("cluster", "--create", "--file", "c.conf")
        assert code == 0, err
        all_widths(rendered(*captured()))
        # a stray made by the file (the range shrank) and one made by hand in its folder
        (tmp_path / "c.conf").write_text(body.replace("n{1:3}", "n{1:2}").replace("0{2:4}", "0{2:3}"))
        assert cli("clone", "--template", "vhpc_clone", "--vm", f"{pfx}-n7", "--host",
                   "vhpc-esx-05.hpc.vmware.com")[0] == 0
        captured()
        code, out, err = cli("cluster", "--status", "--file", "c.conf", "--export", "hostfile=hosts",
                             "--export", "ansible=inv.yml")
        assert code == 1, err
        assert "destroys the 1 VM it made, and leaves the others" in re.sub(r"\s+", " ", out), out   # however wrapped
        assert out.index("Not in the file") < out.index("note: MPI hostfile")   # notes after the tables
        all_widths(rendered(*captured()))
        code, out, err = cli("cluster", "--create", "--prune", "--file", "c.conf")
        assert code == 1 and f"{pfx}-n7" in out, err   # the VM made by hand stays: not the file's state
        all_widths(rendered(*captured()))
    finally:
        cli("destroy", "--vm", f"{pfx}-n7")
        captured()
        code, _, err = cli("cluster", "--destroy", "--file", "c.conf")
        assert code == 0, err
        all_widths(rendered(*captured()))


def test_reports_queries_post_view_capacity(cli, captured, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    vm = f"w{uuid.uuid4().hex[:5]}"
    (tmp_path / "hello.sh").write_text("#!/bin/sh\necho one\necho two words here\n")
    try:
        assert cli("clone", "--template", "vhpc_clone", "--vm", vm, "--host", "vhpc-esx-06.hpc.vmware.com",
                   "--memory", "4")[0] == 0
        for argv in (["cpumem", "--vm", vm, "--cpu", "4", "--memory_reservation", "yes"],
                     ["passthru", "--vm", vm, "--query"], ["sriov", "--vm", vm, "--query"],
                     ["vgpu", "--vm", vm, "--query"], ["get_vm_config", "--vm", vm],
                     ["passthru", "--vm", vm, "--add", "--device", "0000:3b:00.0"],
                     ["power", "--vm", vm, "--on"],
                     ["post", "--vm", vm, "--script", "hello.sh", "--guest_password", PASSWORD, "--wait"],
                     ["view"], ["view", "--networking", "--host", "vhpc-esx-06"], ["view", "--capacity"],
                     ["examples"]):
            captured()
            code, out, err = cli(*argv)
            assert code == 0, (argv, err)
            all_widths(rendered(*captured()))
    finally:
        cli("destroy", "--vm", vm)
