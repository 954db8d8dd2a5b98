"""Random and mutated files only ever raise ClusterFileError, and nothing in
a file is ever executed."""
from __future__ import annotations

import builtins
import contextlib

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from tests.reference import CLUSTER_SCRIPTS

REF = CLUSTER_SCRIPTS
SEED = (
    "[BASE]\ntemplate: vhpc_clone\ncpu: 4\nmemory: 16\nlinked: 0\nvm_folder:\n"
    "[NET]\ndns: ['172.1.110.1', '172.1.110.2']\nip: 10.0.0.{1:4}\n"
    "[H]\nhost: esx-0{{5:8}}\n"
    "[_SVS_]\ns: pnic: vmnic4 H port_group: pg\n"
    "[_VMS_]\nvm{1:4}: BASE NET H pf: 0000:af:00.0 barrier:1 script: /x.sh\n"
)
SEEDS = [SEED] + ([p.read_text() for p in sorted(REF.glob("*.conf"))] if REF.is_dir() else [])

ALPHABET = st.sampled_from(list("[]{}:'\",# \n_-.0123456789abcxyzVMS") + [
    "_VMS_", "_SVS_", "_DVS_", "BASE", "host:", "ip:", "dns:", "script:", "barrier:", "{1:3}",
    "{{1:2}}", "template: t", "\n[_VMS_]\n", "\n[BASE]\n", "cpu:", "device:", "[__import__('os')]",
])


@contextlib.contextmanager
def no_code_evaluation():
    """eval, exec and compile raise while the parser runs."""
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}

    def refuse(*args, **kwargs):
        raise AssertionError("the parser evaluated code")

    for name in saved:
        setattr(builtins, name, refuse)
    try:
        yield
    finally:
        for name, real in saved.items():
            setattr(builtins, name, real)


def _parse(text: str) -> None:
    try:
        with no_code_evaluation():
            spec = parse_cluster_text(text, "f.conf", base_dir="/nonexistent", check_scripts=False)
    except ClusterFileError as exc:
        assert exc.problems, "an error with no problems"
        for line in exc.problems:
            assert line.startswith("f.conf:") or line.startswith("f.conf: ")
        return
    for vm in spec.vms:
        vm.to_dict()
        assert vm.name


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    _parse(text)


@FUZZ
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_random_format_like_text(text):
    _parse(text)


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_files(seed, data):
    text = seed
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(ALPHABET)
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 10)):]
        else:
            text = text[:pos] + piece + text[pos + len(piece):]
    _parse(text)


def test_code_in_a_list_is_data_not_code(tmp_path):
    marker = tmp_path / "pwned"
    text = ("[BASE]\ntemplate: t\ndns: [__import__('os').system('touch %s')]\n"
            "[_VMS_]\nvm1: BASE device: [open('%s','w')]\n" % (marker, marker))
    with pytest.raises(ClusterFileError) as err, no_code_evaluation():
        parse_cluster_text(text, "f.conf")
    assert [p.split(":")[1] for p in err.value.problems] == ["3", "5"]
    assert not marker.exists()
