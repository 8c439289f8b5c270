"""What a band reports about its wearer: where it was when it raised an alarm, and heart rate
and blood oxygen judged against the elder's limits. Each needs its own consent (PIPL:
whereabouts and health are sensitive): without it nothing is kept. In-range readings are
judged and dropped; only a reading outside the limits is kept, for the readings' retention.
Every read is in the health access log.

The limits and what a reading outside them raises (a wellbeing alert, or an alarm) are the
community's policy: content/health/vitals.json.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.access.rules import acting_for
from backend.access.subject import Actor
from backend.db import utcnow
from backend.errors import InvalidInput
from backend.health.errors import NoHealthConsent
from backend.health.models import BandFix, ConsentScope, VitalLimits, VitalSign
from backend.health.service import active_consent, log_read, logged

KINDS = ("heart_rate", "blood_oxygen")
OUT_OF_RANGE = "health.vital_out_of_range"  # event: {person_id, sign_id}; wellbeing starts its ladder
WELLBEING, ALARM = "wellbeing", "alarm"
# What a band can measure at all: anything else is a broken reading, not a sick elder.
PLAUSIBLE = {"heart_rate": (20, 250), "blood_oxygen": (50, 100)}


@dataclass(frozen=True)
class Limits:
    heart_low: int
    heart_high: int
    oxygen_low: int
    own: bool  # the elder's own, or the community's defaults

    def judge(self, kind: str, value: int) -> tuple[str, int] | None:
        """(high or low, the limit crossed), or None when the reading is within limits."""
        if kind == "heart_rate":
            if value > self.heart_high:
                return "high", self.heart_high
            if value < self.heart_low:
                return "low", self.heart_low
            return None
        return ("low", self.oxygen_low) if value < self.oxygen_low else None


@dataclass(frozen=True)
class Policy:
    defaults: Limits
    out_of_range: str  # wellbeing or alarm


@cache
def policy_for(content_dir: Path, community_code: str) -> Policy:
    data = json.loads((content_dir / "health" / "vitals.json").read_text("utf-8"))
    own = {**data, **data.get("communities", {}).get(community_code, {})}
    action = str(own["out_of_range"])
    if action not in (WELLBEING, ALARM):
        raise ValueError(f"vitals.json: out_of_range {action!r} for {community_code}")
    return Policy(
        Limits(int(own["heart_rate"]["low"]), int(own["heart_rate"]["high"]), int(own["blood_oxygen"]["low"]), False),
        action,
    )


async def limits_of(session: AsyncSession, person_id: int, defaults: Limits) -> Limits:
    own = await session.get(VitalLimits, person_id)
    if own is None:
        return defaults
    return Limits(own.heart_low, own.heart_high, own.oxygen_low, True)


async def set_limits(
    session: AsyncSession, actor: Actor, *, person_id: int | None, heart_low: int, heart_high: int, oxygen_low: int
) -> VitalLimits:
    """The elder, family managing their settings, or staff (as the doctor advised): only with
    the elder's vitals consent, and within what a band can measure."""
    subject = (await acting_for(session, actor, person_id)).person
    low, high = PLAUSIBLE["heart_rate"]
    if not low <= heart_low < heart_high <= high:
        raise InvalidInput("heartLimits", field="heartLow")
    low, high = PLAUSIBLE["blood_oxygen"]
    if not low <= oxygen_low <= high:
        raise InvalidInput("oxygenLow", field="oxygenLow")
    if await active_consent(session, subject.id, ConsentScope.VITALS) is None:
        raise NoHealthConsent()
    limits = await session.get(VitalLimits, subject.id, with_for_update=True)
    if limits is None:
        limits = VitalLimits(person_id=subject.id, heart_low=0, heart_high=0, oxygen_low=0, set_by_id=actor.id)
        session.add(limits)
    limits.heart_low, limits.heart_high, limits.oxygen_low = heart_low, heart_high, oxygen_low
    limits.set_by_id, limits.updated_at = actor.id, utcnow()
    log_read(session, subject.id, actor.id, "vitals:limits")
    await session.flush()
    return limits


def plausible(kind: str, value: int) -> bool:
    low, high = PLAUSIBLE[kind]
    return low <= value <= high


NO_CONSENT, IN_RANGE = "no_consent", "in_range"


async def take_vital(
    session: AsyncSession, person_id: int, kind: str, value: int, defaults: Limits, at: dt.datetime | None = None
) -> VitalSign | str:
    """NO_CONSENT or IN_RANGE (nothing kept), or the reading outside the limits, kept."""
    if await active_consent(session, person_id, ConsentScope.VITALS) is None:
        return NO_CONSENT
    verdict = (await limits_of(session, person_id, defaults)).judge(kind, value)
    if verdict is None:
        return IN_RANGE
    sign = VitalSign(person_id=person_id, kind=kind, value=value, side=verdict[0], limit=verdict[1], at=at or utcnow())
    session.add(sign)
    await session.flush()
    return sign


async def take_fix(
    session: AsyncSession, person_id: int, ref: str, *, lat: float, lon: float, accuracy_m: int | None
) -> BandFix | None:
    """Kept only with the location consent; None (nothing kept) without it."""
    if await active_consent(session, person_id, ConsentScope.LOCATION) is None:
        return None
    fix = BandFix(person_id=person_id, ref=ref, lat=lat, lon=lon, accuracy_m=accuracy_m)
    session.add(fix)
    await session.flush()
    return fix


async def fix_for(
    session: AsyncSession,
    person_id: int,
    ref: str,
    *,
    reader_id: int,
    factory: async_sessionmaker[AsyncSession],
) -> BandFix | None:
    """The band's location for an alarm; every ask is logged, found or not."""
    await logged(session, factory, person_id, reader_id, f"{ref}:location")
    if await active_consent(session, person_id, ConsentScope.LOCATION) is None:
        return None
    return await session.scalar(
        select(BandFix).where(BandFix.person_id == person_id, BandFix.ref == ref).order_by(BandFix.id.desc()).limit(1)
    )


async def sign_by_id(session: AsyncSession, sign_id: int) -> VitalSign | None:
    """For the wording of an alert already raised (no read by a person: not logged)."""
    return await session.get(VitalSign, sign_id)


async def signs_of(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    since: dt.datetime,
    factory: async_sessionmaker[AsyncSession],
) -> list[VitalSign]:
    """The readings outside the limits since a time, newest first: for the elder, family
    managing their settings and staff. The read is logged."""
    subject = (await acting_for(session, actor, person_id)).person
    await logged(session, factory, subject.id, actor.id, "vitals")
    return list(
        (
            await session.scalars(
                select(VitalSign)
                .where(VitalSign.person_id == subject.id, VitalSign.at >= since)
                .order_by(VitalSign.at.desc())
                .limit(100)
            )
        ).all()
    )


async def prune(session: AsyncSession, before: dt.datetime) -> None:
    await session.execute(delete(VitalSign).where(VitalSign.at < before))
