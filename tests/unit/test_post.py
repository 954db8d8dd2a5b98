"""Pure parts of post scripts: URLs, guest paths, output tails, passwords, reports, polling."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from vhpc_toolkit.errors import InputError, ValidationFailed
from vhpc_toolkit.ops.post import (
    PhaseResult,
    PostReport,
    ScriptRun,
    guest_password,
    guest_paths,
    password_source,
    read_scripts,
    tail,
)
from vhpc_toolkit.results import FAILED, NOT_RUN, OK, SKIPPED, STARTED
from vhpc_toolkit.vsphere.guest import operations as guestops
from vhpc_toolkit.vsphere.guest.operations import GuestOpsError, GuestProcess, wait_for_processes
from vhpc_toolkit.vsphere.guest.transfers import transfer_url


@pytest.mark.parametrize("url, server, want", [
    ("https://*:443/guestFile?id=1&token=a", "vc.example", "https://vc.example:443/guestFile?id=1&token=a"),
    ("https://*/guestFile?id=1", "10.0.0.5", "https://10.0.0.5/guestFile?id=1"),
    ("https://*:8443/x", "fd00::1", "https://[fd00::1]:8443/x"),
    ("https://esx-01:443/guestFile?id=1", "vc.example", "https://esx-01:443/guestFile?id=1"),
])
def test_transfer_url_replaces_a_star_host_only(url, server, want):
    assert transfer_url(url, server) == want


def test_guest_paths_are_safe_and_unique():
    script, logf = guest_paths("/home/me/Install CUDA (v12).sh", token="abcd")
    assert (script, logf) == ("/tmp/vhpc-Install_CUDA_v12-abcd.sh", "/tmp/vhpc-Install_CUDA_v12-abcd.log")
    assert guest_paths("x.sh")[0] != guest_paths("x.sh")[0]
    assert guest_paths("/a/'; rm -rf.sh", token="t")[0] == "/tmp/vhpc-rm_-rf-t.sh"


def test_tail_keeps_the_last_lines():
    assert tail(b"a\nb\nc\n", 2) == ["b", "c"]
    assert tail(b"", 5) == [] and tail(b"\n\n", 5) == []
    assert tail(b"x\r\ny\xff\n", 5) == ["x", "y\ufffd"]
    assert tail(b"a\n", 0) == []


def test_password_sources_in_order():
    env = {"VHPC_GUEST_PASSWORD": "from-env"}
    assert guest_password("explicit", env) == "explicit"
    assert guest_password(None, env) == "from-env"
    calls = []

    def vault(path, mount, env):
        calls.append((path, mount))
        return {"guest_password": "from-vault", "other": "x"}

    venv = {"VHPC_GUEST_VAULT_PATH": "hpc/vcenter"}
    assert guest_password(None, venv, vault_reader=vault) == "from-vault"
    assert calls == [("hpc/vcenter", "secret")]
    venv2 = {"VHPC_GUEST_VAULT_PATH": "hpc/vc", "VHPC_GUEST_VAULT_KEY": "other", "VHPC_GUEST_VAULT_MOUNT": "kv"}
    assert guest_password(None, venv2, vault_reader=vault) == "x" and calls[-1] == ("hpc/vc", "kv")
    with pytest.raises(InputError, match="has no key 'guest_password'"):
        guest_password(None, venv, vault_reader=lambda *a: {})
    assert guest_password(None, {}, prompt=lambda msg: "typed") == "typed"
    with pytest.raises(InputError) as err:
        guest_password(None, {}, prompt=None)
    assert "VHPC_GUEST_PASSWORD" in str(err.value) and "\n" not in str(err.value)


def test_password_source_prefers_the_vm_and_looks_up_once():
    asked = []

    def prompt(msg):
        asked.append(msg)
        return "typed"

    source = password_source(None, {}, prompt)
    own = SimpleNamespace(guest_password="own")
    none = SimpleNamespace(guest_password=None)
    assert source(own) == "own"
    assert source(none) == "typed" and source(none) == "typed" and len(asked) == 1
    assert password_source("flag", {})(none) == "flag"


def test_read_scripts_reports_missing_files(tmp_path):
    ok = tmp_path / "ok.sh"
    ok.write_bytes(b"echo\n")
    assert read_scripts([str(ok), str(ok)]) == {str(ok): b"echo\n"}
    with pytest.raises(InputError, match=r"nope\.sh: script does not exist$"):
        read_scripts([str(ok), str(tmp_path / "nope.sh")])
    with pytest.raises(ValidationFailed) as err:
        read_scripts([str(tmp_path / "a.sh"), str(tmp_path / "b.sh")])
    assert len(err.value.problems) == 2


def test_report_summary_failure_and_json():
    runs = [ScriptRun("n1", "a.sh", status=OK, exit_code=0, duration=1.23456, output_tail=["hi"]),
            ScriptRun("n2", "a.sh", status=FAILED, exit_code=4, output_tail=["x", "boom"]),
            ScriptRun("n2", "b.sh", status=SKIPPED, error="skipped: a.sh failed on this VM"),
            ScriptRun("n1", "c.sh", barrier=5, status=NOT_RUN)]
    phases = [PhaseResult(None, FAILED, runs[:3]), PhaseResult(5, NOT_RUN, runs[3:])]
    report = PostReport(runs, phases, operation="post scripts")
    assert report.failure() == "VM n2: script a.sh failed: exit code 4; last output: boom"
    assert report.summary() == ("post scripts: 4 script runs on 2 VMs: 1 ok, 1 failed, 1 skipped, "
                                "1 not run; phases not run: barrier 5")
    doc = report.to_dict()
    assert doc["phases_not_run"] == [5] and doc["results"][0]["duration"] == 1.235
    assert doc["phases"][0]["barrier"] is None and not report.ok
    assert PostReport([ScriptRun("n", "s", status=OK, exit_code=0)]).ok


def test_process_info_to_guest_process():
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    info = SimpleNamespace(pid=7, name="sh", cmdLine="/bin/sh x", startTime=start,
                           endTime=start + timedelta(seconds=2.5), exitCode=None)
    proc = GuestProcess.from_info(info)
    assert proc.ended and proc.exit_code == 0 and proc.duration == 2.5  # exitCode 0 is left out on the wire
    running = GuestProcess.from_info(SimpleNamespace(pid=8, name="sh", cmdLine="", startTime=start,
                                                     endTime=None, exitCode=None))
    assert not running.ended and running.exit_code is None and running.duration is None


class FakeGuest:
    """Answers ListProcessesInGuest from a script of poll results."""

    def __init__(self, name, ends_after):
        self.name, self.ends_after, self.calls = name, ends_after, []

    def processes(self, pids):
        self.calls.append(list(pids))
        n = len(self.calls)
        out = {}
        for pid in pids:
            if pid == 404:
                continue  # the guest forgot it
            ended = n >= self.ends_after.get(pid, 1)
            out[pid] = GuestProcess(pid, end_time=datetime.now(timezone.utc) if ended else None,
                                    exit_code=pid % 7 if ended else None)
        return out


def test_wait_polls_each_vm_once_per_round_with_backoff(monkeypatch):
    sleeps = []
    monkeypatch.setattr(guestops.time, "sleep", sleeps.append)
    a = FakeGuest("a", {1: 1, 2: 3})
    b = FakeGuest("b", {3: 2, 404: 1})
    done = wait_for_processes([(a, 1), (a, 2), (b, 3), (b, 404)], timeout=60, interval=0.1, max_interval=0.2)
    assert a.calls == [[1, 2], [2], [2]] and b.calls == [[3, 404], [3]]
    assert done[("a", 2)].exit_code == 2 and done[("b", 404)].lost and done[("b", 404)].exit_code is None
    assert sleeps == [0.1, pytest.approx(0.15)]


def test_wait_times_out_with_the_pending_programs(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(guestops.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(guestops.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    with pytest.raises(GuestOpsError, match=r"timed out after 1s waiting for guest program\(s\): a pid 9"):
        wait_for_processes([(FakeGuest("a", {9: 10**6}), 9)], timeout=1)


def test_run_describe_lines():
    assert ScriptRun("v", "s", status=STARTED, pid=3, guest_log="/tmp/l").describe() == \
        "started as pid 3; output in /tmp/l"
    assert ScriptRun("v", "s", status=FAILED, error="guest login to VM v as root failed").describe() == \
        "guest login to VM v as root failed"


def test_wait_stops_when_cancelled():
    import threading

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(GuestOpsError, match="interrupted"):
        wait_for_processes([(FakeGuest("a", {9: 10**6}), 9)], timeout=60, cancel=cancel)
