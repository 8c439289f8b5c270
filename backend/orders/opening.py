"""Opening an order or a booking for someone: the grant to order for them, their home, and
who pays. One flow for commerce and services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.rules import Grant, acting_for, home_of
from backend.access.subject import Actor
from backend.community.models import Community, Household, Person
from backend.config import Settings
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

    async def pay(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        ref: str,
        payer: Payer,
        provider_code: str,
        amount_fen: int,
        category: str,
    ) -> None:
        """The provider or merchant is paid for what was ordered: the beneficiary's subsidies
        for `category` first, the rest from `payer` (wallet.payments.pay)."""
        await payments.pay(
            session,
            ref=ref,
            payer_id=payer.person.id,
            beneficiary_id=self.beneficiary.id,
            provider_code=provider_code,
            amount_fen=amount_fen,
            category=category,
            content_dir=settings.content_dir,
            by_id=self.grant.actor.id,
            through=payer.through,
            timezone=settings.default_timezone,
        )


async def open_for(session: AsyncSession, actor: Actor, person_id: int | None) -> Opening:
    """NOT_FOUND for someone `actor` may not order for, or who has no home to bring it to."""
    grant = await acting_for(session, actor, person_id, Scope.ORDER_FOR)
    household, community = await home_of(session, grant.person)
    return Opening(grant, household, community)
