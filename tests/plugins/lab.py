"""The lab: vhpc-sim started once per test session on a free port.

`lab` is the shared simulator (tests that change it clean up after
themselves); `large_lab` has 1024 extra VMs for call-count checks;
`stock_lab` is the stock govmomi simulator on the same inventory.
"""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from vhpc_toolkit.words import count

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "sim" / "bin" / "vhpc-sim"
# On the shared lab, the guest customization of every VM whose name contains this fails.
CUSTOMIZATION_FAILS = "custfail"


@dataclass
class Lab:
    conf: Path
    proc: subprocess.Popen
    settings: dict
    guest_root: Path  # VM NAME's guest file system is guest_root / NAME

    @property
    def url(self) -> str:
        return f"https://{self.settings['server']}:{self.settings['port']}"

    def _get(self, path: str) -> dict:
        ctx = ssl.create_default_context(cafile=self.settings["ca_file"])
        with urllib.request.urlopen(self.url + path, context=ctx, timeout=10) as resp:
            return json.load(resp)

    def post(self, path: str) -> dict:
        """POST to a lab-only /debug switch; its JSON answer."""
        ctx = ssl.create_default_context(cafile=self.settings["ca_file"])
        req = urllib.request.Request(self.url + path, method="POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.load(resp)

    def calls(self) -> dict:
        """SOAP calls served since start or the last reset: {"total": N, "methods": {...}}."""
        return self._get("/debug/calls")

    def reset_calls(self) -> None:
        self._get("/debug/calls?reset=1")

    def set_faults(self, **settings) -> dict:
        """Replace the lab's injected faults (fail_method=[{method, regex, fault}], drop_connections,
        task_delay_ms, session_ttl); no arguments clears them. Returns the settings and counters."""
        ctx = ssl.create_default_context(cafile=self.settings["ca_file"])
        req = urllib.request.Request(self.url + "/debug/faults" + ("" if settings else "?reset=1"),
                                     data=json.dumps(settings).encode(), method="POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.load(resp)

    def admission(self, reset: bool = False) -> dict:
        """GET /debug/admission: units in use and at their peak per host, time spent queued."""
        return self._get("/debug/admission" + ("?reset=1" if reset else ""))

    def faults(self) -> dict:
        """The faults in force and the counters: requests, dropped, injected."""
        return self._get("/debug/faults")

    def deny_privileges(self, *privileges: str) -> dict:
        """Deny these privileges to every session (none: deny nothing): calls needing one fail with
        NoPermission. Returns {"denied": [...], "refused": N}."""
        ctx = ssl.create_default_context(cafile=self.settings["ca_file"])
        req = urllib.request.Request(self.url + "/debug/privileges" + ("" if privileges else "?reset=1"),
                                     data=json.dumps({"denied": list(privileges)}).encode(), method="POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.load(resp)

    def privileges(self) -> dict:
        """The denied privileges and how many calls they refused."""
        return self._get("/debug/privileges")

    def connect(self):
        """A pyVmomi session on the lab, for tests that check the lab directly."""
        from vhpc_toolkit.settings import load_settings
        from vhpc_toolkit.vsphere.session import connect

        return connect(load_settings(str(self.conf), {}, interactive=False))

    def connect_plain(self):
        """A bare pyVmomi ServiceInstance (no toolkit code in between), for the lab's own rules."""
        from pyVim.connect import SmartConnect

        ctx = ssl.create_default_context(cafile=self.settings["ca_file"])
        return SmartConnect(host=self.settings["server"], port=int(self.settings["port"]),
                            user=self.settings["username"], pwd=self.settings["password"], sslContext=ctx)


def _build_sim() -> None:
    # make rebuilds the binary only when a Go source is newer, so a stale lab never runs.
    subprocess.run(["make", "-s", "-C", str(ROOT), "sim"], check=True, stdout=subprocess.DEVNULL)


def start_lab(workdir: Path, *extra: str) -> Lab:
    _build_sim()
    conf = workdir / "vCenter.conf"
    guest_root = workdir / "guests"
    proc = subprocess.Popen([str(SIM), "--listen", "127.0.0.1:0", "--conf-out", str(conf),
                             "--guest-root", str(guest_root), *extra],
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "sim.log", "wb"),
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not conf.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"vhpc-sim exited with {proc.returncode}: "
                               f"{(workdir / 'sim.log').read_text()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("vhpc-sim did not write its vCenter.conf within 60 s")
        time.sleep(0.05)
    return Lab(conf=conf, proc=proc, settings=yaml.safe_load(conf.read_text()), guest_root=guest_root)


def stop_lab(lab: Lab) -> None:
    try:
        os.killpg(lab.proc.pid, signal.SIGTERM)
        lab.proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(lab.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("lab"), "--customization-fail", CUSTOMIZATION_FAILS)
    yield lab
    stop_lab(lab)


@pytest.fixture(scope="session")
def large_lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("large-lab"), "--extra-vms", "1024")
    yield lab
    stop_lab(lab)


@pytest.fixture(scope="session")
def a100_lab(tmp_path_factory):
    """The lab with two A100 hosts after the named ones: vhpc-esx-09 (shared A100s in MIG mode) and
    vhpc-esx-10 (time-sliced)."""
    lab = start_lab(tmp_path_factory.mktemp("a100-lab"), "--a100-hosts", "2")
    yield lab
    stop_lab(lab)


# Full clones on the admission lab run this long once vCenter admits them (sim/README.md "Admission").
ADMISSION_CLONE_TIME = 1.0


@pytest.fixture(scope="session")
def admission_lab(tmp_path_factory):
    """The lab with a clone time: vCenter's admission limits (on in every lab) become visible."""
    lab = start_lab(tmp_path_factory.mktemp("admission-lab"), "--clone-time", f"{ADMISSION_CLONE_TIME}s")
    yield lab
    stop_lab(lab)


@pytest.fixture(scope="session")
def stock_lab(tmp_path_factory):
    """The stock govmomi simulator on the lab's inventory (`vhpc-sim --stock`): none of the lab's behaviour."""
    lab = start_lab(tmp_path_factory.mktemp("stock-lab"), "--stock")
    yield lab
    stop_lab(lab)


@pytest.fixture
def stock_cli(stock_lab, run_cli):
    """The CLI on the stock simulator, never prompting: returns (exit code, stdout, stderr)."""
    return lambda *argv: run_cli("--vcenter-conf", stock_lab.conf, "--yes", *argv)


@pytest.fixture(scope="session", autouse=True)
def own_cache_folder(tmp_path_factory):
    """What the toolkit keeps on this machine (the clone times it measured, VM names for completion)
    stays in the session's folder: runs do not depend on earlier ones, nor leave anything behind."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


FAULT_TOTALS = {"injected": 0, "dropped": 0, "tests": 0}   # over the session: the README's figures


@pytest.fixture
def faults(lab):
    """The shared lab's fault injection (lab.set_faults), cleared when the test ends."""
    def count():
        now = lab.faults()
        FAULT_TOTALS["injected"] += now["injected"]
        FAULT_TOTALS["dropped"] += now["dropped"]

    def set_faults(**settings):
        count()   # setting them starts the counters again
        return lab.set_faults(**settings)

    FAULT_TOTALS["tests"] += 1
    yield set_faults
    count()
    lab.set_faults()


@pytest.fixture
def deny(lab):
    """Deny privileges on the shared lab for one test (lab.deny_privileges); all granted again after it."""
    yield lab.deny_privileges
    lab.deny_privileges()


def pytest_terminal_summary(terminalreporter):
    if FAULT_TOTALS["tests"]:
        terminalreporter.write_line(
            f"lab faults: {count(FAULT_TOTALS['injected'], 'injected call/task failure')} and "
            f"{count(FAULT_TOTALS['dropped'], 'dropped connection')} in {count(FAULT_TOTALS['tests'], 'test')}")


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    from vhpc_toolkit.cli.main import main

    def run(*argv: str):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="module")
def session(lab):
    """A pyVmomi session on the shared lab, for checking what the toolkit did."""
    s = lab.connect()
    yield s
    s.close()


@pytest.fixture
def cli(lab, run_cli):
    """The CLI on the shared lab, never prompting: returns (exit code, stdout, stderr)."""
    return lambda *argv: run_cli("--vcenter-conf", lab.conf, "--yes", *argv)
