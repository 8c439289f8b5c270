"""Telling people about an order or a booking as it moves: the elder, whoever ordered for
them, and the staff who fulfil it. Commerce and services each say it in their own words
(`content/locales`: commerce.*, services.*) through one Notifier."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import rules
from backend.community import repository as community_repository
from backend.community.models import Person
from backend.gateways.sms import Sms
from backend.notify import service as notify
from backend.parts import Parts


class Ordered(Protocol):
    """An order or a booking, as far as telling people about it goes."""

    id: int
    beneficiary_id: int
    placed_by_id: int
    cancel_reason: str | None


@dataclass(frozen=True)
class Notifier:
    room: str  # the text keys' prefix: "commerce" or "services"
    kind: str  # the push payload's kind ("order", "service_booking")
    id_field: str  # the push payload's id field ("orderId", "bookingId")
    # The texts' own parameters for one reader (what, when, where, how much, in their words).
    words: Callable[[AsyncSession, Parts, Any, Person], Awaitable[dict[str, str]]]
    # Who fulfils it: the merchant's or provider's staff.
    staff: Callable[[AsyncSession, Parts, Any], Awaitable[set[int]]]

    async def tell(
        self, session: AsyncSession, parts: Parts, people: Collection[int], row: Ordered, key: str, **params: str
    ) -> None:
        for person in await community_repository.people_by_ids(session, sorted(people)):
            variables = {**await self.words(session, parts, row, person), **params}
            await notify.tell(
                session,
                parts,
                person,
                title=parts.catalog.text(person.locale, f"{self.room}.title"),
                text=parts.catalog.text(person.locale, f"{self.room}.{key}", **variables),
                data={"kind": self.kind, self.id_field: str(row.id)},
                # By SMS the same words, as the template of the same name (content/sms).
                sms=Sms(f"{self.room}_{key}", variables, person.locale),
            )

    async def placed(self, session: AsyncSession, parts: Parts, row: Ordered, *, for_you: str, to_staff: str) -> None:
        """The elder hears who ordered for them (not when they ordered themselves); the staff
        hear there is something new."""
        if row.placed_by_id != row.beneficiary_id:
            by = await session.get(Person, row.placed_by_id)
            await self.tell(session, parts, {row.beneficiary_id}, row, for_you, by=by.name if by else "")
        await self.tell(session, parts, await self.staff(session, parts, row), row, to_staff)

    async def cancelled(self, session: AsyncSession, parts: Parts, row: Ordered, *, by_id: int, declined: bool) -> None:
        """Everyone involved but whoever cancelled; an elder cancelling what family ordered for
        them is declining it, and says so."""
        by = await session.get(Person, by_id)
        involved = await _for_her(session, row) | await self.staff(session, parts, row)
        await self.tell(
            session,
            parts,
            involved - {by.id if by else 0},
            row,
            "declined" if declined else "cancelled",
            by=by.name if by else "",
            reason=row.cancel_reason or "-",
        )

    async def progress(self, session: AsyncSession, parts: Parts, row: Ordered, key: str, **params: str) -> None:
        """The elder and whoever ordered for them follow it to the door."""
        await self.tell(session, parts, await _for_her(session, row), row, key, **params)


async def _for_her(session: AsyncSession, row: Ordered) -> set[int]:
    """The elder, and whoever ordered for her while they still may (a revoked link hears
    nothing more of her orders)."""
    return await rules.still_speaking_for(session, row.beneficiary_id, row.placed_by_id)
