"""Mutual help (邻里互助): volunteers and what they offer, requests for help from elders,
who was asked and who accepted, and the confirmation that credits the hours."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class HelpKind(StrEnum):
    CHAT = "chat"  # 陪聊
    SHOPPING = "shopping"  # 代买
    ESCORT = "escort"  # 陪同就医
    REPAIR = "repair"  # 小修小补
    READING = "reading"  # 读报
    OTHER = "other"  # 其他


class Volunteer(Base):
    """A person who offers help: what they can do and when. Matching reads this, and where
    they live (their home's building and grid)."""

    __tablename__ = "volunteers"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # HelpKind values
    weekdays: Mapped[str] = mapped_column(String(7), default="0123456")  # 0 = Monday
    from_time: Mapped[dt.time]
    until_time: Mapped[dt.time]
    active: Mapped[bool] = mapped_column(default=True)
    # Told when a neighbour raises an alarm (a tier of the alarm's ladder), if they agreed.
    answers_alarms: Mapped[bool] = mapped_column(default=False)
    # Their quiet hours hold for alarms too, unless they chose to be woken.
    alarms_in_quiet_hours: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Reach(StrEnum):
    """How far a request has been offered, nearest first."""

    BUILDING = "building"
    GRID = "grid"
    COMMUNITY = "community"


class RequestStatus(StrEnum):
    OPEN = "open"  # looking for volunteers
    MATCHED = "matched"  # enough volunteers accepted
    DONE = "done"  # the elder confirmed it was done; hours credited
    CANCELLED = "cancelled"


class HelpRequest(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "help_requests"
    __table_args__ = (
        Index("ix_help_requests_elder", "elder_id", "id"),
        Index("ix_help_requests_community_status", "community_id", "status"),
    )
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    household_id: Mapped[int] = mapped_column(IdType, ForeignKey("households.id"))
    elder_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    asked_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    door: Mapped[str] = mapped_column(String(10))  # app, tv, phone
    kind: Mapped[HelpKind] = mapped_column(str_enum(HelpKind))
    note: Mapped[str] = mapped_column(String(300), default="")
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime]
    minutes: Mapped[int]  # how long the help is expected to take: what is credited
    needed: Mapped[int] = mapped_column(default=1)  # volunteers wanted
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus), default=RequestStatus.OPEN)
    reach: Mapped[Reach] = mapped_column(str_enum(Reach), default=Reach.BUILDING)
    # Shown to the elder; the volunteer enters it to confirm the help was done.
    confirm_code: Mapped[str] = mapped_column(String(8))
    code_failures: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[dt.datetime | None]
    confirmed_via: Mapped[str | None] = mapped_column(String(10))  # code, app, tv, phone, staff
    cancelled_at: Mapped[dt.datetime | None]


class OfferStatus(StrEnum):
    ASKED = "asked"  # told about it, has not answered
    ACCEPTED = "accepted"  # 我去
    DECLINED = "declined"
    TOO_LATE = "too_late"  # accepted after enough others had


class HelpOffer(IdMixin, Base):
    """A volunteer asked to help with a request, and their answer."""

    __tablename__ = "help_offers"
    __table_args__ = (UniqueConstraint("request_id", "volunteer_id"),)
    request_id: Mapped[int] = mapped_column(IdType, ForeignKey("help_requests.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    reach: Mapped[Reach] = mapped_column(str_enum(Reach))
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus), default=OfferStatus.ASKED)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None]
    minutes_credited: Mapped[int | None]
