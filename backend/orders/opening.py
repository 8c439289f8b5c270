"""Opening an order or a booking for someone: the grant to order for them, their home, and
who pays. One flow for commerce and services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.rules import Grant, acting_for, home_of
from backend.access.subject import Actor
from backend.community.models import Community, Household, Person
from backend.family.models import Scope
from backend.wallet import payments
from backend.wallet.payments import Payer, PayFrom


@dataclass(frozen=True)
class Opening:
    """Who an order is for (`grant`: self, family through order_for, or staff), where it
    goes, and in which community."""

    grant: Grant
    household: Household
    community: Community

    @property
    def beneficiary(self) -> Person:
        return self.grant.person

    @property
    def placed_as(self) -> str:
        return self.grant.placed_as.value

    def payer(self, pay_from: PayFrom) -> Payer:
        return payments.payer(self.grant, pay_from)


async def open_for(session: AsyncSession, actor: Actor, person_id: int | None) -> Opening:
    """NOT_FOUND for someone `actor` may not order for, or who has no home to bring it to."""
    grant = await acting_for(session, actor, person_id, Scope.ORDER_FOR)
    household, community = await home_of(session, grant.person)
    return Opening(grant, household, community)
