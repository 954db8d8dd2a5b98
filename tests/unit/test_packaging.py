"""What the package declares: Python >= 3.10, the licence files, classifiers and URLs, pyVmomi
bounded to the releases the fast property reader is tested with, and the files it carries."""
from __future__ import annotations

import importlib
import re
from importlib.metadata import metadata, requires, version
from pathlib import Path

import pytest

from vhpc_toolkit.vsphere import fastread

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text()


def test_python_310_and_later():
    assert 'requires-python = ">=3.10"' in _pyproject()
    assert metadata("vhpc_toolkit")["Requires-Python"] == ">=3.10"


def test_licence_notice_changelog_classifiers_urls():
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    notice = (ROOT / "NOTICE").read_text()
    assert "VMware" in notice and "vHPC Toolkit" in notice and "github.com/vmware/vhpc-toolkit" in notice
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")
    meta = metadata("vhpc_toolkit")
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.10" in classifiers and "Environment :: Console" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Original vHPC Toolkit"] == "https://github.com/vmware/vhpc-toolkit"


def test_pyvmomi_is_bounded_to_the_releases_fastread_is_tested_with():
    declared = [r.replace(" ", "") for r in requires("vhpc_toolkit") if r.lower().startswith("pyvmomi")]
    assert len(declared) == 1
    assert set(declared[0].removeprefix("pyvmomi").split(",")) == {f">={fastread.PYVMOMI_TESTED[0]}",
                                                                   f"<{fastread.PYVMOMI_BELOW}"}
    assert f'"pyvmomi>={fastread.PYVMOMI_TESTED[0]},<{fastread.PYVMOMI_BELOW}"' in _pyproject()
    # every release it claims lies in the bound, and the one installed here is one of them
    assert all(fastread.supported(v) for v in fastread.PYVMOMI_TESTED)
    assert fastread.supported(version("pyvmomi")) and fastread.METHODS


@pytest.mark.parametrize("release,inside", [("8.0.1.0", True), ("9.1.1.0", True), ("8.0.0.1", False),
                                            ("9.2.0.0", False), ("10.0", False), ("9.2.0rc1", False)])
def test_the_bound_itself(release, inside):
    assert fastread.supported(release) is inside


def test_outside_the_bound_reads_go_through_pyvmomi(monkeypatch):
    """A pyVmomi installed by hand past the bound: the fast reader steps aside (slower, still right)."""
    import importlib.metadata as md

    monkeypatch.setattr(md, "version", lambda name: "9.2.0.0" if name == "pyvmomi" else version(name))
    try:
        importlib.reload(fastread)
        assert fastread.METHODS == frozenset()
    finally:
        monkeypatch.undo()
        importlib.reload(fastread)
    assert fastread.METHODS


def test_examples_and_schemas_are_carried():
    from vhpc_toolkit.bundled import bundled_files

    names = {f.name for f in bundled_files()}
    on_disk = {f"cluster-scripts/{p.name}" for p in (ROOT / "examples" / "cluster-scripts").iterdir()} | \
        {f"post-scripts/{p.name}" for p in (ROOT / "examples" / "post-scripts").iterdir()} | \
        {f"schemas/{p.name}" for p in (ROOT / "docs" / "schemas").glob("*.json")}
    assert names == on_disk
    assert all(f.summary for f in bundled_files()), [f.name for f in bundled_files() if not f.summary]


def test_examples_copy_keeps_the_folders_and_refuses_to_overwrite(tmp_path, run_cli):
    code, out, err = run_cli("examples", "--copy", tmp_path / "mine")
    assert code == 0, err
    simple = tmp_path / "mine" / "cluster-scripts" / "cluster-simple.conf"
    assert simple.is_file() and (tmp_path / "mine" / "schemas" / "plan.json").is_file()
    # the copied cluster file finds its post scripts where it says
    code, out, err = run_cli("cluster", "--plan", "--file", simple)
    assert code == 0 and "not found" not in out + err, out + err
    code, out, err = run_cli("examples", "--copy", tmp_path / "mine")
    assert code == 2 and "exist there already" in err and "nothing was copied" in err


def test_readme_tour_starts_with_make_lab_and_its_post_script_exists():
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("## A short tour"):readme.index("## Pointing it at a real vCenter")]
    block = tour[tour.index("```bash") + 7:]
    assert block.strip().startswith("make lab")
    for script in re.findall(r"--script (\S+)", tour):
        assert (ROOT / script).is_file(), script


def test_user_docs_name_no_issue_numbers():
    docs = [ROOT / "README.md", ROOT / "DEVELOPERS.md", ROOT / "sim" / "README.md", *(ROOT / "docs").glob("*.md")]
    found = [f"{p.name}: {m.group(0)}" for p in docs
             for m in re.finditer(r"(?i)\bissues? #?\d+|\(issue|the issue's", p.read_text())]
    assert found == []


def test_examples_copy_that_cannot_write_is_an_input_error(tmp_path, run_cli):
    from vhpc_toolkit.bundled import FOLDERS

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / next(iter(FOLDERS))).write_text("a file where a folder goes\n")
    code, out, err = run_cli("examples", "--copy", tmp_path / "mine")
    assert code == 2 and f"--copy {tmp_path / 'mine'}: File exists" in err and "Traceback" not in err, err
