"""The lab's ESXi hosts and guests as vSphere has them, with pyVmomi directly (not the toolkit).

- Each host serves guest file transfers itself, on its management address (vmk0), with its own
  certificate, whose SHA-1 is the host's summary.config.sslThumbprint; transfer URLs name the
  host by its inventory name.
- Guest customization: interim address, CustomizationStartedEvent, a reboot, the customized
  address, CustomizationSucceeded (or a CustomizationFailed subtype, the interim address kept),
  seen through QueryEvents and event history collectors.
- Guest operations are unavailable for a while after Tools starts (/debug/guestops here).
- Long clones (--clone-time, a lab of their own) run, and CancelTask stops them.
Everything made here is removed afterwards: the lab is shared by the test session.
"""
from __future__ import annotations

import hashlib
import socket
import ssl
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from tests.integration.test_lab_search import by_name
from tests.plugins.lab import CUSTOMIZATION_FAILS, start_lab, stop_lab

AUTH = vim.vm.guest.NamePasswordAuthentication(username="root", password="VMware1!")
CUSTOMIZATION_EVENTS = ["CustomizationStartedEvent", "CustomizationSucceeded", "CustomizationFailed"]


def sha1_thumbprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


def updates(content, obj, paths, done, rounds=40):
    """Every (path, value) change of obj's paths, in order, through WaitForUpdatesEx, until done(changes)."""
    pc = content.propertyCollector.CreatePropertyCollector()
    q = vmodl.query.PropertyCollector
    pc.CreateFilter(q.FilterSpec(objectSet=[q.ObjectSpec(obj=obj)],
                                 propSet=[q.PropertySpec(type=type(obj), pathSet=paths)]), True)
    version, changes = "", []
    try:
        for _ in range(rounds):
            update = pc.WaitForUpdatesEx(version, q.WaitOptions(maxWaitSeconds=10))
            if update is None:
                continue
            version = update.version
            for fs in update.filterSet:
                for oc in fs.objectSet:
                    changes += [(c.name, c.val) for c in oc.changeSet]
            if done(changes):
                return changes
    finally:
        pc.DestroyPropertyCollector()
    raise AssertionError(f"not done after {rounds} updates: {changes}")


@pytest.fixture(scope="module")
def env(session):
    content = session.content
    dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
    pool = by_name(content, vim.ClusterComputeResource, "COMPUTE_GPU_Cluster").resourcePool
    tmpl = by_name(content, vim.VirtualMachine, "vhpc_clone")
    made = []

    def clone(name, host_name, customization=None, power_on=True):
        host = by_name(content, vim.HostSystem, host_name)
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool, host=host), powerOn=power_on,
                                customization=customization)
        task = tmpl.CloneVM_Task(folder=dc.vmFolder, name=name, spec=spec)
        WaitForTask(task)
        made.append(task.info.result)
        return task.info.result

    yield content, dc, clone
    for vm in made:
        if vm.runtime.powerState == "poweredOn":
            WaitForTask(vm.PowerOffVM_Task())
        WaitForTask(vm.Destroy_Task())


def static_ip(ip):
    c = vim.vm.customization
    return c.Specification(
        identity=c.LinuxPrep(hostName=c.VirtualMachineNameGenerator(), domain="hpc.local"),
        globalIPSettings=c.GlobalIPSettings(),
        nicSettingMap=[c.AdapterMapping(adapter=c.IPSettings(ip=c.FixedIp(ipAddress=ip), subnetMask="255.255.255.0"))])


def wait_tools(content, vm):
    updates(content, vm, ["guest.toolsRunningStatus"],
            lambda ch: ch and ch[-1] == ("guest.toolsRunningStatus", "guestToolsRunning"))


# --- ESXi hosts: their own certificates and addresses ---------------------------------------------

def transfer_port(env, lab) -> int:
    """The port hosts serve transfers on (all the same, as ESXi's 443), from a transfer URL."""
    content, _, clone = env
    vm = clone(f"xfer-port-{uuid.uuid4().hex[:6]}", "vhpc-esx-02.hpc.vmware.com")
    wait_tools(content, vm)
    lab.post(f"/debug/guestops?vm={vm.name}&unavailable=0s")
    url = content.guestOperationsManager.fileManager.InitiateFileTransferToGuest(
        vm=vm, auth=AUTH, guestFilePath="/tmp/p", fileAttributes=vim.vm.guest.FileManager.FileAttributes(),
        fileSize=1, overwrite=True)
    return urlsplit(url).port


def test_each_host_has_its_own_certificate_on_its_management_address(env, lab):
    content, _, _ = env
    vcenter_ca = ssl.create_default_context(cafile=lab.settings["ca_file"])
    port = transfer_port(env, lab)
    thumbprints = set()
    for n in (1, 2, 8):
        host = by_name(content, vim.HostSystem, f"vhpc-esx-0{n}.hpc.vmware.com")
        vmk0 = host.config.network.vnic[0]
        assert vmk0.device == "vmk0" and vmk0.spec.ip.ipAddress == f"127.10.0.{n}"
        mgmt = [nc for nc in host.config.virtualNicManagerInfo.netConfig if nc.nicType == "management"]
        assert len(mgmt) == 1 and [v.spec.ip.ipAddress for v in mgmt[0].candidateVnic
                                   if v.key in mgmt[0].selectedVnic] == [f"127.10.0.{n}"]
        tp = host.summary.config.sslThumbprint
        assert tp and tp not in thumbprints
        thumbprints.add(tp)
        # The host presents that certificate; the vCenter's CA does not vouch for it.
        raw = ssl.get_server_certificate((f"127.10.0.{n}", port))
        assert sha1_thumbprint(ssl.PEM_cert_to_DER_cert(raw)) == tp
        with pytest.raises(ssl.SSLCertVerificationError):
            with socket.create_connection((f"127.10.0.{n}", port), timeout=10) as s:
                vcenter_ca.wrap_socket(s, server_hostname=host.name)


def test_transfer_urls_name_the_vms_host_which_alone_serves_them(env, lab):
    content, _, clone = env
    vm = clone(f"xfer-{uuid.uuid4().hex[:6]}", "vhpc-esx-03.hpc.vmware.com")
    wait_tools(content, vm)
    lab.post(f"/debug/guestops?vm={vm.name}&unavailable=0s")
    fm = content.guestOperationsManager.fileManager
    url = fm.InitiateFileTransferToGuest(vm=vm, auth=AUTH, guestFilePath="/tmp/hello",
                                         fileAttributes=vim.vm.guest.FileManager.FileAttributes(),
                                         fileSize=5, overwrite=True)
    parts = urlsplit(url)
    assert parts.hostname == "vhpc-esx-03.hpc.vmware.com" and parts.path == "/guestFile"
    with pytest.raises(socket.gaierror):   # the inventory name does not resolve here
        socket.getaddrinfo(parts.hostname, parts.port)
    pinned = ssl.create_default_context()
    pinned.check_hostname, pinned.verify_mode = False, ssl.CERT_NONE   # checked by thumbprint below

    def put(address, ctx):
        req = urllib.request.Request(f"https://{address}{parts.path}?{parts.query}", data=b"hello", method="PUT")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    vcenter = ssl.create_default_context(cafile=lab.settings["ca_file"])
    assert put(f"{lab.settings['server']}:{lab.settings['port']}", vcenter) == 404    # not vCenter's
    assert put(f"127.10.0.4:{parts.port}", pinned) == 404                              # not another host's
    assert sha1_thumbprint(ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.10.0.3", parts.port)))) \
        == vm.runtime.host.summary.config.sslThumbprint
    assert put(f"127.10.0.3:{parts.port}", pinned) == 200
    assert (lab.guest_root / vm.name / "tmp" / "hello").read_bytes() == b"hello"


# --- guest customization ---------------------------------------------------------------------------

def collector(content, dc):
    spec = vim.event.EventFilterSpec(
        entity=vim.event.EventFilterSpec.ByEntity(entity=dc, recursion="all"), eventTypeId=CUSTOMIZATION_EVENTS)
    c = content.eventManager.CreateCollectorForEvents(spec)
    c.SetCollectorPageSize(100)
    return c


def events_of(page, vm):
    return sorted((e for e in page or [] if e.vm and e.vm.vm == vm), key=lambda e: e.key)


def test_customization_reboots_then_reports_success(env):
    content, dc, clone = env
    hc = collector(content, dc)
    try:
        vm = clone(f"cust-{uuid.uuid4().hex[:6]}", "vhpc-esx-05.hpc.vmware.com", static_ip("192.0.2.41"))
        changes = updates(content, vm, ["guest.ipAddress", "guest.toolsRunningStatus"],
                          lambda ch: ("guest.ipAddress", "192.0.2.41") in ch)
        ips = [v for k, v in changes if k == "guest.ipAddress"]
        tools = [v for k, v in changes if k == "guest.toolsRunningStatus"]
        interim = next(i for i, ip in enumerate(ips) if ip and ip.startswith("127.100."))
        assert "" in ips[interim:] and ips[-1] == "192.0.2.41"        # interim, the reboot, the final address
        assert "guestToolsNotRunning" in tools[tools.index("guestToolsRunning"):]
        # The collector's latestPage through WaitForUpdatesEx: started, then succeeded.
        page = [v for k, v in updates(content, hc, ["latestPage"],
                                      lambda ch: len(events_of(ch[-1][1], vm)) >= 2) if k == "latestPage"][-1]
        evs = events_of(page, vm)
        assert [type(e).__name__ for e in evs] == ["vim.event.CustomizationStartedEvent",
                                                   "vim.event.CustomizationSucceeded"]
        assert all(vm.name in e.fullFormattedMessage and e.logLocation for e in evs)
        assert evs[0].host.name == "vhpc-esx-05.hpc.vmware.com" and evs[0].datacenter.name == "HPC_Datacenter"
        # QueryEvents for the VM, as Ansible's vmware_guest asks.
        found = content.eventManager.QueryEvents(vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self"),
            eventTypeId=["CustomizationSucceeded", "CustomizationFailed"]))
        assert [type(e).__name__ for e in found] == ["vim.event.CustomizationSucceeded"]
    finally:
        hc.DestroyCollector()


def test_failed_customization_keeps_the_interim_address(env):
    content, dc, clone = env
    hc = collector(content, dc)
    try:
        vm = clone(f"cust-{CUSTOMIZATION_FAILS}-{uuid.uuid4().hex[:6]}", "vhpc-esx-05.hpc.vmware.com",
                   static_ip("192.0.2.42"))
        page = [v for k, v in updates(content, hc, ["latestPage"],
                                      lambda ch: len(events_of(ch[-1][1], vm)) >= 2) if k == "latestPage"][-1]
        started, failed = events_of(page, vm)
        assert isinstance(started, vim.event.CustomizationStartedEvent)
        assert isinstance(failed, vim.event.CustomizationFailed)          # a subtype of it
        assert type(failed).__name__ == "vim.event.CustomizationNetworkSetupFailed"
        assert "network properties" in failed.fullFormattedMessage
        assert vm.guest.ipAddress.startswith("127.100.") and vm.guest.toolsRunningStatus == "guestToolsRunning"
        found = content.eventManager.QueryEvents(vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self"), eventTypeId=["CustomizationFailed"]))
        assert len(found) == 1
    finally:
        hc.DestroyCollector()


# --- guest operations right after Tools starts -----------------------------------------------------

def test_guest_operations_unavailable_until_the_agent_answers(env, lab):
    content, _, clone = env
    vm = clone(f"ops-{uuid.uuid4().hex[:6]}", "vhpc-esx-06.hpc.vmware.com")
    wait_tools(content, vm)
    pm = content.guestOperationsManager.processManager
    lab.post(f"/debug/guestops?vm={vm.name}&unavailable=60s")
    assert vm.guest.toolsRunningStatus == "guestToolsRunning"
    with pytest.raises(vim.fault.GuestOperationsUnavailable):
        pm.ListProcessesInGuest(vm=vm, auth=AUTH)
    lab.post(f"/debug/guestops?vm={vm.name}&unavailable=0s")
    assert pm.ListProcessesInGuest(vm=vm, auth=AUTH) == []


# --- long clones --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def slow_lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("slow-lab"), "--clone-time", "30s")
    yield lab
    stop_lab(lab)


def test_a_long_clone_runs_and_cancel_stops_it(slow_lab):
    s = slow_lab.connect()
    try:
        content = s.content
        dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
        pool = by_name(content, vim.ClusterComputeResource, "COMPUTE_GPU_Cluster").resourcePool
        tmpl = by_name(content, vim.VirtualMachine, "vhpc_clone")
        task = tmpl.CloneVM_Task(folder=dc.vmFolder, name="long-clone",
                                 spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
        assert task.info.state == "running" and task.info.cancelable
        task.CancelTask()
        with pytest.raises(vmodl.fault.RequestCanceled):
            WaitForTask(task)
        assert task.info.cancelled
        assert content.searchIndex.FindByInventoryPath("HPC_Datacenter/vm/long-clone") is None
        with pytest.raises(vim.fault.InvalidState):
            task.CancelTask()
    finally:
        s.close()
