"""The community channel as the head-end and the set-top-box middleware take it: a staff
member publishes, a durable job rebuilds the loop, ffprobe reads the HLS the way a player
would, xmltv-util's tv_validate_file accepts the guide, and the feed says the same."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from backend.community.models import Community
from backend.db import utcnow
from backend.jobs import Job, JobStatus
from tests.conftest import GRID_WORKER, Api, Database, run_due_jobs

BUILD_HANG_S = 180  # a first build takes about 15 s on a quiet machine; CI once took longer

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the engines' part is in tests/bulletin


async def xingfu(db: Database) -> int:
    async with db.factory() as session:
        found = await session.scalar(select(Community.id).where(Community.code == "xingfu"))
    assert found is not None
    return found


async def publish(api: Api, community_id: int, title: str, plain: str, **more: Any) -> str:
    result = await api.op(
        "staff/PublishAnnouncement",
        {
            "input": {
                "communityId": str(community_id),
                "kind": "ANNOUNCEMENT",
                "title": title,
                "body": plain,
                "plainText": plain,
                **more,
            }
        },
        await api.sign_in(GRID_WORKER),
    )
    assert result["data"]["publishAnnouncement"]["__typename"] == "Announcement", result
    return str(result["data"]["publishAnnouncement"]["id"])


async def download(api: Api, community_id: int, into: Path) -> tuple[str, list[tuple[float, Path]]]:
    """The playlist and each segment (its length as the playlist says, where it is on disk)."""
    playlist = await api.client.get(f"/tv/channels/{community_id}/index.m3u8")
    assert playlist.status_code == 200, playlist.text
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    segments = []
    lines = playlist.text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            uri = lines[i + 1]
            got = await api.client.get(f"/tv/channels/{community_id}/{uri}")
            assert got.status_code == 200, uri
            path = into / uri.replace("/", "_")
            path.write_bytes(got.content)
            segments.append((float(line[8:].split(",")[0]), path))
    return playlist.text, segments


def probe(path: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def loudness(path: Path) -> float:
    """The segment's mean volume in dB (about -91 for digital silence)."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(path), "-af", "volumedetect", "-vn", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    found = re.search(r"mean_volume: (-?[\d.]+) dB", out.stderr)
    assert found, out.stderr
    return float(found.group(1))


async def test_a_published_notice_goes_on_air_in_a_loop_a_player_reads_and_the_guide_matches(
    api: Api, db: Database, tmp_path: Path
) -> None:
    community_id = await xingfu(db)
    await publish(api, community_id, "燃气安全检查", "下周一起燃气公司上门查燃气，请家里留人。")
    await api.settle()
    # Nothing is built on request: before the job, there is no loop to play.
    assert (await api.client.get(f"/tv/channels/{community_id}/index.m3u8")).status_code == 404
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)

    playlist, segments = await download(api, community_id, tmp_path)
    assert "#EXT-X-ENDLIST" in playlist  # the head-end plays the whole loop, then again
    first = probe(segments[0][1], "-show_streams")["streams"]
    video = next(s for s in first if s["codec_type"] == "video")
    audio = next(s for s in first if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert audio["codec_name"] == "aac"
    # Continuous: each segment's pictures start where the one before ended.
    expected = None
    for length, path in segments:
        start = float(probe(path, "-select_streams", "v", "-show_streams")["streams"][0]["start_time"])
        if expected is not None:
            assert start == pytest.approx(expected, abs=0.05), path.name
        expected = start + length
    total = sum(length for length, _ in segments)
    # The narration is speech, not silence.
    assert loudness(segments[0][1]) > -45

    # The guide: every channel, this loop's pages as programmes, and tv_validate_file agrees.
    got = await api.client.get("/tv/guide.xml")
    assert got.status_code == 200
    guide_file = tmp_path / "guide.xml"
    guide_file.write_bytes(got.content)
    checked = await asyncio.to_thread(
        subprocess.run,
        ["tv_validate_file", str(guide_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "XMLTV_SUPPLEMENT": "/usr/share/xmltv"},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tv = ET.fromstring(got.content)
    channel = tv.find("channel[@id='xingfu.linli.tv']")
    assert channel is not None and channel.findtext("display-name") == "幸福社区频道"
    programmes = [p for p in tv.findall("programme") if p.get("channel") == "xingfu.linli.tv"]
    titles = [p.findtext("title") for p in programmes]
    assert "燃气安全检查" in titles and "常用电话" in titles and "活动和课程" in titles

    def at(stamp: str) -> dt.datetime:
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S %z")

    # One pass of the loop in the guide lasts as long as the playlist plays.
    starts = [i for i, p in enumerate(programmes) if p.findtext("title") == "燃气安全检查"]
    assert len(starts) >= 2
    one_pass = at(programmes[starts[1]].get("start", "")) - at(programmes[starts[0]].get("start", ""))
    assert one_pass.total_seconds() == pytest.approx(total, abs=0.1)
    for before, after in zip(programmes, programmes[1:], strict=False):
        assert before.get("stop") == after.get("start")  # no gaps, no overlaps


async def test_a_rebuild_never_cuts_off_the_loop_on_air_and_an_unchanged_channel_is_not_rebuilt(
    api: Api, db: Database, tmp_path: Path
) -> None:
    community_id = await xingfu(db)
    notice = await publish(api, community_id, "电梯检修", "周四上午1号楼电梯检修。")
    await api.settle()
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)
    old_playlist, old_segments = await download(api, community_id, tmp_path)

    withdrawn = await api.op("staff/WithdrawAnnouncement", {"id": notice}, await api.sign_in(GRID_WORKER))
    assert withdrawn["data"]["withdrawAnnouncement"]["__typename"] == "Announcement"
    await api.settle()
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)
    new_playlist, _ = await download(api, community_id, tmp_path)
    assert new_playlist != old_playlist
    # A player still part-way through the old loop gets the rest of it.
    for line in old_playlist.splitlines():
        if line.endswith(".ts"):
            assert (await api.client.get(f"/tv/channels/{community_id}/{line}")).status_code == 200
    guide = ET.fromstring((await api.client.get("/tv/guide.xml")).content)
    assert "电梯检修" not in [p.findtext("title") for p in guide.findall("programme")]

    # Nothing changed: the job runs, the same loop stays on air.
    async with db.factory() as session:
        session.add(Job(kind="tv.rebuild", payload={"community_id": community_id}, run_at=utcnow()))
        await session.commit()
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)
    assert (await download(api, community_id, tmp_path))[0] == new_playlist
    assert old_segments  # (the first loop had segments to play)


async def test_a_notice_with_an_end_is_taken_off_when_it_ends(api: Api, db: Database) -> None:
    community_id = await xingfu(db)
    until = utcnow() + dt.timedelta(hours=3)
    await publish(api, community_id, "临时停电", "今天下午停电三小时。", until=until.isoformat())
    await api.settle()
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)
    async with db.factory() as session:
        next_rebuild = await session.scalar(
            select(Job).where(Job.kind == "tv.rebuild", Job.status == JobStatus.PENDING)
        )
    assert next_rebuild is not None
    assert next_rebuild.run_at == pytest.approx(until + dt.timedelta(seconds=1), abs=dt.timedelta(seconds=1))


async def test_the_feed_carries_what_the_channel_shows(api: Api, db: Database) -> None:
    community_id = await xingfu(db)
    await publish(api, community_id, "燃气安全检查", "下周一起燃气公司上门查燃气，请家里留人。")
    await api.settle()
    await run_due_jobs(api, db, ("tv.rebuild",), hang_after_s=BUILD_HANG_S)
    feed = (await api.client.get(f"/tv/channels/{community_id}/feed.json")).json()
    assert feed["community"]["name"] == "幸福社区"
    assert "燃气安全检查" in [a["title"] for a in feed["announcements"]]
    assert {"kind": "police", "name": "幸福路派出所", "phone": "029-88881110", "hours": "24小时"} in feed["contacts"]
    lunch = next(m for m in feed["menu"] if m["meal"] == "lunch")
    assert lunch["orderBefore"] == "10:00" and all(d["priceFen"] > 0 for d in lunch["dishes"])
    assert [e["title"] for e in feed["events"]][:1] == ["太极拳班"]
    on_air = feed["onAir"]
    assert on_air["playlist"].endswith(f"/tv/channels/{community_id}/index.m3u8")
    assert sum(p["seconds"] for p in on_air["pages"]) == on_air["loopSeconds"]
    assert (await api.client.get("/tv/channels/999999/feed.json")).status_code == 404
