"""The privacy room's personal data (backend.personal): exports and the log of reads."""

from __future__ import annotations

from backend.personal import Declared, Erase, Held
from backend.privacy.models import DataAccess, DataExport

DATA: tuple[Declared, ...] = (
    Held(
        DataExport,
        "exports",
        why="the copies of her data she asked for, until they expire (7 days)",
        about=("person_id",),
        acting=("requested_by_id",),
        words=("content", "summary"),
        secret=("token_hash", "content", "summary"),
    ),
    Held(
        DataAccess,
        "data_access_log",
        why="who read her address, phone or family's phones, and why",
        about=("person_id",),
        acting=("reader_id",),
        erase=Erase.FORGET,
        kept="kept for LINLI_RETENTION_DAYS (readers answer for their reads), then deleted",
    ),
)
