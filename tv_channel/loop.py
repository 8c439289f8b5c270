"""The channel loop on disk: each community's pages drawn, narrated and encoded into one HLS
playlist (H.264 + AAC) that the cable head-end plays over and over.

A page is encoded once and kept by what it shows and says (`pages/<hash>/`), so a rebuild
after one announcement changes encodes that page only. A rebuild writes a new loop beside the
one on air (`channels/<community>/<version>/`), then swaps `current.json` in one rename: a
player part-way through the old playlist finishes it, and the old loop is kept a while.

A page is a still picture, so its video is one 2-second group of pictures encoded once and
repeated for as long as the page lasts (a tenth of the work of encoding every second). Video
and audio are joined separately so the loop's timestamps run on without a gap: the page's
narration is padded to the page's exact length, and the loop's audio is encoded once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import shutil
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.config import Settings
from backend.db import utcnow
from speech.tts import Synthesizer, voice_for
from tv_channel.pages import CHANNEL_LOCALE, Channel, Page
from tv_channel.render import Fonts, draw

log = logging.getLogger(__name__)

FPS = 25  # PAL, as Chinese cable broadcasts
GOP_S = 2  # a key frame every 2 s: pages last whole multiples of it, so segments cut cleanly
SEGMENT_S = 6
MIN_PAGE_S = 12  # long enough to read the heading and a line or two
LEAD_S = 1.0  # the narration starts a second after the page appears, and a second before it goes
AUDIO_RATE = 48_000
RENDER_VERSION = "1"  # bump when the drawing or encoding changes: every page is made again
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


class EncodeError(RuntimeError):
    pass


@dataclass(frozen=True)
class LoopPage:
    kind: str
    title: str
    description: str
    start_s: int  # from the start of the loop
    seconds: int
    key: str  # the page's cache key


@dataclass(frozen=True)
class Loop:
    """A loop as it went on air."""

    community_id: int
    code: str
    name: str
    version: str
    content: str  # what it shows and says, hashed: an unchanged channel is not rebuilt
    on_air_at: dt.datetime
    pages: tuple[LoopPage, ...]

    @property
    def seconds(self) -> int:
        return sum(p.seconds for p in self.pages)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "on_air_at": self.on_air_at.isoformat(), "pages": [asdict(p) for p in self.pages]}

    @classmethod
    def of_json(cls, data: dict[str, object]) -> Loop:
        pages = tuple(LoopPage(**p) for p in data["pages"])  # type: ignore[attr-defined]
        fields = {k: v for k, v in data.items() if k not in ("pages", "on_air_at")}
        return cls(**fields, on_air_at=dt.datetime.fromisoformat(str(data["on_air_at"])), pages=pages)  # type: ignore[arg-type]


async def run(args: list[str], timeout_s: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise EncodeError(f"{Path(args[0]).name} took longer than {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        raise EncodeError(f"{Path(args[0]).name} exited {proc.returncode}: {err.decode(errors='replace')[-500:]}")


def _chunks(text: str, most: int) -> list[str]:
    """Sentences joined up to what the speech engine takes at once."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        if out and len(out[-1]) + len(sentence) <= most:
            out[-1] += sentence
        else:
            out.extend(sentence[i : i + most] for i in range(0, len(sentence), most))
    return out


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


class ChannelLoops:
    def __init__(self, settings: Settings, synthesizer: Synthesizer) -> None:
        self.settings = settings
        self.synthesizer = synthesizer
        self.root = settings.tv_dir
        self.fonts = Fonts(settings.tv_font_file, settings.tv_font_bold_file, settings.tv_font_index)
        self.voice = voice_for(CHANNEL_LOCALE)
        self.rate = settings.tts_rate_slow  # the channel is for elders: slow speech

    # Reading what is on air (any replica, from the shared directory)

    def channel_dir(self, community_id: int) -> Path:
        return self.root / "channels" / str(community_id)

    def current(self, community_id: int) -> Loop | None:
        pointer = self.channel_dir(community_id) / "current.json"
        try:
            version = json.loads(pointer.read_text("utf-8"))["version"]
            manifest = self.channel_dir(community_id) / version / "manifest.json"
            return Loop.of_json(json.loads(manifest.read_text("utf-8")))
        except (OSError, ValueError, KeyError):
            return None

    def all_current(self) -> list[Loop]:
        base = self.root / "channels"
        ids = sorted(int(p.name) for p in base.iterdir() if p.name.isdigit()) if base.is_dir() else []
        return [loop for cid in ids if (loop := self.current(cid)) is not None]

    def playlist(self, loop: Loop) -> Path:
        return self.channel_dir(loop.community_id) / loop.version / "index.m3u8"

    def segment(self, community_id: int, version: str, name: str) -> Path | None:
        """A segment of a kept loop; None for anything else (no path leaves the channel)."""
        if not re.fullmatch(r"[0-9]{14}-[0-9a-f]{12}", version) or not re.fullmatch(r"seg_[0-9]{5}\.ts", name):
            return None
        path = self.channel_dir(community_id) / version / name
        return path if path.is_file() else None

    # Building

    def page_key(self, channel: Channel, page: Page) -> str:
        parts = (RENDER_VERSION, self.voice, str(self.rate), channel.name, channel.footer, *page.identity())
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:32]

    async def build(self, channel: Channel) -> Loop | None:
        """Put the channel's pages on air; None when they are what is already on air."""
        keys = [self.page_key(channel, page) for page in channel.pages]
        content = hashlib.sha256("|".join(keys).encode()).hexdigest()[:12]
        on_air = self.current(channel.community_id)
        if on_air is not None and on_air.content == content:
            return None
        made = [await self._page(channel, page, key) for page, key in zip(channel.pages, keys, strict=True)]
        now = utcnow()
        version = f"{now:%Y%m%d%H%M%S}-{content}"
        loop_pages, start = [], 0
        for page, (key, seconds) in zip(channel.pages, made, strict=True):
            loop_pages.append(LoopPage(page.kind, page.title, page.description, start, seconds, key))
            start += seconds
        loop = Loop(channel.community_id, channel.code, channel.name, version, content, now, tuple(loop_pages))
        await self._encode_loop(loop)
        self._swap(loop)
        self._tidy(channel.community_id)
        return loop

    async def _page(self, channel: Channel, page: Page, key: str) -> tuple[str, int]:
        """The page's picture, narration and video, made once; (key, seconds)."""
        folder = self.root / "pages" / key
        meta = folder / "meta.json"
        if meta.is_file():
            os.utime(meta)  # still in use: kept by the tidy-up
            return key, int(json.loads(meta.read_text("utf-8"))["seconds"])
        work = folder.with_name(f"{key}.{os.getpid()}.{id(page)}.tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            picture = await asyncio.to_thread(
                draw, page, channel_name=channel.name, footer=channel.footer, fonts=self.fonts, out=work / "page.png"
            )
            spoken = await self._narration(page.narration, work)
            seconds = max(MIN_PAGE_S, math.ceil((_wav_seconds(spoken) + 2 * LEAD_S) / GOP_S) * GOP_S)
            timeout = self.settings.tv_encode_timeout_s
            ffmpeg = self.settings.tv_ffmpeg
            await run(
                [ffmpeg, "-v", "error", "-y", "-i", str(spoken),
                 "-af", f"adelay={int(LEAD_S * 1000)}:all=1,apad,atrim=0:{seconds}",
                 "-ac", "2", "-ar", str(AUDIO_RATE), "-c:a", "pcm_s16le", str(work / "audio.wav")],
                timeout,
            )  # fmt: skip
            await run(
                [ffmpeg, "-v", "error", "-y", "-loop", "1", "-framerate", str(FPS), "-i", str(picture),
                 "-t", str(GOP_S), "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage",
                 "-pix_fmt", "yuv420p", "-g", str(FPS * GOP_S), "-keyint_min", str(FPS * GOP_S),
                 "-sc_threshold", "0", "-an", "-f", "mpegts", str(work / "gop.ts")],
                timeout,
            )  # fmt: skip
            (work / "meta.json").write_text(json.dumps({"seconds": seconds, "title": page.title}), "utf-8")
            try:
                work.rename(folder)
            except OSError:  # made at the same time by another build: theirs is the same
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return key, seconds

    async def _narration(self, text: str, work: Path) -> Path:
        parts = [await self.synthesizer.wav(chunk, self.voice, self.rate) for chunk in _chunks(text, 280)]
        out = work / "narration.wav"
        if len(parts) == 1:
            shutil.copyfile(parts[0], out)
        else:
            await run(["sox", *map(str, parts), str(out)], self.settings.tv_encode_timeout_s)
        return out

    async def _encode_loop(self, loop: Loop) -> None:
        folder = self.channel_dir(loop.community_id) / loop.version
        work = folder.with_name(f"{loop.version}.tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        pages = [self.root / "pages" / p.key for p in loop.pages]
        repeats = [(self.root / "pages" / p.key / "gop.ts", p.seconds // GOP_S) for p in loop.pages]
        (work / "video.txt").write_text("".join(f"file '{gop}'\n" * n for gop, n in repeats), "utf-8")
        (work / "audio.txt").write_text("".join(f"file '{p / 'audio.wav'}'\n" for p in pages), "utf-8")
        try:
            await run(
                [self.settings.tv_ffmpeg, "-v", "error", "-y",
                 "-f", "concat", "-safe", "0", "-i", str(work / "video.txt"),
                 "-f", "concat", "-safe", "0", "-i", str(work / "audio.txt"),
                 "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "96k",
                 "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
                 "-hls_base_url", f"{loop.version}/",
                 "-hls_segment_filename", str(work / "seg_%05d.ts"), str(work / "index.m3u8")],
                self.settings.tv_encode_timeout_s,
            )  # fmt: skip
            (work / "video.txt").unlink()
            (work / "audio.txt").unlink()
            (work / "manifest.json").write_text(json.dumps(loop.as_json(), ensure_ascii=False), "utf-8")
            work.rename(folder)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise

    def _swap(self, loop: Loop) -> None:
        pointer = self.channel_dir(loop.community_id) / "current.json"
        tmp = pointer.with_name(f"current.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": loop.version}), "utf-8")
        os.replace(tmp, pointer)  # one rename: a reader sees the old loop or the new, never half
        log.info("channel loop on air", extra={"community_id": loop.community_id, "version": loop.version})

    def _tidy(self, community_id: int) -> None:
        """Keep the newest loops; drop pages no kept loop of any channel uses."""
        folder = self.channel_dir(community_id)
        versions = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".tmp"))
        for old in versions[: -max(1, self.settings.tv_keep_loops)]:
            shutil.rmtree(old, ignore_errors=True)
        used: set[str] = set()
        for manifest in (self.root / "channels").glob("*/*/manifest.json"):
            try:
                used |= {p["key"] for p in json.loads(manifest.read_text("utf-8"))["pages"]}
            except (OSError, ValueError, KeyError):
                continue
        # A page made in the last hour may belong to a loop another build is about to put on air.
        cutoff = utcnow().timestamp() - 3600
        for page in (self.root / "pages").iterdir():
            meta = page / "meta.json"
            if page.name in used or page.name.endswith(".tmp") or not meta.is_file():
                continue
            if meta.stat().st_mtime < cutoff:
                shutil.rmtree(page, ignore_errors=True)
