"""A person's PIPL rights (arts. 44-47): see everything held about them, have it deleted, and
know who read their address, phone and family's phones.

Export: one JSON file of every row that is about the person or that she asked, wrote or paid
for, in every table a domain declares (backend.personal), and a summary in their language;
once a day; staff may start it for an elder who asks in person (recorded). Deletion: suspended
at once, erased by a durable job (backend.privacy.deletion) as the declarations say; what
must be kept (ledger movements, alarm records) stays, bound to a pseudonym, for the retention
period a setting names.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.access import rules
from backend.access.subject import Actor
from backend.community.models import Person
from backend.config import Settings
from backend.content.catalog import Catalog
from backend.db import utcnow
from backend.errors import NotFound, RateLimited
from backend.personal import Held, Plan
from backend.privacy.models import DataAccess, DataExport
from backend.tokens import Tokens

EXPORT_EVERY = dt.timedelta(days=1)
EXPORT_KEPT = dt.timedelta(days=7)
EXPIRE_EXPORT = "privacy.expire_export"


def as_data(row: Any, hide: Collection[str] = ()) -> dict[str, Any]:
    """A row's columns as JSON-ready values, `hide` (its secrets) left out."""
    out: dict[str, Any] = {}
    for attr in inspect(row).mapper.column_attrs:
        if attr.key in hide:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value
    return out


def hers(held: Held, person_id: int) -> ColumnElement[bool] | None:
    """The rows about her (her account's erasure does `held.erase` to them)."""
    found = [held.model.__table__.c[name] == person_id for name in held.about]
    if held.rows is not None:
        found.append(held.rows(person_id))
    return or_(*found) if found else None


def by_her(held: Held, person_id: int) -> ColumnElement[bool] | None:
    """The rows she asked, wrote or paid for (maybe someone else's: `held.erase_by`)."""
    found = [held.model.__table__.c[name] == person_id for name in held.by]
    return or_(*found) if found else None


async def gather(session: AsyncSession, person: Person, plan: Plan) -> dict[str, Any]:
    """Everything Linli holds about `person`, section by section, as every domain declares it
    (backend.personal): the rows about her and the rows she asked, wrote or paid for."""
    data: dict[str, Any] = {}
    for held in plan.held:
        if not held.export:
            continue
        wheres = [w for w in (hers(held, person.id), by_her(held, person.id)) if w is not None]
        model = held.model
        rows = (
            (await session.execute(select(model).where(or_(*wheres)).order_by(*inspect(model).primary_key)))
            .scalars()
            .all()
        )
        shown = [as_data(r, held.secret) for r in rows]
        if held.one:
            data[held.section] = shown[0] if shown else None
        else:
            data.setdefault(held.section, []).extend(shown)
    if data.get("person") is not None:
        data["person"]["community_card_set"] = person.community_card is not None
    return data


def summary(catalog: Catalog, locale: str, person: Person, data: dict[str, Any], at: str) -> str:
    """The export in words: who, and how many of each thing is held."""
    lines = [catalog.text(locale, "privacy.summary_title", name=person.name, at=at)]
    for section, value in data.items():
        if section in ("person", "household"):
            continue
        count = len(value) if isinstance(value, list) else int(value is not None)
        label = catalog.text(locale, f"privacy.sections.{section}")
        lines.append(catalog.text(locale, "privacy.summary_line", label=label, count=count))
    return "\n".join(lines)


@dataclass(frozen=True)
class ExportReady:
    export: DataExport
    token: str  # the secret of the download link, shown once


class Exporting(Protocol):
    """What an export needs of the process (the runtime's parts)."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def personal(self) -> Plan: ...


async def export(session: AsyncSession, actor: Actor, person_id: int | None, parts: Exporting) -> ExportReady:
    """The person's own export, or staff's for an elder of their community who asks in person."""
    catalog, tokens, zone, plan = parts.catalog, parts.tokens, parts.settings.zone, parts.personal
    if person_id is None or person_id == actor.id:
        person, via = actor.person, "app"
    else:
        found = await session.get(Person, person_id)
        if found is None or not await rules.is_staff_for(session, actor, found.id):
            raise NotFound()
        person, via = found, "staff_in_person"
    now = utcnow()
    last = (
        await session.execute(
            select(DataExport.created_at)
            .where(DataExport.person_id == person.id, DataExport.created_at > now - EXPORT_EVERY)
            .order_by(DataExport.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if last is not None:
        raise RateLimited(int((last + EXPORT_EVERY - now).total_seconds()) + 1)
    data = await gather(session, person, plan)
    document = {"exported_at": now.isoformat(), "format": "linli-export/1", **data}
    token = secrets.token_urlsafe(32)
    row = DataExport(
        person_id=person.id,
        requested_by_id=actor.id,
        via=via,
        token_hash=tokens.hash_opaque(token),
        content=json.dumps(document, ensure_ascii=False, indent=1, default=str),
        summary=summary(catalog, person.locale, person, data, f"{now.astimezone(zone):%Y-%m-%d %H:%M}"),
        expires_at=now + EXPORT_KEPT,
    )
    session.add(row)
    await session.flush()
    await jobs.schedule(session, EXPIRE_EXPORT, row.expires_at, {"export_id": row.id}, key=f"export:{row.id}")
    return ExportReady(row, token)


async def export_by_token(session: AsyncSession, tokens: Tokens, token: str) -> DataExport | None:
    row = (
        await session.execute(select(DataExport).where(DataExport.token_hash == tokens.hash_opaque(token)))
    ).scalar_one_or_none()
    if row is None or row.content is None or row.expires_at <= utcnow():
        return None
    return row


async def expire_export(session: AsyncSession, export_id: int) -> None:
    row = await session.get(DataExport, export_id)
    if row is not None:
        row.content, row.summary, row.token_hash = None, None, None


async def log_reads(session: AsyncSession, reads: Sequence[tuple[int, int, str, str]]) -> None:
    """(person, reader, what, purpose) for each read of someone else's personal data."""
    now = utcnow()
    session.add_all(
        DataAccess(person_id=pid, reader_id=rid, what=what, purpose=purpose[:60], at=now)
        for pid, rid, what, purpose in reads
        if pid != rid
    )


async def access_log(session: AsyncSession, person_id: int, *, limit: int = 200) -> Sequence[DataAccess]:
    return (
        (
            await session.execute(
                select(DataAccess).where(DataAccess.person_id == person_id).order_by(DataAccess.id.desc()).limit(limit)
            )
        )
        .scalars()
        .all()
    )
