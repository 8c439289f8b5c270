"""The auth room's personal data (backend.personal): sign-in codes, sessions, TV pairings."""

from __future__ import annotations

from sqlalchemy import select

from backend.auth.models import LoginCode, RefreshToken, TvCodeTry, TvDeviceGrant
from backend.community.models import Person
from backend.personal import Declared, Erase, Held

DATA: tuple[Declared, ...] = (
    Held(
        LoginCode,
        "login_codes",
        why="a sign-in code asked for her number, and the address that asked (limits per phone and address)",
        rows=lambda pid: LoginCode.phone.in_(select(Person.phone).where(Person.id == pid)),
        words=("phone", "ip"),
        secret=("code_hash",),
        export=False,
        kept="deleted a day after it expires (auth.prune)",
    ),
    Held(
        RefreshToken,
        "sessions",
        why="her signed-in devices' sessions, so a stolen one can be revoked",
        about=("person_id",),
        secret=("token_hash",),
        export=False,
        kept="deleted a day after it expires or is revoked (auth.prune)",
    ),
    Held(
        TvCodeTry,
        "tv_code_tries",
        why="a TV pairing code she typed that matched no TV, counted so nobody can guess a stranger's box",
        about=("person_id",),
        words=("ip",),
        export=False,
        kept="deleted after a day (auth.prune)",
    ),
    Held(
        TvDeviceGrant,
        "tv_pairings",
        why="a TV she paired with a home, while the box collects its token",
        by=("approved_by_id",),
        words=("serial", "ip"),
        secret=("device_code_hash", "user_code"),
        erase_by=Erase.DELETE,
        export=False,
        kept="deleted a day after it expires (auth.prune)",
    ),
)
