"""Read-aloud URLs: every text a person sees can be heard.

A URL carries the text, voice and rate, signed, so the audio endpoint needs no lookup and
cannot be used to synthesise arbitrary text. The WAV is made once and cached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from backend.config import Settings
from voice.tts import Synthesizer, TtsError, clean_text, voice_for

PATH = "/read-aloud"
log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class ReadAloud:
    def __init__(self, settings: Settings) -> None:
        self._key = hashlib.sha256(b"read-aloud\x00" + settings.jwt_secret.encode()).digest()
        self._base = settings.public_base_url.rstrip("/")
        self._max_chars = settings.tts_max_chars
        self._rates = (settings.tts_rate_normal, settings.tts_rate_slow)

    def rate(self, slow: bool) -> int:
        return self._rates[1] if slow else self._rates[0]

    def url(self, text: str, *, locale: str | None, slow: bool = False) -> str:
        body = json.dumps(
            {"t": clean_text(text, self._max_chars), "v": voice_for(locale), "r": self.rate(slow)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        sig = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return f"{self._base}{PATH}/{_b64(body)}.{_b64(sig)}.wav"

    def decode(self, token: str) -> tuple[str, str, int]:
        try:
            body_part, sig_part = token.split(".")
            body, sig = _unb64(body_part), _unb64(sig_part)
        except ValueError as exc:
            raise ValueError("malformed") from exc
        expected = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(sig, expected):
            raise ValueError("bad signature")
        data = json.loads(body)
        return str(data["t"]), str(data["v"]), int(data["r"])


def router(read_aloud: ReadAloud, synthesizer: Synthesizer) -> APIRouter:
    api = APIRouter()

    @api.get(PATH + "/{token}.wav", include_in_schema=False)
    async def audio(token: str, request: Request) -> FileResponse:
        try:
            text, voice, rate = read_aloud.decode(token)
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise HTTPException(404, "unknown audio") from exc
        try:
            path = await synthesizer.wav(text, voice, rate)
        except TtsError as exc:
            log.warning("read-aloud synthesis failed: %s", exc)
            raise HTTPException(503, "speech is unavailable, please try again") from exc
        return FileResponse(
            path,
            media_type="audio/wav",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    return api
