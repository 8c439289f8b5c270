"""The programme guide in XMLTV: every community's channel, its loop's pages as programmes
with their start and stop times, from the page on air now to some hours ahead.

The head-end plays a loop from the moment it went on air, over and over, so a page's times
follow from the loop's `on_air_at` and the pages' lengths (tv_channel/loop.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from tv_channel.loop import Loop

LANG = "zh"


def channel_id(loop: Loop) -> str:
    """RFC 2838 style, as XMLTV asks: stable per community."""
    return f"{loop.code}.linli.tv"


def _xmltv_time(at: dt.datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y%m%d%H%M%S %z")


def airings(loop: Loop, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """(start, stop, page index) of every page on air between `start` and `end`."""
    if loop.seconds <= 0:
        return []
    into = max(0.0, (start - loop.on_air_at).total_seconds())
    cycle = loop.on_air_at + dt.timedelta(seconds=(into // loop.seconds) * loop.seconds)
    found: list[tuple[dt.datetime, dt.datetime, int]] = []
    while cycle < end:
        for i, page in enumerate(loop.pages):
            begins = cycle + dt.timedelta(seconds=page.start_s)
            ends = begins + dt.timedelta(seconds=page.seconds)
            if ends > start and begins < end:
                found.append((begins, ends, i))
        cycle += dt.timedelta(seconds=loop.seconds)
    return found


def guide(
    loops: Sequence[Loop],
    *,
    now: dt.datetime,
    hours: int,
    zone: ZoneInfo,
    base_url: str,
    genres: Mapping[str, str],
) -> bytes:
    """`genres`: the guide's category for each kind of page (content/locales tv.channel.genres)."""
    tv = ET.Element(
        "tv",
        {"source-info-name": "Linli", "generator-info-name": "Linli", "generator-info-url": base_url},
    )
    for loop in loops:
        channel = ET.SubElement(tv, "channel", {"id": channel_id(loop)})
        ET.SubElement(channel, "display-name", {"lang": LANG}).text = loop.name
        ET.SubElement(channel, "url").text = f"{base_url}/tv/channels/{loop.community_id}/index.m3u8"
    end = now + dt.timedelta(hours=hours)
    for loop in loops:
        for begins, ends, i in airings(loop, now, end):
            page = loop.pages[i]
            programme = ET.SubElement(
                tv,
                "programme",
                {"start": _xmltv_time(begins, zone), "stop": _xmltv_time(ends, zone), "channel": channel_id(loop)},
            )
            ET.SubElement(programme, "title", {"lang": LANG}).text = page.title
            ET.SubElement(programme, "desc", {"lang": LANG}).text = page.description or page.title
            ET.SubElement(programme, "category", {"lang": LANG}).text = genres.get(page.kind, genres.get("welcome", ""))
    ET.indent(tv)
    body = ET.tostring(tv, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n' + body + "\n").encode()
