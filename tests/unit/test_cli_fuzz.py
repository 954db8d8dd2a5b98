"""Random command lines for every command (hypothesis), without a vCenter: the only outcomes are
acceptance (the command would now connect; here the connection is a stub that stops it) or one
error line with exit status 2. Never a traceback, never a network connection, never a file
written."""
from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhpc_toolkit.cli import context as context_mod
from vhpc_toolkit.cli.commands import COMMANDS
from vhpc_toolkit.cli.main import main
from vhpc_toolkit.cli.parser import build_parser
from vhpc_toolkit.errors import ExitCode, VhpcError

EXAMPLES = int(os.environ.get("VHPC_FUZZ_EXAMPLES", "25"))   # per command (more: VHPC_FUZZ_EXAMPLES=N)
CASES: dict[str, int] = {}                                    # examples run, per command (for the figures)

VALUES = ["", "0", "1", "8", "-1", "2.5", "1e309", "inf", "-inf", "nan", "99999999999999999999", "0x10",
          "yes", "no", "maybe", "on", "off", "high", "normal", "a/b", "x" * 81, "é名前", "a\nb", "\x01", "-",
          "--", "vhpc_clone", "node{1:3}", "0000:3b:00.0", "grid_v100-8q", "vmnic4", "10.0.0.1", "255.255.255.0",
          "text", "json", "vhpc-esx-01.hpc.vmware.com", "HPC_Datacenter"]


class Reached(VhpcError):
    """The command accepted its arguments and asked for the vCenter session."""

    exit_code = ExitCode.OK


# Flags that write local files by design (the scratch folder must stay empty), and the audit trail.
WRITERS = {"--copy", "--log-file"}


def _flags(command: str) -> list[str]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = [opt for a in sub.choices[command]._actions for opt in a.option_strings]
    return sorted(set(flags) - {"-h", "--help"} - WRITERS)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """Files of every kind a flag might name."""
    d = tmp_path_factory.mktemp("fuzz-files")
    (d / "vms.txt").write_text("node1\nnode2  # comment\n")
    (d / "empty.txt").write_text("")
    (d / "binary.bin").write_bytes(b"\xff\xfe\x00\x80garbage")
    (d / "c.conf").write_text("[BASE]\ntemplate: vhpc_clone\n[_VMS_]\nn{1:2}: BASE\n")
    (d / "bad.conf").write_text("[_VMS_]\nn{1:}: NOPE\n")
    (d / "script.sh").write_text("#!/bin/sh\necho hi\n")
    (d / "folder").mkdir()
    os.mkfifo(d / "fifo")
    return [str(d / n) for n in ("vms.txt", "empty.txt", "binary.bin", "c.conf", "bad.conf", "script.sh",
                                 "folder", "fifo", "missing.txt")] + ["/dev/null"]


@pytest.fixture
def guarded(monkeypatch, tmp_path):
    """No vCenter, no network, no files written outside a scratch folder."""
    def session(self):
        raise Reached("reached the vCenter session")

    def no_network(*args, **kwargs):
        raise AssertionError("the command tried to open a network connection")

    monkeypatch.setattr(context_mod.Context, "session", session)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANGUAGE", "C")   # argparse's gettext lookups are most of a parse's time otherwise
    for var in ("VHPC_PASSWORD", "VHPC_SERVER", "GOVC_URL", "VAULT_ADDR", "VHPC_VCENTER_CONF"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _check(argv: list[str], capsys, scratch: Path) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:   # main never lets one escape
        raise AssertionError(f"SystemExit({exc.code}) escaped main for {argv!r}") from None
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out, (argv, out.err)
    assert code in (0, 2), (argv, code, out.err)
    if code == 2:
        errors = [line for line in out.err.splitlines() if "error:" in line]
        assert len(errors) == 1, (argv, out.err)
    assert list(scratch.iterdir()) == [], (argv, list(scratch.iterdir()))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_random_arguments_of_every_command(command, paths, guarded, capsys):
    flags = _flags(command)
    globals_ = ["--output", "--yes", "-y", "--debug", "--read-timeout", "--connect-timeout", "--vcenter-conf"]
    token = st.one_of(st.sampled_from(flags), st.sampled_from(VALUES), st.sampled_from(paths),
                      st.sampled_from(globals_), st.text(max_size=12))
    CASES[command] = 0

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(before=st.lists(st.sampled_from(globals_ + VALUES[:6]), max_size=2),
           after=st.lists(token, max_size=8))
    def run(before, after):
        CASES[command] += 1
        _check(before + [command] + after, capsys, guarded)

    run()


def test_known_bad_lines_are_one_error_line(paths, guarded, capsys):
    for argv in (["cpumem", "--vm", "v", "--cpu", "inf"], ["cpumem", "--vm", "v", "--memory", "nan"],
                 ["destroy", "--file", paths[7]], ["destroy", "--file", paths[6]], ["cluster", "--create",
                 "--file", paths[2]], ["--read-timeout", "0", "view"], ["--connect-timeout", "-5", "view"],
                 ["svs", "--destroy", "--host", "h", "--name", "s", "--force", "--force"],
                 ["cluster", "--unlock", "--plan", "--file", paths[3]]):
        _check(argv, capsys, guarded)
