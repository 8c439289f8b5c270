"""Read-aloud URLs: every text a person sees can be heard.

A URL carries the text, voice and rate, so the audio endpoint needs no lookup (any replica
answers) and cannot be used to synthesise arbitrary text. The WAV is made once and cached.

Two kinds, because proxies, browser history and access logs keep URLs:
- shared texts (a button's label, a fixed reply): signed, the same URL for everyone, served
  cacheable for a year;
- personal texts (a greeting with a name, a notice with an address), the default: encrypted
  (Fernet: AES-128-CBC + HMAC, with its time), refused after `read_aloud_ttl_s`, and served
  `private, no-store`. The URL says nothing about the person to whoever keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from backend.config import Settings
from speech.tts import Synthesizer, TtsError, clean_text, voice_for

PATH = "/read-aloud"
PERSONAL = "p-"  # prefix of a personal (encrypted) token
SHARED_CACHE = "public, max-age=31536000, immutable"
PERSONAL_CACHE = "private, no-store"
SHARED_KEPT = 4096  # shared URLs kept signed in memory
log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class ReadAloud:
    def __init__(self, settings: Settings) -> None:
        self._key = hashlib.sha256(b"read-aloud\x00" + settings.jwt_secret.encode()).digest()
        personal_key = hashlib.sha256(b"read-aloud-personal\x00" + settings.jwt_secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(personal_key))
        self._ttl_s = settings.read_aloud_ttl_s
        self._base = settings.public_base_url.rstrip("/")
        self._max_chars = settings.tts_max_chars
        self._rates = (settings.tts_rate_normal, settings.tts_rate_slow)
        # A shared URL never changes: the home's labels are signed once, not on every request.
        self._shared: dict[tuple[str, str | None, bool], str] = {}

    def rate(self, slow: bool) -> int:
        return self._rates[1] if slow else self._rates[0]

    def url(self, text: str, *, locale: str | None, slow: bool = False, shared: bool = False) -> str:
        """`shared`: the text says nothing about anyone (labels, fixed replies). Anything
        else is personal: an opaque URL that expires."""
        if shared:
            found = self._shared.get((text, locale, slow))
            if found is None:
                if len(self._shared) >= SHARED_KEPT:
                    self._shared.clear()  # shared texts are few (content's); a flood of others starts over
                found = self._shared[(text, locale, slow)] = self._url(text, locale=locale, slow=slow, shared=True)
            return found
        return self._url(text, locale=locale, slow=slow, shared=False)

    def _url(self, text: str, *, locale: str | None, slow: bool, shared: bool) -> str:
        body = json.dumps(
            {"t": clean_text(text, self._max_chars), "v": voice_for(locale), "r": self.rate(slow)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        if not shared:
            return f"{self._base}{PATH}/{PERSONAL}{self._fernet.encrypt(body).decode().rstrip('=')}.wav"
        sig = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return f"{self._base}{PATH}/{_b64(body)}.{_b64(sig)}.wav"

    @staticmethod
    def is_personal(token: str) -> bool:
        return token.startswith(PERSONAL)

    def decode(self, token: str) -> tuple[str, str, int]:
        body = self._open_personal(token) if self.is_personal(token) else self._open_shared(token)
        data = json.loads(body)
        return str(data["t"]), str(data["v"]), int(data["r"])

    def _open_personal(self, token: str) -> bytes:
        raw = token.removeprefix(PERSONAL)
        try:
            return self._fernet.decrypt(raw + "=" * (-len(raw) % 4), ttl=self._ttl_s)
        except (InvalidToken, ValueError) as exc:
            raise ValueError("unknown or expired") from exc

    def _open_shared(self, token: str) -> bytes:
        try:
            body_part, sig_part = token.split(".")
            body, sig = _unb64(body_part), _unb64(sig_part)
        except ValueError as exc:
            raise ValueError("malformed") from exc
        expected = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(sig, expected):
            raise ValueError("bad signature")
        return body


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
        cache = PERSONAL_CACHE if read_aloud.is_personal(token) else SHARED_CACHE
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": cache})

    return api
