"""Wallets over GraphQL: see a balance and its statement, top it up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.context import Context
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated
from backend.wallet import service
from backend.wallet.errors import PaymentUnavailableError
from backend.wallet.models import AccountKind, LedgerTransaction, SubsidyGrant
from backend.wallet.service import Statement, TopUpMethod
from backend.wallet.subsidies import SubsidyPolicy

WalletTopUpMethod = strawberry.enum(TopUpMethod, name="WalletTopUpMethod")


@strawberry.type
class WalletEntry:
    at: dt.datetime
    amount_fen: int = strawberry.field(description="Into the wallet (+) or out of it (-), in fen.")
    kind: str
    label: str = strawberry.field(description="What it was, in the reader's words.")
    from_subsidy: bool = strawberry.field(description="Moved a government subsidy, not the person's own money.")


@strawberry.type(description="A government subsidy and what is left of it this month.")
class WalletSubsidy:
    policy_code: str
    label: str = strawberry.field(description="How it is shown to the elder (government subsidy), in their words.")
    name: str = strawberry.field(description="The policy, e.g. the meal allowance for those over 80.")
    balance_fen: int
    balance_yuan: str
    expires_at_month_end: bool


@strawberry.type(description="Points earned or spent: for what, in the reader's words.")
class PointsEntry:
    at: dt.datetime
    points: int = strawberry.field(description="Earned (+) or spent (-).")
    label: str


@strawberry.type(description="A person's money, in fen (1 yuan = 100 fen).")
class Wallet:
    person_id: strawberry.ID
    balance_fen: int
    balance_yuan: str = strawberry.field(description='The balance as it is said: "12.50".')
    subsidies: list[WalletSubsidy] = strawberry.field(description="Spent first on what each covers.")
    entries: list[WalletEntry] = strawberry.field(description="The latest movements, newest first.")
    points: int = strawberry.field(description="Community points (not money), earned by volunteering and sorting.")
    points_entries: list[PointsEntry] = strawberry.field(description="The latest points movements, newest first.")

    @classmethod
    def of(cls, statement: Statement, info: Info) -> Wallet:
        ctx = info.context
        return cls(
            person_id=strawberry.ID(str(statement.person.id)),
            balance_fen=statement.balance_fen,
            balance_yuan=f"{statement.balance_fen / 100:.2f}",
            subsidies=[
                WalletSubsidy(
                    policy_code=policy.code,
                    label=ctx.rt.catalog.text(ctx.locale, "wallet.subsidy_label"),
                    name=policy.name(ctx.locale),
                    balance_fen=balance,
                    balance_yuan=f"{balance / 100:.2f}",
                    expires_at_month_end=policy.expires_at_month_end,
                )
                for policy, balance in statement.subsidies
            ],
            entries=[
                WalletEntry(
                    at=tx.created_at,
                    amount_fen=entry.amount,
                    kind=tx.kind,
                    label=ctx.rt.catalog.text(ctx.locale, f"wallet.kind_{tx.kind}"),
                    from_subsidy=account.kind == AccountKind.SUBSIDY,
                )
                for account, entry, tx in statement.entries
            ],
            points=statement.points,
            points_entries=[
                PointsEntry(at=tx.created_at, points=entry.amount, label=_points_label(ctx, tx))
                for _, entry, tx in statement.points_entries
            ],
        )


def _points_label(ctx: Context, tx: LedgerTransaction) -> str:
    # Earned: what for (the event's kind is the memo); otherwise spent on goods, or given back.
    key = f"points_{tx.memo}" if tx.kind == "points_earned" else f"kind_{tx.kind}_points"
    return ctx.rt.catalog.text(ctx.locale, f"wallet.{key}")


@strawberry.type
class WalletToppedUp:
    wallet: Wallet
    transaction_id: strawberry.ID


@strawberry.type
class SubsidyGrantView:
    person_id: strawberry.ID
    policy_code: str
    name: str
    active: bool
    granted_at: dt.datetime
    ended_at: dt.datetime | None

    @classmethod
    def of(cls, grant: SubsidyGrant, policy: SubsidyPolicy, info: Info) -> SubsidyGrantView:
        return cls(
            person_id=strawberry.ID(str(grant.person_id)),
            policy_code=policy.code,
            name=policy.name(info.context.locale),
            active=grant.ended_at is None,
            granted_at=grant.granted_at,
            ended_at=grant.ended_at,
        )


SubsidyGrantPayload = Annotated[
    SubsidyGrantView | InvalidInputError | NotFoundError, strawberry.union("SubsidyGrantPayload")
]
TopUpWalletPayload = Annotated[
    WalletToppedUp | InvalidInputError | NotFoundError | PaymentUnavailableError, strawberry.union("TopUpWalletPayload")
]


@strawberry.type
class WalletQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="My wallet, or an elder's (staff of their community, family who may order for them).",
    )
    async def wallet(self, info: Info, person_id: strawberry.ID | None = None) -> Wallet:
        ctx = info.context
        statement = await service.wallet_of(
            ctx.session, ctx.rt.settings, ctx.require_actor(), person_id=optional_id(person_id, "personId")
        )
        return Wallet.of(statement, info)


@strawberry.type
class WalletMutation:
    @mutation(description="Money into a wallet: cash taken by staff, or paid online. A replayed key changes nothing.")
    async def top_up_wallet(
        self,
        info: Info,
        amount_fen: int,
        method: WalletTopUpMethod,  # type: ignore[valid-type]
        idempotency_key: str,
        person_id: strawberry.ID | None = None,
    ) -> TopUpWalletPayload:
        ctx = info.context
        statement, tx = await service.top_up(
            ctx.session,
            ctx.require_actor(),
            person_id=optional_id(person_id, "personId"),
            amount_fen=amount_fen,
            method=method,
            idempotency_key=idempotency_key,
            gateway=ctx.rt.payments,
            settings=ctx.rt.settings,
        )
        return WalletToppedUp(wallet=Wallet.of(statement, info), transaction_id=strawberry.ID(str(tx.id)))

    @mutation(
        description="Service centre or admins: give an elder who qualifies (minimum living allowance) a subsidy; this month's comes at once."
    )
    async def grant_subsidy(self, info: Info, person_id: strawberry.ID, policy_code: str) -> SubsidyGrantPayload:
        ctx = info.context
        grant, policy = await service.grant_subsidy(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            person_id=parse_id(person_id, "personId"),
            policy_code=policy_code,
        )
        return SubsidyGrantView.of(grant, policy, info)

    @mutation(description="Service centre or admins: no more monthly allowances under this policy.")
    async def end_subsidy(self, info: Info, person_id: strawberry.ID, policy_code: str) -> SubsidyGrantPayload:
        ctx = info.context
        grant, policy = await service.end_subsidy(
            ctx.session,
            ctx.rt.settings,
            ctx.require_actor(),
            person_id=parse_id(person_id, "personId"),
            policy_code=policy_code,
        )
        return SubsidyGrantView.of(grant, policy, info)
