"""The phone line: its doors (Asterisk AudioSocket, the media stream, the exchange's call
registration), the speech engines it shares between calls, and each call from its first frame
to its last. A broken call never affects another: each runs on its own, bounded in time, and
a failure ends that call with an apology."""

from __future__ import annotations

import asyncio
import collections
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Form, WebSocket
from fastapi.responses import JSONResponse

from backend.access.subject import Door
from backend.alarm_pressure import AlarmPressure
from backend.community import screens
from backend.config import Settings
from backend.db import transaction
from backend.errors import InvalidInput
from backend.live import person_channel
from backend.parts import Parts
from backend.phone import service as phone
from backend.phone.service import Caller
from speech.stt import Recognizer, SpeechModels
from speech.tts import Synthesizer, voice_for
from voice import signing
from voice.actions import Actions
from voice.audio import Endpointer
from voice.audiosocket import serve_connection
from voice.conversation import Conversation
from voice.dialog import Dialog
from voice.media_stream import StreamLine, serve_stream
from voice.menu import menu_of
from voice.packs import Pack, load_packs, model_paths
from voice.questions import HungUp, Interrupted, TooLong, sentences
from voice.wire import Line

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "zh-CN"
UPDATES_KEPT = 100
REGISTRATION_WAITS = 20  # 2 s
SPOKEN_KEPT_BYTES = 64 * 1024 * 1024  # about 35 minutes of prompts at 8 kHz
_PARAM = re.compile(r"\{\w+\}")


class VoiceLine:
    def __init__(
        self,
        parts: Parts,
        synthesizer: Synthesizer,
        *,
        packs: dict[str, Pack] | None = None,
        models: SpeechModels | None = None,
    ) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.synthesizer = synthesizer
        self.packs = packs or load_packs(self.settings.content_dir)
        self.models = models or SpeechModels(
            model_paths(self.packs, {"vosk_model_zh_cn": self.settings.vosk_model_zh_cn})
        )
        self.executor = ThreadPoolExecutor(self.settings.voice_recognition_threads, thread_name_prefix="vosk")
        self.actions = Actions(parts)
        self.active = 0
        self._calls: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._prewarm: asyncio.Task[None] | None = None
        self._spoken: collections.OrderedDict[tuple[str, str, int], bytes] = collections.OrderedDict()
        self._spoken_bytes = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load the recognition models (once, shared by every call), open AudioSocket."""
        loop = asyncio.get_running_loop()
        for locale in self.packs:
            if self.models.has(locale):
                await loop.run_in_executor(self.executor, self.models.model, locale)
        port = self.settings.voice_audiosocket_port
        if port is not None:
            self._server = await asyncio.start_server(
                lambda r, w: serve_connection(r, w, self.handle), self.settings.voice_audiosocket_host, port
            )
        if self.speaks_in_advance(self.settings):
            self._prewarm = asyncio.create_task(self._speak_fixed_prompts())

    @staticmethod
    def speaks_in_advance(settings: Settings) -> bool:
        """Whether this process speaks the fixed prompts at start: the one that runs the chores
        (they can wait; a burst of alarms must not wait behind them), or the only process."""
        if not settings.voice_prewarm:
            return False
        if settings.job_kinds == "can_wait":
            return True
        return settings.job_kinds == "all" and settings.run_workers_in_api

    @property
    def port(self) -> int | None:
        """Where AudioSocket listens (the port given, or the one picked for port 0)."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        if self._prewarm is not None:
            self._prewarm.cancel()
            await asyncio.gather(self._prewarm, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def prewarm(self, *, pressure: AlarmPressure) -> None:
        """The chores' process: speak the packs' fixed prompts into the speech cache the line
        reads from, one at a time, each after a moment with no alarm being stored."""
        await self._speak_fixed_prompts(pressure)

    async def _speak_fixed_prompts(self, pressure: AlarmPressure | None = None) -> None:
        rates = (self.settings.tts_rate_normal, self.settings.tts_rate_slow)
        for pack in self.packs.values():
            # In the pieces the conversation speaks them in; the menu's are its entries' (a
            # community's own order says the same pieces).
            offered = screens.choices(self.parts.catalog, None, pack.locale, Door.PHONE)
            listening = self.models.has(pack.locale)
            menu = menu_of(pack, offered, listening=listening, readable=self.parts.screens).prompt
            fixed = [t for t in pack.prompts.values() if not _PARAM.search(t)]
            for text in {s for t in [*fixed, menu] for s in sentences(t) if not _PARAM.search(s)}:
                for rate in rates:
                    if pressure is not None:
                        await pressure.wait_quiet(
                            self.settings.chores_yield_quiet_s, self.settings.chores_yield_longest_s
                        )
                    try:
                        pcm = await self.synthesizer.line_pcm(text, voice_for(pack.locale), rate)
                        self._remember((text, voice_for(pack.locale), rate), pcm)
                    except Exception:
                        log.warning("a prompt could not be spoken in advance", exc_info=True)

    # --- doors --------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/voice/calls", include_in_schema=False)
        async def register(
            uuid: str = Form(max_length=64),
            caller: str = Form("", max_length=20),
            called: str = Form("", max_length=20),
            ts: str = Form(max_length=12),
            sig: str = Form(max_length=64),
        ) -> JSONResponse:
            """The Asterisk dialplan registers a call before bridging its audio (docs/voice.md)."""
            why = signing.refusal(self.settings.voice_secret, uuid, caller, called, ts, sig)
            if why is not None:
                log.warning("call registration refused: %s", why)
                return JSONResponse({"accepted": False, "error": why}, status_code=403)
            try:
                async with transaction(self.parts.factory) as session:
                    await phone.register(
                        session,
                        call_ref=uuid,
                        bridge="audiosocket",
                        caller=caller,
                        called=called,
                        default_line=self.settings.voice_default_line,
                    )
            except InvalidInput:
                return JSONResponse({"accepted": False, "error": "call id"}, status_code=400)
            return JSONResponse({"accepted": True})

        @router.websocket("/voice/stream")
        async def stream(ws: WebSocket) -> None:
            await serve_stream(ws, self._stream_call)

        return router

    async def _stream_call(self, start: dict[str, Any], line: StreamLine) -> None:
        found = start.get("customParameters")
        params: dict[str, Any] = found if isinstance(found, dict) else {}
        call_ref = str(start.get("callSid", ""))
        caller, called = str(params.get("caller", "")), str(params.get("called", ""))
        why = signing.refusal(
            self.settings.voice_secret, call_ref, caller, called, str(params.get("ts", "")), str(params.get("sig", ""))
        )
        if why is not None:
            log.warning("media stream refused: %s", why)
            return
        try:
            async with transaction(self.parts.factory) as session:
                await phone.register(
                    session,
                    call_ref=call_ref,
                    bridge="stream",
                    caller=caller,
                    called=called,
                    default_line=self.settings.voice_default_line,
                )
        except InvalidInput:
            log.warning("media stream refused: a call id seen before or malformed")
            return
        await self.handle(call_ref, line)

    # --- one call -----------------------------------------------------------------------

    async def handle(self, call_ref: str, line: Line) -> str | None:
        """The call from its first frame to its last: how it ended, or None if it was refused."""
        caller = await self._begin(call_ref)
        if caller is None:
            log.warning("a call nobody registered was refused")
            return None
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        self.active += 1
        pack = self.packs.get(caller.call.locale) or self.packs[DEFAULT_LOCALE]
        turns: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        writer = asyncio.create_task(self._write_turns(caller.call.id, turns))
        updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=UPDATES_KEPT)
        listener = (
            asyncio.create_task(self._listen(person_channel(caller.person.id), updates))
            if caller.person is not None
            else None
        )
        outcome = "error"
        conv: Conversation | None = None
        try:
            conv = await self._conversation(line, pack, caller, turns)
            if self.active > self.settings.voice_max_calls:
                conv.say(pack.say("busy"))
                await conv.finish()
                outcome = "busy"
            else:
                dialog = Dialog(
                    conv, self.actions, caller, pack, self.parts.catalog, updates=updates, zone=self.settings.zone
                )
                outcome = await dialog.run()
        except HungUp:
            outcome = "hung_up"
        except TooLong:
            outcome = "too_long"
            await self._last_words(conv, pack.say("goodbye"))
        except asyncio.CancelledError:
            outcome = "shutdown"
            raise
        except Exception:
            log.exception("a call failed")
            await self._last_words(conv, pack.say("trouble"))
        finally:
            self.active -= 1
            self._calls.discard(task)
            if listener is not None:
                listener.cancel()
            if conv is not None:
                await conv.close()
            turns.put_nowait(None)
            await asyncio.gather(writer, return_exceptions=True)
            await asyncio.shield(self.actions.end(caller.call.id, outcome))
        return outcome

    async def _begin(self, call_ref: str) -> Caller | None:
        """Who is calling, as the exchange registered them; None: nobody registered it."""
        caller = await self.actions.begin(call_ref)
        for _ in range(REGISTRATION_WAITS):
            if caller is not None:
                break
            # A call out may be answered before the transaction that registered it commits.
            await asyncio.sleep(0.1)
            caller = await self.actions.begin(call_ref)
        return caller

    async def _conversation(
        self, line: Line, pack: Pack, caller: Caller, turns: asyncio.Queue[dict[str, Any] | None]
    ) -> Conversation:
        return Conversation(
            line,
            pack,
            self._speaker(pack.locale),
            recognizer=await self._recognizer(pack),
            executor=self.executor,
            record=turns.put_nowait,
            slow=caller.person.slow_speech if caller.person is not None else False,
            silence_s=self.settings.voice_silence_s,
            max_call_s=self.settings.voice_max_call_s,
            endpointer=lambda: Endpointer(
                quick_ms=self.settings.voice_end_quick_ms, long_ms=self.settings.voice_end_ms
            ),
        )

    async def _last_words(self, conv: Conversation | None, text: str) -> None:
        if conv is None:
            return
        try:
            conv.say(text)
            await asyncio.wait_for(conv.finish(), 15)
        except (HungUp, TooLong, Interrupted, TimeoutError):
            pass

    def _speaker(self, locale: str) -> Any:
        voice = voice_for(locale)

        async def speak(text: str, slow: bool) -> bytes:
            rate = self.settings.tts_rate_slow if slow else self.settings.tts_rate_normal
            key = (text, voice, rate)
            pcm = self._spoken.get(key)
            if pcm is None:
                pcm = await self.synthesizer.line_pcm(text, voice, rate)
                self._remember(key, pcm)
            else:
                self._spoken.move_to_end(key)
            return pcm

        return speak

    def _remember(self, key: tuple[str, str, int], pcm: bytes) -> None:
        """The prompts most spoken stay in memory (the menu is said on every call)."""
        self._spoken[key] = pcm
        self._spoken_bytes += len(pcm)
        while self._spoken_bytes > SPOKEN_KEPT_BYTES and self._spoken:
            _, dropped = self._spoken.popitem(last=False)
            self._spoken_bytes -= len(dropped)

    async def _recognizer(self, pack: Pack) -> Recognizer | None:
        if not self.models.has(pack.locale):
            return None  # the keypad leads (docs/voice.md)
        grammar = pack.grammar(pack.answers("menu"))
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self.models.recognizer, pack.locale, 8000, grammar
        )

    async def _write_turns(self, call_id: int, turns: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Each turn stored as it happens (a call cut off mid-way still has its record)."""
        done = False
        while not done:
            batch = [await turns.get()]
            while not turns.empty():
                batch.append(turns.get_nowait())
            done = None in batch
            events = [t for t in batch if t is not None]
            if events:
                try:
                    await self.actions.record(call_id, events)
                except Exception:
                    log.exception("a call's turns could not be stored")

    async def _listen(self, channel: str, updates: asyncio.Queue[dict[str, Any]]) -> None:
        async for message in self.parts.live.subscribe(channel):
            if updates.full():
                updates.get_nowait()
            updates.put_nowait(message)
