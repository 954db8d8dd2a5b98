"""Every file an export writes is checked before any change, and written by replacing it: never
through a symlink, never over the cluster file or its scripts."""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.output.cluster.exports import KINDS, check_export_paths, export_targets, gres_path, write_exports
from vhpc_toolkit.output.files import replace_file

GPU_FILE = "[B]\ntemplate: t\ndevice: ['0000:3b:00.0']\nscript: {script}\n[_VMS_]\nn1: B\n"


@pytest.fixture
def setup(tmp_path):
    script = tmp_path / "post.sh"
    script.write_text("echo hi\n")
    conf = tmp_path / "c.gres.conf"          # the gres fragment of --export slurm=c.conf would be this file
    conf.write_text(GPU_FILE.format(script=script))
    spec = parse_cluster_text(conf.read_text(), str(conf))
    return SimpleNamespace(dir=tmp_path, conf=conf, script=script, spec=spec)


def refused(setup, kind: str, path) -> str:
    with pytest.raises(ValidationFailed) as err:
        check_export_paths([(kind, str(path))], str(setup.conf), setup.spec)
    return str(err.value)


def bad_places(setup):
    """(name, path the export's files include, expected words): every way a path can be wrong."""
    d = setup.dir
    (d / "afolder").mkdir()
    (d / "nothere").mkdir()
    os.mkfifo(d / "fifo")
    locked = d / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return [("the cluster file", setup.conf, "that is the cluster file"),
            ("a post script", setup.script, "a script of VM n1"),
            ("a folder", d / "afolder", "is a folder"),
            ("a folder, slash", str(d / "afolder") + "/", "is a folder"),
            ("a FIFO", d / "fifo", "not a regular file"),
            ("no such folder", d / "missing" / "x", "does not exist"),
            ("a folder not writable", locked / "x", "not writable")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_existing_file_is_refused(setup):
    f = setup.dir / "ro"
    f.write_text("x")
    f.chmod(0o444)
    assert "not writable" in refused(setup, "hostfile", f)


@pytest.mark.parametrize("kind", KINDS)
def test_every_file_of_every_export_kind_is_checked(setup, kind):
    """For each kind, each bad place as the export's path, and (slurm) as its gres fragment beside it."""
    for name, path, words in bad_places(setup):
        if name == "a folder not writable" and os.geteuid() == 0:
            continue
        assert words in refused(setup, kind, path), (kind, name)
        if kind == "slurm" and not str(path).endswith("/"):
            beside = str(path)[:-len(".gres.conf")] + ".conf" if str(path).endswith(".gres.conf") else None
            if beside:
                assert words in refused(setup, kind, beside), (kind, name, "gres fragment")
        for sub in (setup.dir / "afolder", setup.dir / "nothere"):   # clean between kinds
            sub.mkdir(exist_ok=True)


def test_the_gres_fragment_of_a_slurm_export_is_checked(setup):
    assert export_targets("slurm", "/x/c.conf", setup.spec) == ["/x/c.conf", "/x/c.gres.conf"]
    assert "that is the cluster file" in refused(setup, "slurm", setup.dir / "c.conf")
    (setup.dir / "n.gres.conf").mkdir()
    assert "is a folder" in refused(setup, "slurm", setup.dir / "n.conf")
    no_gpu = parse_cluster_text("[_VMS_]\nn1: template: t\n", str(setup.conf))
    assert export_targets("slurm", "/x/c.conf", no_gpu) == ["/x/c.conf"]


def test_two_exports_of_one_file_are_refused(setup):
    with pytest.raises(ValidationFailed, match="also written by --export slurm"):
        check_export_paths([("slurm", str(setup.dir / "n.conf")), ("hostfile", str(setup.dir / "n.gres.conf"))],
                           str(setup.conf), setup.spec)


def test_a_symlink_is_replaced_never_written_through(setup):
    link = setup.dir / "hosts"
    link.symlink_to(setup.conf)
    before = setup.conf.read_text()
    check_export_paths([("hostfile", str(link))], str(setup.conf), setup.spec)   # replacing the link is fine
    replace_file(str(link), "10.0.0.1\n")
    assert not link.is_symlink() and link.read_text() == "10.0.0.1\n"
    assert setup.conf.read_text() == before
    assert sorted(p.name for p in setup.dir.iterdir() if p.name.startswith(".")) == []   # no temporary left


def test_a_file_that_cannot_be_written_after_the_run_is_a_note_and_exit_1(setup):
    result = SimpleNamespace(vms=[SimpleNamespace(name="n1", ip="10.0.0.1", cpu=2)], to_dict=lambda: {})
    target = setup.dir / "s.conf"
    (setup.dir / "s.gres.conf").mkdir()   # made after the check: the run goes on, the file is not written
    notes = write_exports(result, setup.spec, [("slurm", str(target))])
    assert target.read_text().startswith("# Slurm nodes")
    assert any("not written" in n and gres_path(str(target)) in n for n in notes)
    assert result.export_errors and "not written" in result.export_errors[0]


def test_a_check_script_is_never_overwritten(tmp_path):
    check = tmp_path / "healthy.sh"
    check.write_text("exit 0\n")
    conf = tmp_path / "c.conf"
    conf.write_text(f"[B]\ntemplate: t\ncheck: {check}\n[_VMS_]\nn1: B\n")
    spec = parse_cluster_text(conf.read_text(), str(conf))
    with pytest.raises(ValidationFailed, match="that is a script of VM n1"):
        check_export_paths([("hostfile", str(check))], str(conf), spec)


def test_a_login_nodes_gpu_makes_no_gres_fragment(tmp_path):
    spec = parse_cluster_text("[_SLURM_]\ncontroller: ctl\n[B]\ntemplate: t\n[_VMS_]\n"
                              "login: B role: login gpu: 1\nn1: B\n", str(tmp_path / "c.conf"))
    assert export_targets("slurm", str(tmp_path / "n.conf"), spec) == [str(tmp_path / "n.conf")]
    result = SimpleNamespace(vms=[SimpleNamespace(name="login", ip=None), SimpleNamespace(name="n1", ip=None)])
    write_exports(result, spec, [("slurm", str(tmp_path / "n.conf"))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.conf"]
