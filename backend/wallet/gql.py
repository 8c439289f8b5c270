"""Wallets over GraphQL: see a balance and its statement, top it up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.gql.base import mutation, optional_id
from backend.gql.errors import InvalidInputError, NotFoundError, PaymentUnavailableError
from backend.gql.permissions import IsAuthenticated
from backend.wallet import service
from backend.wallet.service import Statement, TopUpMethod

WalletTopUpMethod = strawberry.enum(TopUpMethod, name="WalletTopUpMethod")


@strawberry.type
class WalletEntry:
    at: dt.datetime
    amount_fen: int = strawberry.field(description="Into the wallet (+) or out of it (-), in fen.")
    kind: str
    label: str = strawberry.field(description="What it was, in the reader's words.")


@strawberry.type(description="A person's money, in fen (1 yuan = 100 fen).")
class Wallet:
    person_id: strawberry.ID
    balance_fen: int
    balance_yuan: str = strawberry.field(description='The balance as it is said: "12.50".')
    entries: list[WalletEntry] = strawberry.field(description="The latest movements, newest first.")

    @classmethod
    def of(cls, statement: Statement, info: Info) -> Wallet:
        ctx = info.context
        return cls(
            person_id=strawberry.ID(str(statement.person.id)),
            balance_fen=statement.balance_fen,
            balance_yuan=f"{statement.balance_fen / 100:.2f}",
            entries=[
                WalletEntry(
                    at=tx.created_at,
                    amount_fen=entry.amount_fen,
                    kind=tx.kind,
                    label=ctx.rt.catalog.text(ctx.locale, f"wallet.kind_{tx.kind}"),
                )
                for entry, tx in statement.entries
            ],
        )


@strawberry.type
class WalletToppedUp:
    wallet: Wallet
    transaction_id: strawberry.ID


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
            ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId")
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
        )
        return WalletToppedUp(wallet=Wallet.of(statement, info), transaction_id=strawberry.ID(str(tx.id)))
