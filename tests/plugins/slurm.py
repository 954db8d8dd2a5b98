"""A real Slurm controller for the tests and the benchmark: munged and slurmctld run from their
binaries (Debian's slurmctld, slurmd, slurm-client, munge; scripts/install-slurm.sh installs them)
and are stopped by PID.

The controller runs on this machine with short power-saving timings (docs/slurm.md has the
recipe's traps); the nodes are the lab's guests, whose slurmd fetches its configuration from it.
Its slurm.conf includes what `vhpc_toolkit slurm config --write` writes for the cluster file.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")   # munge's default, where the guests' slurmd looks too
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "scontrol", "sbatch", "sinfo")

# Slurm 22.05 starts a batch job on nodes that were powered up only from its 30 s periodic check;
# when a PrologSlurmctld ends, it starts it at once. This one waits for the job's nodes to register
# (or for the job to leave CONFIGURING, or a node to go DOWN: a requeued job waits for it), so jobs
# start seconds after their nodes, as in Slurm 23.02+. A test-harness measure, not the toolkit's.
PROLOG = """#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export SLURM_CONF=@CONF@
exec </dev/null >>@LOG@ 2>&1
echo "$(date +%T.%N) job $SLURM_JOB_ID on $SLURM_JOB_NODELIST"
end=$(( $(date +%s) + 120 ))
while [ "$(date +%s)" -lt "$end" ]; do
  scontrol -o show job "$SLURM_JOB_ID" 2>/dev/null | grep -q 'JobState=CONFIGURING ' || exit 0
  states=$(scontrol -o show node "$SLURM_JOB_NODELIST" 2>/dev/null | grep -o 'State=[^ ]*')
  [ -n "$states" ] || exit 0
  echo "$states" | grep -qE 'State=(DOWN|FAIL)' && exit 0
  echo "$states" | grep -qE 'POWERING_UP|POWERED_DOWN|POWER_UP|NOT_RESPONDING' || break
  sleep 0.2
done
echo "$(date +%T.%N) job $SLURM_JOB_ID: $(scontrol -o show node "$SLURM_JOB_NODELIST" | grep -o 'State=[^ ]*' | tr '\n' ' ')"
exit 0
"""

CONF = """ClusterName=vhpc
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=@PORT@
SlurmdPort=@SLURMD_PORT@
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued job may start again cred_expire+1 s later (default 120)
AuthInfo=cred_expire=10
StateSaveLocation=@DIR@/state
SlurmctldPidFile=@DIR@/run/slurmctld.pid
SlurmctldLogFile=@DIR@/log/slurmctld.log
SlurmctldDebug=info
DebugFlags=Power
# the nodes' side, in their guests
SlurmdSpoolDir=/var/spool/slurmd
SlurmdPidFile=/run/slurmd.pid
SlurmdLogFile=/var/log/slurm/slurmd.log
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=5
ReturnToService=2
PrivateData=cloud
# each guest's slurmd listens on its own loopback address (NodeAddr), all on one port; slurmctld
# on 127.0.0.1 only (NoInAddrAny does not apply to slurmctld, NoCtldInAddrAny does)
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
# the guests see this machine's CPUs and memory, not their VMs' sizes
SlurmdParameters=config_overrides
SlurmctldParameters=enable_configless,idle_on_node_suspend,power_save_interval=1,power_save_min_interval=0
PrologSlurmctld=@DIR@/prolog_ctld.sh
ResumeRate=0
SuspendRate=0
TreeWidth=65533
Include nodes.conf
Include partitions.conf
Include power_save.conf
"""


def missing() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def install() -> str | None:
    """Install Slurm and munge when missing (scripts/install-slurm.sh); None when they are there, else why not."""
    if not missing():
        return None
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        return "Slurm is not installed and this user cannot install it (not root, no sudo)"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install-slurm.sh")], capture_output=True, text=True)
    if done.returncode != 0 or missing():
        return f"Slurm could not be installed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None


def wait_for(condition, timeout: float, what: str, every: float = 0.25, error: type = AssertionError):
    """``condition()``'s first true value, asked every ``every`` s; ``error`` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise error(f"{what}: not within {timeout:.0f}s")


def vms(session, names) -> dict:
    """The VMs named ``names`` that vCenter holds, by name (read with pyVmomi)."""
    from pyVmomi import vim

    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return {vm.name: vm for vm in view.view if vm.name in names}
    finally:
        view.Destroy()


def slurm_log(cluster: Path) -> str:
    """What the Slurm programs wrote to cluster file ``cluster``'s log, <stem>.slurm.log next to it ("" if none)."""
    log = Path(cluster).with_name(Path(cluster).stem + ".slurm.log")
    return log.read_text() if log.exists() else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after 5 s; a zombie (nobody reaps here) counts as stopped."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return
        except (OSError, IndexError):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass
class Slurm:
    dir: Path
    port: int
    munge_key: Path                   # the key the guests need (in the template's /etc/munge)
    pids: dict = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.dir / "etc" / "slurm.conf"

    @property
    def controller(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self) -> dict:
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def run(self, *argv: str, check: bool = True) -> str:
        done = subprocess.run(list(argv), env=self.env(), capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def node_states(self, hostlist: str) -> dict[str, str]:
        out = self.run("sinfo", "-h", "-N", "-n", hostlist, "-o", "%N %T")
        return dict(line.split(None, 1) for line in out.splitlines() if line.strip())

    def node_reason(self, node: str) -> str:
        out = self.run("scontrol", "-o", "show", "node", node)
        m = re.search(r" Reason=(.*?)(?: \[| [A-Z][A-Za-z]+=|$)", out)
        return m.group(1) if m else ""

    def job(self, job_id: str) -> dict[str, str]:
        out = self.run("scontrol", "-o", "show", "job", job_id, check=False)
        return dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", out))

    def sbatch(self, *argv: str) -> str:
        return self.run("sbatch", "--parsable", *argv).strip().split(";")[0]


SITE_KEY = Path("/etc/munge/munge.key")   # made by Debian's munge package


def _start_munge(workdir: Path) -> tuple[Path, int | None]:
    """munged on the default socket, with the machine's munge key (so a munged already answering
    there, Debian's or one a killed run left, has the same key): reused when there is one."""
    if MUNGE_SOCKET.exists() and subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return SITE_KEY, None
    key = workdir / "munge.key"   # munged wants a key its own user owns: a copy
    key.write_bytes(SITE_KEY.read_bytes() if SITE_KEY.exists() else os.urandom(1024))
    key.chmod(0o600)
    MUNGE_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["munged", "--foreground", f"--key-file={key}", f"--socket={MUNGE_SOCKET}",
                             f"--pid-file={workdir}/run/munged.pid", f"--seed-file={workdir}/run/munged.seed",
                             f"--log-file={workdir}/log/munged.log"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "log" / "munged.out", "wb"),
                            start_new_session=True)
    for _ in range(100):
        if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
            return key, proc.pid
        time.sleep(0.05)
    _stop(proc.pid)
    raise RuntimeError(f"munged did not start: {(workdir / 'log' / 'munged.out').read_text()[-500:]}")


def start_slurm(workdir: Path, cluster_file: Path, vcenter_conf: Path, port: int | None = None) -> Slurm:
    """munged and slurmctld listening on ``port`` for ``cluster_file`` (whose controller: it should
    name; its `slurm config` is included), in ``workdir``."""
    for sub in ("etc", "state", "run", "log"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    slurm = Slurm(dir=workdir, port=port or free_port(), munge_key=Path())
    subprocess.run([sys.executable, "-m", "vhpc_toolkit", "--vcenter-conf", str(vcenter_conf), "slurm", "config",
                    "--file", str(cluster_file), "--write", str(workdir / "etc")], check=True, capture_output=True)
    text = CONF.replace("@DIR@", str(workdir)).replace("@PORT@", str(slurm.port)) \
        .replace("@SLURMD_PORT@", str(free_port()))
    slurm.conf.write_text(text)
    prolog = workdir / "prolog_ctld.sh"
    prolog.write_text(PROLOG.replace("@CONF@", str(slurm.conf)).replace("@LOG@", str(workdir / "log" / "prolog.log")))
    prolog.chmod(0o755)
    slurm.munge_key, munged = _start_munge(workdir)
    if munged:
        slurm.pids["munged"] = munged
    ctld = subprocess.Popen(["slurmctld", "-D", "-c", "-f", str(slurm.conf)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "log" / "slurmctld.out", "wb"),
                            env=slurm.env(), start_new_session=True)
    slurm.pids["slurmctld"] = ctld.pid
    for _ in range(200):
        if "UP" in slurm.run("scontrol", "ping", check=False):
            return slurm
        if ctld.poll() is not None:
            break
        time.sleep(0.1)
    stop_slurm(slurm)
    raise RuntimeError(f"slurmctld did not start: {(workdir / 'log' / 'slurmctld.out').read_text()[-800:]}")


def stop_slurm(slurm: Slurm) -> None:
    for name in ("slurmctld", "munged"):
        if name in slurm.pids:
            _stop(slurm.pids.pop(name))


def cluster_file_for(example: Path, target: Path, port: int, **settings) -> Path:
    """A copy of cluster file ``example`` whose controller is this machine's ``port``, [_SLURM_] keys
    replaced by ``settings`` (short timings) and relative script paths made absolute."""
    text = example.read_text()
    text = re.sub(r"(?m)^controller:.*$", f"controller: 127.0.0.1:{port}", text)
    for key, value in settings.items():
        text = re.sub(rf"(?m)^{key}:.*$", f"{key}: {value}", text)
    text = re.sub(r"(?m)^script: (\.\./\S+)$", lambda m: f"script: {(example.parent / m.group(1)).resolve()}", text)
    target.write_text(text)
    return target


def take_template_munge_key(target: Path) -> None:
    """Remove what give_template_munge_key put in the template's disk."""
    target.unlink(missing_ok=True)
    try:
        target.parent.rmdir()
    except OSError:
        pass


def give_template_munge_key(guest_root: Path, template: str, key: Path) -> Path:
    """Put the site's munge key in the template's disk, as an administrator prepares a template."""
    target = guest_root / template / "etc" / "munge" / "munge.key"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    target.write_bytes(key.read_bytes())
    target.chmod(0o600)
    return target
