"""One call's conversation, as a pipeline of named stages: audio in → end of speech →
recognition → intent → action → reply text → speech → audio out. Each stage of each turn is
timed, and each turn is stored for the staff to read (the phrase heard, never the audio).

The dialog asks questions (`ask`) and says things (`say`); this module plays the words,
listens to keys and speech meanwhile (a key or speech stops the prompt: barge-in), decides
when the caller has finished speaking, and matches what was heard to one whole phrase.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from speech.stt import Heard, Recognizer
from voice.audio import FRAME_MS, Endpointer, Utterance, frames, from_first_sound
from voice.packs import ALARM, PERSON, REPEAT, SLOWER, Pack
from voice.questions import Answer, HungUp, Interrupted, Question, Silent, TooLong, key_answer, sentences
from voice.wire import Audio, Hangup, Incoming, Key, Line

log = logging.getLogger(__name__)

FEED_FRAMES = 5  # feed the recognizer 100 ms at a time
MAX_TRIES = 3  # not understood this often: the question gives up
# Frames sent per wake-up: paced at real time 60 ms at a time (one wake-up per 20 ms frame
# cost each call 50 wake-ups a second); a barge-in still stops the prompt within 60 ms.
SEND_FRAMES = 3


Speak = Callable[[str, bool], Awaitable[bytes]]  # (text, slow) -> slin16 8 kHz


class Conversation:
    def __init__(
        self,
        line: Line,
        pack: Pack,
        speak: Speak,
        *,
        recognizer: Recognizer | None,
        executor: Executor,
        record: Callable[[dict[str, Any]], None],
        slow: bool = False,
        silence_s: float = 8.0,
        max_call_s: float = 1800.0,
        endpointer: Callable[[], Endpointer] = Endpointer,
    ) -> None:
        self.line = line
        self.pack = pack
        self._speak = speak
        self.recognizer = recognizer
        self.executor = executor
        self._record = record
        self.slow = slow
        self.silence_s = silence_s
        self.max_call_s = max_call_s
        self._new_endpointer = endpointer
        self.started = time.monotonic()
        self._player: asyncio.Task[None] | None = None
        self._pending: list[str] = []  # said, not yet spoken: goes before the next question
        self._turn: dict[str, Any] | None = None  # answered, waiting for its reply's first audio
        self._answered_at: float | None = None
        self._grammar: list[str] | None = None
        self._unfinished = False  # audio fed since the recognizer last finished an utterance

    # --- saying -------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Words to speak before the next question (or before hanging up)."""
        self._pending.append(text)

    async def finish(self) -> None:
        """Speak what is left and wait until it has been heard (keys meanwhile: 9 still alarms)."""
        if self._pending:
            self._start_playing(" ".join(self._pending))
            self._pending = []
        while self._playing():
            event = await self._receive(wait_s=0.2)
            if isinstance(event, Key) and event.digit == "9":
                await self._stop_playing()
                raise Interrupted(ALARM)
        self._flush_turn()

    def _start_playing(self, text: str) -> None:
        self._player = asyncio.create_task(self._play(text, self.slow))

    async def _play(self, text: str, slow: bool) -> None:
        pieces = [asyncio.ensure_future(self._speak(s, slow)) for s in sentences(text)]
        began = time.monotonic()
        try:
            next_at = None
            for i, piece in enumerate(pieces):
                pcm = await piece
                if i == 0 and self._turn is not None:
                    self._turn["stages"]["speech_ms"] = _ms(time.monotonic() - began)
                pcm_frames = frames(pcm)
                for start in range(0, len(pcm_frames), SEND_FRAMES):
                    now = time.monotonic()
                    if next_at is None:
                        next_at = now
                        self._first_audio()
                    elif next_at > now:
                        await asyncio.sleep(next_at - now)
                    batch = pcm_frames[start : start + SEND_FRAMES]
                    for frame in batch:
                        await self.line.send(frame)
                    next_at += len(batch) * FRAME_MS / 1000
            await self.line.mark()
        except Exception:
            log.exception("the line could not speak")
        finally:
            for piece in pieces:
                piece.cancel()

    def _first_audio(self) -> None:
        if self._turn is not None and self._answered_at is not None:
            self._turn["stages"]["first_audio_ms"] = _ms(time.monotonic() - self._answered_at)
        self._flush_turn()

    async def _stop_playing(self) -> None:
        if self._player is not None and self._playing():
            self._player.cancel()
            await asyncio.gather(self._player, return_exceptions=True)
            await self.line.clear()
        self._player = None

    def _playing(self) -> bool:
        return self._player is not None and not self._player.done()

    # --- turns --------------------------------------------------------------------------

    def acted(self, name: str, seconds: float) -> None:
        """The dialog's action for the last answer took this long (the pipeline's action stage)."""
        if self._turn is not None:
            self._turn["stages"]["action_ms"] = _ms(seconds)
            self._turn["action"] = name

    def _flush_turn(self) -> None:
        if self._turn is not None:
            self._record(self._turn)
        self._turn, self._answered_at = None, None

    def _answered(self, question: Question, answer: Answer, stages: dict[str, int], ended_at: float) -> None:
        self._flush_turn()
        self._turn = {
            "kind": "turn",
            "question": question.kind,
            "by": answer.by,
            "heard": answer.heard,
            "answer": answer.value if question.digits == 1 else "digits",  # never a PIN
            "stages": stages,
        }
        self._answered_at = ended_at

    # --- listening ----------------------------------------------------------------------

    async def _receive(self, wait_s: float | None = None) -> Incoming | None:
        if time.monotonic() - self.started > self.max_call_s:
            raise TooLong()
        event = self.line.poll()
        if event is None:
            try:
                event = await asyncio.wait_for(self.line.receive(), wait_s)
            except TimeoutError:
                return None
        if isinstance(event, Hangup):
            raise HungUp()
        return event

    async def ask(self, question: Question) -> Answer | None:
        """The caller's answer; None when it was not understood after a few tries (the
        dialog goes back a step). Raises Interrupted (alarm, person), Silent, HungUp, TooLong."""
        tries = silences = 0
        prompt = question.prompt
        while True:
            self._start_playing(" ".join([*self._pending, prompt]))
            self._pending = []
            result = await self._listen(question)
            if isinstance(result, Answer):
                if result.value in (ALARM, PERSON) and question.digits == 1:
                    raise Interrupted(result.value)
                if result.value == REPEAT:
                    continue
                if result.value == SLOWER:
                    self.slow = True
                    continue
                return result
            if result == "silence":
                silences += 1
                if silences >= 2:
                    raise Silent()
                self._pending.append(self.pack.say("still_there"))
                continue
            tries += 1
            self._flush_turn()
            self._record({"kind": "turn", "question": question.kind, "by": "speech", "heard": result, "answer": None})
            if tries >= MAX_TRIES:
                return None
            self._pending.append(self.pack.say("not_understood"))

    async def _listen(self, question: Question) -> Answer | str:
        """An answer, "silence", or what was heard that is no answer ("" for nothing)."""
        answers = await self._listen_for(question)
        speech = Utterance(self._new_endpointer())
        digits = ""
        quiet_since: float | None = None
        while True:
            event = await self._receive(wait_s=1.0)
            now = time.monotonic()
            if not self._playing() and not speech.endpointer.speaking:
                quiet_since = quiet_since or now
                if now - quiet_since > self.silence_s:
                    return "silence"
            else:
                quiet_since = None
            if event is None:
                continue
            if isinstance(event, Key):
                await self._stop_playing()
                if question.digits > 1 and event.digit.isdigit():
                    digits += event.digit
                    if len(digits) < question.digits:
                        continue
                    answer: Answer | None = Answer(digits, "key")
                else:
                    answer = key_answer(question, event.digit)
                if answer is None:
                    return f"key {event.digit}"
                self._answered(question, answer, {}, now)
                return answer
            if answers and isinstance(event, Audio):
                heard = await self._hear(question, answers, speech, event.pcm, now)
                if heard is not None:
                    return heard

    async def _hear(
        self, question: Question, answers: dict[str, str], speech: Utterance, pcm: bytes, now: float
    ) -> Answer | str | None:
        """Audio as it comes: fed to the recognizer once the caller speaks, and what the phrase
        was once they pause after a whole one (None: still listening)."""
        endpointer = speech.endpointer
        for frame in frames(pcm):
            began = endpointer.hear(frame)
            if not endpointer.speaking:
                speech.preroll.append(frame)
                continue
            if began:
                await self._stop_playing()  # barge-in: the caller is talking
                speech.unfed = from_first_sound([*speech.preroll, frame], endpointer.quiet_level())
                speech.utterance = list(speech.unfed)
                speech.preroll.clear()
            else:
                speech.unfed.append(frame)
                speech.utterance.append(frame)
            if endpointer.silence_ms == 0:
                speech.last_loud = now
                if speech.tentative is not None:
                    # They went on after a pause: the recognizer was finished, so it hears
                    # the whole utterance again (cheap: recognition runs at 3% of real time).
                    speech.tentative, speech.unfed = None, list(speech.utterance)
            if len(speech.unfed) >= FEED_FRAMES:
                await self._feed(b"".join(speech.unfed))
                speech.unfed = []
            if endpointer.silence_ms >= endpointer.quick_ms and speech.tentative is None:
                # A pause long enough after a whole phrase: what was it? If not a whole
                # phrase yet, wait for the longer pause (an elder mid-phrase), keeping this.
                speech.tentative = await self._finish(b"".join(speech.unfed))
                speech.unfed = []
                text = speech.tentative[0].text
                if text in answers or not _could_go_on(text, answers):
                    return self._heard(question, answers, *speech.tentative, endpointer.silence_ms, speech.last_loud)
            if endpointer.ended() and speech.tentative is not None:
                return self._heard(question, answers, *speech.tentative, endpointer.silence_ms, speech.last_loud)
        return None

    async def _listen_for(self, question: Question) -> dict[str, str]:
        """The question's phrases (none without a recognizer), its grammar set when it changed."""
        answers = self.pack.answers(question.kind, question.extra) if self.recognizer is not None else {}
        if answers and self.recognizer is not None:
            grammar = self.pack.grammar(answers)
            if grammar != self._grammar or self._unfinished:
                # A key may have cut an utterance short: what it had heard goes.
                new = grammar if grammar != self._grammar else None
                await asyncio.get_running_loop().run_in_executor(self.executor, self.recognizer.listen_for, new)
                self._grammar, self._unfinished = grammar, False
        return answers

    async def _feed(self, pcm: bytes) -> None:
        assert self.recognizer is not None
        self._unfinished = True
        await asyncio.get_running_loop().run_in_executor(self.executor, self.recognizer.accept, pcm)

    async def _finish(self, tail: bytes) -> tuple[Heard, float]:
        """What the utterance was, and how long recognizing its end took."""
        recognizer = self.recognizer
        assert recognizer is not None

        def finish() -> Heard:
            if tail:
                recognizer.accept(tail)
            return recognizer.finish()

        began = time.monotonic()
        heard = await asyncio.get_running_loop().run_in_executor(self.executor, finish)
        self._unfinished = False
        return heard, time.monotonic() - began

    def _heard(
        self,
        question: Question,
        answers: dict[str, str],
        heard: Heard,
        recognition_s: float,
        silence_ms: int,
        last_loud: float,
    ) -> Answer | str:
        value = answers.get(heard.text)  # one whole phrase, or nothing
        if value is None:
            return heard.text
        answer = Answer(value, "speech", heard.text)
        stages = {"end_of_speech_ms": silence_ms, "recognition_ms": _ms(recognition_s)}
        # The reply is timed from where the caller stopped talking, not from when we were sure.
        self._answered(question, answer, stages, last_loud + FRAME_MS / 1000)
        if self._turn is not None:
            self._turn["confidence"] = round(heard.confidence, 3)
        return answer

    async def hold(self, news: asyncio.Queue[str], quiet_s: float) -> tuple[str, str | None]:
        """Keep the caller on the line, speaking what was said meanwhile: ("news", words) when
        something happened, ("key", digit) when they pressed one, ("quiet", None) after
        `quiet_s` of nothing. Silence never ends this: the caller may be unable to speak."""
        if self._pending and not self._playing():
            self._start_playing(" ".join(self._pending))
            self._pending = []
        waiting = asyncio.ensure_future(news.get())
        deadline = time.monotonic() + quiet_s
        try:
            while True:
                if waiting.done():
                    return "news", waiting.result()
                event = await self._receive_or(waiting, wait_s=max(0.0, deadline - time.monotonic()))
                if isinstance(event, Key):
                    await self._stop_playing()
                    self._record({"kind": "turn", "question": "hold", "by": "key", "answer": event.digit})
                    return "key", event.digit
                if event is None and not waiting.done() and time.monotonic() >= deadline:
                    if self._playing():
                        deadline = time.monotonic() + quiet_s
                        continue
                    return "quiet", None
        finally:
            if not waiting.done():
                waiting.cancel()

    async def _receive_or(self, other: asyncio.Future[Any], wait_s: float) -> Incoming | None:
        """The next thing from the line, or None when `other` finished first or time ran out."""
        receiving = asyncio.ensure_future(self._receive())
        done, _ = await asyncio.wait({receiving, other}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        if receiving in done:
            return receiving.result()
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        return None

    async def close(self) -> None:
        await self._stop_playing()
        self._flush_turn()


def _could_go_on(text: str, phrases: Mapping[str, str]) -> bool:
    """Could more words make this a phrase? Only then is a pause worth waiting out; otherwise
    what was said (or a sound with no words in it) is no answer, and the caller hears so at
    once rather than after the long pause."""
    words = text.split()
    return bool(words) and any(p.split()[: len(words)] == words and len(p.split()) > len(words) for p in phrases)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
