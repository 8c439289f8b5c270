"""Deleting an account (PIPL art. 47), as every domain declares its part (backend.personal).

`delete_account` asks for a fresh SMS code and suspends the person at once: no sign-in, every
token refused, open sockets closed, push devices and (if nobody else lives there) the home's
TV boxes released, family links ended (the family is told the link ended, not why), and her
open work ended in every domain, telling whoever expected it (the volunteers of her help
request, the provider of her booking, the next in line for her place at a class). A durable
job then erases what each declaration says: rows deleted, or kept without the words that
described her; notices to others about her things lose their text; the person becomes a
pseudonym. What must be kept (ledger movements, alarm records) stays, bound to the pseudonym;
after `retention_days` the declarations marked FORGET go too (the ledger keeps its anonymous
movements, so every balance still adds up).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs, live
from backend.access.subject import Actor
from backend.auth import repository as auth_repository
from backend.auth.service import consume_code
from backend.community import repository as community_repository
from backend.community.models import Device, DeviceKind, Household, Person
from backend.db import Base, utcnow
from backend.family import service as family_service
from backend.notify import service as notify
from backend.parts import Parts
from backend.personal import Erase, Held, Plan
from backend.phones import national
from backend.privacy.service import by_her, hers

ERASE = "privacy.erase"
FORGET = "privacy.forget"


def pseudonymous_phone(person_id: int) -> str:
    """Unique, not a number anyone can call or sign in with."""
    return f"deleted:{person_id}"


async def delete_account(session: AsyncSession, actor: Actor, *, code: str, parts: Parts) -> dt.datetime:
    """Suspends the account now, ends her open work everywhere, and schedules its erasure;
    returns when erasure is due."""
    settings = parts.settings
    person = actor.person
    await consume_code(session, settings=settings, tokens=parts.tokens, phone=person.phone, code=code)
    now = utcnow()
    person.deleted_at = now
    person.tokens_valid_after = now
    await auth_repository.revoke_refresh(session, now, person_id=person.id)
    await session.execute(delete(Device).where(Device.person_id == person.id))
    if person.household_id is not None and not await community_repository.others_live_there(session, person):
        tvs = await auth_repository.devices_of_household(session, DeviceKind.TV, person.household_id)
        for tv in tvs:
            tv.household_id = None
            live.sessions_end(session, f"tv:{tv.id}")
    await family_service.end_all_links(session, actor, why="account_deleted")
    # Nobody may go on expecting her: each domain ends her open work and tells them.
    for _domain, end_work in parts.personal.end_work:
        await end_work(session, parts, actor)
    live.sessions_end(session, f"person:{person.id}", before=now)
    # A short delay lets the family's "the link ended" notices go out with the name they know.
    due = now + dt.timedelta(seconds=settings.erasure_delay_s)
    await jobs.schedule(session, ERASE, due, {"person_id": person.id}, key=f"erase:person:{person.id}")
    return due


def _children_first(plan: Plan) -> list[Held]:
    """The declarations in an order that deletes a row's dependents before the row (the
    reverse of the tables' dependency order), keeping each table's own declarations together."""
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    return sorted(plan.held, key=lambda h: -order[h.table])


async def _apply(session: AsyncSession, held: Held, action: Erase, where: Any, blank: dict[str, Any]) -> None:
    table = held.model.__table__
    if action == Erase.DELETE:
        await session.execute(delete(table).where(where))
    elif action in (Erase.BLANK, Erase.FORGET) and blank:
        await session.execute(update(table).where(where).values(**blank))


async def erase(session: AsyncSession, person_id: int, *, parts: Parts, pseudonym: str) -> None:
    """Erase or pseudonymize what the person asked to be deleted, as declared. Safe to run
    again. `pseudonym`: what kept records show where the name was (content: privacy.pseudonym)."""
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None or person.deleted_at is None:
        return
    plan = parts.personal
    await _blank_what_others_were_told(session, person, plan)
    # The domains' own steps first (her home's signals, if she lived alone), while she is still
    # who she was; then every declared table, dependents first; the person row last.
    for _domain, step in plan.erase:
        await step(session, parts, person_id)
    for held in _children_first(plan):
        about, by = hers(held, person_id), by_her(held, person_id)
        if by is not None and held.erase_by in (Erase.DELETE, Erase.BLANK):
            only_by = by if about is None else by & ~about
            await _apply(session, held, held.erase_by, only_by, dict(held.blank_by))
        if about is not None:
            await _apply(session, held, held.erase, about, dict(held.blank))
    person.name = pseudonym
    person.phone = pseudonymous_phone(person_id)
    person.birth_date = None
    person.household_id = None
    person.community_card = None
    person.voice_pin_hash = None
    person.elder_flag = False
    forget_at = person.deleted_at + dt.timedelta(days=parts.settings.retention_days)
    await jobs.schedule(session, FORGET, forget_at, {"person_id": person_id}, key=f"forget:person:{person_id}")


async def _named_in_notices(session: AsyncSession, plan: Plan, person_id: int, *, forgotten: bool = False) -> Any:
    """A WHERE clause: notices whose data names one of her rows (an alarm's alertId, an
    order's orderId), as each declaration says (`notice_key`); `forgotten`: only rows kept
    until the end of the retention period. None when nothing of hers is named."""
    named = []
    for held in plan.held:
        if held.notice_key is None or (forgotten and held.erase != Erase.FORGET):
            continue
        wheres = [w for w in (hers(held, person_id), None if forgotten else by_her(held, person_id)) if w is not None]
        if not wheres:
            continue
        table = held.model.__table__
        named_by = table.c[held.notice_column] if held.notice_column else list(table.primary_key.columns)[0]
        ids = [str(i) for i in (await session.execute(select(named_by).where(or_(*wheres)))).scalars()]
        if ids:
            named.append(notify.naming(held.notice_key, ids))
    return or_(*named) if named else None


async def _blank_what_others_were_told(session: AsyncSession, person: Person, plan: Plan) -> None:
    """Others' notices about the person's things (an alarm with the elder's name and address, a
    visit to make at her flat, a link that ended) that name her, her phone or her flat keep
    their delivery record; their text and SMS variables go."""
    named = await _named_in_notices(session, plan, person.id)
    if named is None:
        return
    household = await session.get(Household, person.household_id) if person.household_id else None
    marks = [person.name, national(person.phone), *([household.address] if household is not None else [])]
    await notify.blank_told_about(session, person.id, named, marks)


async def forget(session: AsyncSession, person_id: int, *, plan: Plan) -> None:
    """The end of the retention period: what was kept for it (the alarm records, the logs of
    reads) goes, with the notices others had about it."""
    named = await _named_in_notices(session, plan, person_id, forgotten=True)
    if named is not None:
        gone = await notify.ids_named(session, named)
        if gone:
            await _delete_notices(session, plan, gone)
    for held in _children_first(plan):
        if held.erase == Erase.FORGET and (about := hers(held, person_id)) is not None:
            await session.execute(delete(held.model.__table__).where(about))


async def _delete_notices(session: AsyncSession, plan: Plan, notice_ids: list[int]) -> None:
    """Notices and what depends on them (their delivery records), dependents first."""
    for held in _children_first(plan):
        fks = [
            c
            for c in held.model.__table__.columns
            if any(fk.column.table.name == "notifications" for fk in c.foreign_keys)
        ]
        for column in fks:
            await session.execute(delete(held.model.__table__).where(column.in_(notice_ids)))
    await notify.delete_notices(session, notice_ids)
