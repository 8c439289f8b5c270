"""What the community publishes: announcements and policies (惠民政策), events and classes
with their sign-ups, and the numbers to ring. The TV channel, the portal, the app and the
phone line show the same rows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class NoticeKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    POLICY = "policy"  # 惠民政策: what residents are entitled to, and how to get it


class Audience(StrEnum):
    COMMUNITY = "community"  # everyone in the community (and the channel)
    GRID = "grid"
    BUILDING = "building"
    ELDERS = "elders"  # residents of at least `min_age` (and the channel)


class Announcement(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_community_from", "community_id", "starts_at"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    plain: Mapped[str] = mapped_column(String(200))  # the short plain form: shown large, read aloud
    audience: Mapped[Audience] = mapped_column(str_enum(Audience), default=Audience.COMMUNITY)
    grid_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("grids.id"))
    building_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("buildings.id"))
    min_age: Mapped[int | None]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]


class EventKind(StrEnum):
    EVENT = "event"  # 社区活动
    CLASS = "class"  # 老年大学 classes


class CommunityEvent(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "community_events"
    __table_args__ = (Index("ix_community_events_community_start", "community_id", "starts_at"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    plain: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int]
    created_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    cancelled_at: Mapped[dt.datetime | None]


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"  # the event was full: first in line gets the next place
    WITHDRAWN = "withdrawn"


class EventSignup(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "event_signups"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)
    event_id: Mapped[int] = mapped_column(IdType, ForeignKey("community_events.id"), index=True)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus))
    signed_up_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    door: Mapped[str] = mapped_column(String(10))  # app | tv | phone | staff
    # Waiting lists are first come, first served: the time one joined (or joined again).
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContactKind(StrEnum):
    SERVICE_CENTRE = "service_centre"
    POLICE = "police"
    IN_CHARGE = "in_charge"  # 社区书记/主任
    GRID_WORKER = "grid_worker"
    CLINIC = "clinic"
    OTHER = "other"


class Contact(IdMixin, Base):
    """A number the community wants residents to have at hand, in the order it is shown."""

    __tablename__ = "community_contacts"
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    position: Mapped[int]
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    name: Mapped[str] = mapped_column(String(60))  # "幸福社区服务中心", "王芳（社区书记）"
    phone: Mapped[str] = mapped_column(String(20))  # a public number, shown in full
    hours: Mapped[str] = mapped_column(String(60), default="")
