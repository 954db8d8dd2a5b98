"""Property reads decoded without pyVmomi's decoder where the values are plain.

pyVmomi decodes a RetrievePropertiesEx answer into typed objects at about half a
millisecond per VM: 5 s of CPU for a 10,000-VM vCenter, whatever the command. Most of
what large reads carry is plain (names, states, counts, references), and the standard
library's XML parser reads that an order of magnitude faster.

:func:`invoke` stands in for pyVmomi's ``SoapStubAdapter.InvokeMethod`` for the two
property-read methods: the request is pyVmomi's own, the answer is read here object by
object; an object with any value that is not plain (a data object, an array, a date, a
missingSet) is cut out of the answer byte for byte and decoded by pyVmomi, as are faults.
The result has the same shape as pyVmomi's RetrieveResult (objects, token; obj, propSet,
missingSet; name, val), so callers cannot tell the difference.

It leans on pyVmomi's internals (the stub's connection pool, its serializer and deserializer), so it
runs only on the pyVmomi releases it is tested with: pyproject.toml bounds pyVmomi to that range, and
on a release outside it (installed by hand) every read is left to pyVmomi, slower but right.
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from pyVmomi import VmomiSupport
from pyVmomi.SoapAdapter import XML_ENCODING, SoapResponseDeserializer

# The pyVmomi releases this reader's tests pass with (scripts/test-pyvmomi.sh runs them on each);
# pyproject.toml requires pyvmomi>=PYVMOMI_TESTED[0],<PYVMOMI_BELOW (tests/unit/test_packaging.py).
PYVMOMI_TESTED = ("8.0.1.0", "8.0.3.0.1", "9.0.0.0", "9.1.0.0", "9.1.1.0")
PYVMOMI_BELOW = "9.2"


def _release(version: str) -> tuple[int, ...]:
    """``9.1.1.0`` -> (9, 1, 1, 0); a non-numeric part ends it (``9.2.0rc1`` -> (9, 2))."""
    out = []
    for part in version.split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def supported(version: str) -> bool:
    """Whether pyVmomi ``version`` is in the tested range."""
    return _release(PYVMOMI_TESTED[0]) <= _release(version) < _release(PYVMOMI_BELOW)


def _installed_pyvmomi() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyvmomi")
    except PackageNotFoundError:   # pyVmomi importable without its metadata: trust nothing
        return "0"


METHODS = frozenset({"RetrievePropertiesEx", "ContinueRetrievePropertiesEx"}) if supported(_installed_pyvmomi()) \
    else frozenset()

_SOAP, _VIM = "{http://schemas.xmlsoap.org/soap/envelope/}", "{urn:vim25}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_PRIMITIVE = {"string": str, "boolean": lambda t: t == "true", "int": int, "long": int, "short": int,
              "byte": int, "float": float, "double": float}


@dataclass
class Prop:
    name: str
    val: Any


@dataclass
class Content:
    obj: Any
    propSet: list[Prop] = field(default_factory=list)
    missingSet: list = field(default_factory=list)


@dataclass
class Result:
    objects: list = field(default_factory=list)
    token: str | None = None


class _NotPlain(Exception):
    """A value this reader leaves to pyVmomi."""


def invoke(stub, mo, info, args, outer) -> tuple[int, Any]:
    """(HTTP status, result or fault) of one property read, as SoapStubAdapter.InvokeMethod returns.

    Network errors are raised as pyVmomi raises them (the caller retries reads once)."""
    headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId,
               "Content-Type": f"text/xml; charset={XML_ENCODING}", **(getattr(stub, "_customHeaders", None) or {})}
    body = stub.SerializeRequest(mo, info, args)
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
    except Exception:
        conn.close()
        stub.DropConnections()
        raise
    stub.ReturnConnection(conn)
    if resp.status == 200:
        try:
            return 200, _decode(data, info, outer)
        except (_NotPlain, ET.ParseError, AttributeError, KeyError, ValueError):
            pass   # anything unexpected: pyVmomi reads the whole answer
    return resp.status, SoapResponseDeserializer(outer).Deserialize(io.BytesIO(data), info.result)


def _decode(data: bytes, info, outer) -> Result:
    ret = ET.fromstring(data).find(f"{_SOAP}Body/*/{_VIM}returnval")
    if ret is None:      # no objects at all
        return Result()
    refs: dict[tuple[str, str], Any] = {}

    def ref(kind: str, moid: str):
        key = (kind, moid)
        if key not in refs:
            refs[key] = VmomiSupport.GetWsdlType("urn:vim25", kind)(moid, outer)
        return refs[key]

    token = ret.findtext(f"{_VIM}token") or None
    objects: list = []
    left: list[int] = []          # positions of the objects pyVmomi must decode
    for i, oc in enumerate(ret.iterfind(f"{_VIM}objects")):
        try:
            if oc.find(f"{_VIM}missingSet") is not None:
                raise _NotPlain("missingSet")
            obj = oc.find(f"{_VIM}obj")
            props = [Prop(p.findtext(f"{_VIM}name"), _value(p.find(f"{_VIM}val"), ref))
                     for p in oc.iterfind(f"{_VIM}propSet")]
            objects.append(Content(ref(obj.get("type"), obj.text), props))
        except _NotPlain:
            objects.append(None)
            left.append(i)
    if left:
        decoded = SoapResponseDeserializer(outer).Deserialize(io.BytesIO(_keep_objects(data, left)), info.result)
        for i, oc in zip(left, decoded.objects, strict=True):
            objects[i] = oc
    return Result(objects, token)


def _value(val: ET.Element, ref) -> Any:
    kind = (val.get(_XSI_TYPE) or "").split(":")[-1]
    if kind == "ManagedObjectReference":
        return ref(val.get("type"), val.text or "")
    if len(val):
        raise _NotPlain(kind)
    text = val.text or ""
    if kind in _PRIMITIVE:
        return _PRIMITIVE[kind](text)
    if _is_enum(kind):
        return text        # pyVmomi's enum values are strings too
    raise _NotPlain(kind)  # dates, binary, a data object with no fields set, ...


_ENUMS: dict[str, bool] = {}


def _is_enum(kind: str) -> bool:
    if kind not in _ENUMS:
        try:
            _ENUMS[kind] = issubclass(VmomiSupport.GetWsdlType("urn:vim25", kind), VmomiSupport.Enum)
        except (KeyError, TypeError, AttributeError):
            _ENUMS[kind] = False
    return _ENUMS[kind]


def _keep_objects(data: bytes, keep: list[int]) -> bytes:
    """The answer with only the objects at positions ``keep``: everything before the first
    <objects> and after the last stays as it is (envelope, namespaces, token)."""
    spans: list[list[int]] = []
    depth = [0]
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name, attrs):
        depth[0] += 1
        if depth[0] == 5 and name == "urn:vim25 objects":   # Envelope/Body/Response/returnval/objects
            spans.append([parser.CurrentByteIndex, None])

    def end(name):
        if depth[0] == 5 and name == "urn:vim25 objects":
            spans[-1][1] = parser.CurrentByteIndex
        depth[0] -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.Parse(data, True)
    # CurrentByteIndex at an end tag is where "</...objects>" starts: the element ends at the next '>'.
    bounds = [(s, data.index(b">", e) + 1) for s, e in spans]
    return data[:bounds[0][0]] + b"".join(data[bounds[i][0]:bounds[i][1]] for i in keep) + data[bounds[-1][1]:]
