"""Every query of the auth tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backend.access.subject import person_by_phone
from backend.auth.models import GrantStatus, LoginCode, RefreshToken, TvCodeTry, TvDeviceGrant
from backend.community.models import Device, DeviceKind, Person

__all__ = ["person_by_phone"]


async def _times_since(
    session: AsyncSession, column: InstrumentedAttribute[dt.datetime], since: dt.datetime, *where: ColumnElement[bool]
) -> list[dt.datetime]:
    """When the rows matching `where` happened (their `column`) since `since`, oldest first:
    what the limits per phone, account and address count."""
    query = select(column).where(column >= since, *where).order_by(column)
    return list((await session.execute(query)).scalars())


async def codes_since(
    session: AsyncSession, *, phone: str | None = None, ip: str | None = None, since: dt.datetime
) -> list[dt.datetime]:
    """Creation times of codes asked for by this phone or IP since `since`, oldest first."""
    where = [LoginCode.phone == phone] if phone is not None else []
    where += [LoginCode.ip == ip] if ip is not None else []
    return await _times_since(session, LoginCode.created_at, since, *where)


async def retire_open_codes(session: AsyncSession, phone: str, now: dt.datetime) -> None:
    await session.execute(
        update(LoginCode).where(LoginCode.phone == phone, LoginCode.consumed_at.is_(None)).values(consumed_at=now)
    )


async def latest_open_code(session: AsyncSession, phone: str) -> LoginCode | None:
    return (
        await session.execute(
            select(LoginCode)
            .where(LoginCode.phone == phone, LoginCode.consumed_at.is_(None))
            .order_by(LoginCode.id.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return (
        await session.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update())
    ).scalar_one_or_none()


async def revoke_refresh(
    session: AsyncSession, now: dt.datetime, *, family: str | None = None, person_id: int | None = None
) -> None:
    query = update(RefreshToken).where(RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    if family is not None:
        query = query.where(RefreshToken.family == family)
    if person_id is not None:
        query = query.where(RefreshToken.person_id == person_id)
    await session.execute(query)


async def person_for_caller(session: AsyncSession, phone: str) -> Person | None:
    person = await person_by_phone(session, phone)
    if person is not None:
        return person
    return (
        await session.execute(
            select(Person)
            .join(Device, Device.person_id == Person.id)
            .where(Device.kind == DeviceKind.PHONE_LINE, Device.identifier == phone)
        )
    ).scalar_one_or_none()


async def grant_by_device_code(session: AsyncSession, code_hash: str) -> TvDeviceGrant | None:
    return (
        await session.execute(
            select(TvDeviceGrant).where(TvDeviceGrant.device_code_hash == code_hash).with_for_update()
        )
    ).scalar_one_or_none()


async def pending_grant_by_user_code(session: AsyncSession, user_code: str, now: dt.datetime) -> TvDeviceGrant | None:
    return (
        await session.execute(
            select(TvDeviceGrant)
            .where(
                TvDeviceGrant.user_code == user_code,
                TvDeviceGrant.status == GrantStatus.PENDING,
                TvDeviceGrant.expires_at > now,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()


async def grants_since(session: AsyncSession, *, ip: str, since: dt.datetime) -> list[dt.datetime]:
    """When this address asked for pairing codes since `since`, oldest first."""
    return await _times_since(session, TvDeviceGrant.created_at, since, TvDeviceGrant.ip == ip)


async def wrong_codes_since(
    session: AsyncSession, *, person_id: int | None = None, ip: str | None = None, since: dt.datetime
) -> list[dt.datetime]:
    """When this account (or address) typed a pairing code that matched no TV, oldest first."""
    where = [TvCodeTry.person_id == person_id] if person_id is not None else []
    where += [TvCodeTry.ip == ip] if ip is not None else []
    return await _times_since(session, TvCodeTry.at, since, *where)


async def void_grants(session: AsyncSession, serial: str, *, keep_id: int | None = None) -> None:
    """The box's grants not yet collected stop: it was paired by another, or unpaired."""
    query = update(TvDeviceGrant).where(
        TvDeviceGrant.serial == serial, TvDeviceGrant.status.in_([GrantStatus.PENDING, GrantStatus.APPROVED])
    )
    if keep_id is not None:
        query = query.where(TvDeviceGrant.id != keep_id)
    await session.execute(query.values(status=GrantStatus.VOID))


async def prune(session: AsyncSession, before: dt.datetime) -> None:
    """What served its purpose before `before`: expired sign-in codes, sessions expired or
    revoked, wrong TV codes counted, pairings expired."""
    await session.execute(delete(LoginCode).where(LoginCode.expires_at < before))
    await session.execute(
        delete(RefreshToken).where(or_(RefreshToken.expires_at < before, RefreshToken.revoked_at < before))
    )
    await session.execute(delete(TvCodeTry).where(TvCodeTry.at < before))
    await session.execute(delete(TvDeviceGrant).where(TvDeviceGrant.expires_at < before))


async def user_code_in_use(session: AsyncSession, user_code: str, now: dt.datetime) -> bool:
    count = await session.scalar(
        select(func.count())
        .select_from(TvDeviceGrant)
        .where(
            TvDeviceGrant.user_code == user_code,
            or_(TvDeviceGrant.expires_at > now, TvDeviceGrant.status == GrantStatus.APPROVED),
        )
    )
    return bool(count)


async def device(session: AsyncSession, kind: DeviceKind, identifier: str) -> Device | None:
    return (
        await session.execute(select(Device).where(Device.kind == kind, Device.identifier == identifier))
    ).scalar_one_or_none()


async def devices_of_household(session: AsyncSession, kind: DeviceKind, household_id: int) -> Sequence[Device]:
    return (
        (
            await session.execute(
                select(Device).where(Device.kind == kind, Device.household_id == household_id).order_by(Device.id)
            )
        )
        .scalars()
        .all()
    )
