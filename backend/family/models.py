"""Family links: an elder and a family member who may act for them, within consented scopes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.community.models import Person
from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class Scope(StrEnum):
    ORDER_FOR = "order_for"
    RECEIVE_ALERTS = "receive_alerts"
    VIEW_WELLBEING = "view_wellbeing"
    MANAGE_SETTINGS = "manage_settings"


class LinkStatus(StrEnum):
    PENDING = "pending"  # one side has not agreed yet
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"


class ConsentVia(StrEnum):
    APP = "app"  # the elder agreed in their own app (or created the invitation)
    STAFF_IN_PERSON = "staff_in_person"  # a staff member confirmed it with the elder face to face


class FamilyLink(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "family_links"
    elder_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    family_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    relation: Mapped[str] = mapped_column(String(30))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[LinkStatus] = mapped_column(str_enum(LinkStatus), default=LinkStatus.PENDING)
    initiated_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    elder_consent_at: Mapped[dt.datetime | None]
    elder_consent_via: Mapped[ConsentVia | None] = mapped_column(str_enum(ConsentVia))
    elder_consent_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    family_accepted_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    # Set by the elder: may the family member pay from the elder's wallet, and how much a month.
    elder_wallet_allowed: Mapped[bool] = mapped_column(default=False)
    monthly_limit_fen: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Never loaded implicitly: ask the repository, which says what it loads.
    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="raise")
    family: Mapped[Person] = relationship(foreign_keys=[family_id], lazy="raise")

    def has_scope(self, scope: Scope) -> bool:
        return self.status == LinkStatus.ACTIVE and scope.value in self.scopes


class FamilyLinkEvent(IdMixin, Base):
    """Every change to a link, for the people involved and for staff."""

    __tablename__ = "family_link_events"
    link_id: Mapped[int] = mapped_column(IdType, ForeignKey("family_links.id"), index=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
