"""The lab pages property reads as vCenter does (sim/collector_pages.go), checked with pyVmomi alone."""
from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

PC = vmodl.query.PropertyCollector


@pytest.fixture(scope="module")
def si(lab):
    from pyVim.connect import Disconnect

    si = lab.connect_plain()
    yield si
    Disconnect(si)


def _spec(content):
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine, vim.Folder,
                                                                        vim.HostSystem], True)
    traverse = PC.TraversalSpec(name="v", path="view", skip=False, type=vim.view.ContainerView)
    return view, PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                               propSet=[PC.PropertySpec(type=t, pathSet=["name"])
                                        for t in (vim.VirtualMachine, vim.Folder, vim.HostSystem)])


def test_max_objects_pages_and_tokens_are_good_once(si):
    content = si.RetrieveContent()
    pc = content.propertyCollector
    view, spec = _spec(content)
    try:
        everything = pc.RetrieveContents([spec])          # RetrieveProperties: never paged
        first = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=5))
        assert len(first.objects) == 5 and first.token
        names, result = [o.propSet[0].val for o in first.objects], first
        while result.token:
            token = result.token
            result = pc.ContinueRetrievePropertiesEx(token)
            names += [o.propSet[0].val for o in result.objects]
            assert len(result.objects) <= 5
        assert sorted(names) == sorted(o.propSet[0].val for o in everything)
        with pytest.raises(vmodl.fault.InvalidArgument):   # a used token
            pc.ContinueRetrievePropertiesEx(token)
        unpaged = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions())
        assert unpaged.token is None and len(unpaged.objects) == len(everything)
        again = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=5))
        pc.CancelRetrievePropertiesEx(again.token)
        with pytest.raises(vmodl.fault.InvalidArgument):   # cancelled
            pc.ContinueRetrievePropertiesEx(again.token)
        with pytest.raises(vmodl.fault.InvalidArgument):
            pc.CancelRetrievePropertiesEx("no-such-token")
        with pytest.raises(vmodl.fault.InvalidArgument):
            pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=-1))
    finally:
        view.DestroyView()


def test_a_token_belongs_to_its_collector(si):
    content = si.RetrieveContent()
    view, spec = _spec(content)
    other = content.propertyCollector.CreatePropertyCollector()
    try:
        first = content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=2))
        with pytest.raises(vmodl.fault.InvalidArgument):
            other.ContinueRetrievePropertiesEx(first.token)
        content.propertyCollector.CancelRetrievePropertiesEx(first.token)
    finally:
        other.DestroyPropertyCollector()
        view.DestroyView()
