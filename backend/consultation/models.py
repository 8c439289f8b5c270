"""Consultation: the desks of a community (community office, family doctor, legal adviser),
each with its people, opening hours and reply promise, and the threads residents open with
them: question, replies, close and rating, on a clock that counts only opening hours."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum, utcnow


class DeskKind(StrEnum):
    OFFICE = "office"  # 社区办公室: policies, 民政救助, certificates, property matters
    DOCTOR = "doctor"  # 家庭医生 of the community health station
    LAWYER = "lawyer"  # 法律顾问


class ConsultDesk(IdMixin, Base):
    """One desk of a community. The reply promise counts minutes of opening hours: a question
    asked at night is due `promise_minutes` after the desk opens."""

    __tablename__ = "consult_desks"
    __table_args__ = (UniqueConstraint("community_id", "kind"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"))
    kind: Mapped[DeskKind] = mapped_column(str_enum(DeskKind))
    opens: Mapped[dt.time]
    closes: Mapped[dt.time]  # after `opens`: no desk works through the night
    weekdays: Mapped[str] = mapped_column(String(7), default="01234")  # 0 = Monday
    promise_minutes: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeskMember(IdMixin, Base):
    """A person who answers at a desk; the lead is told when a promise has been broken."""

    __tablename__ = "consult_desk_members"
    __table_args__ = (UniqueConstraint("desk_id", "person_id"),)
    desk_id: Mapped[int] = mapped_column(IdType, ForeignKey("consult_desks.id"), index=True)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    lead: Mapped[bool] = mapped_column(default=False)


class ThreadStatus(StrEnum):
    WAITING = "waiting"  # the desk owes a reply; the promise clock runs
    ANSWERED = "answered"  # the desk replied; the asker may follow up, close or rate
    CLOSED = "closed"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    OK = "ok"  # 一般
    UNSATISFIED = "unsatisfied"  # 不满意: the service centre follows it up


class ConsultThread(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "consult_threads"
    __table_args__ = (
        Index("ix_consult_threads_queue", "desk_id", "status", "due_at"),
        Index("ix_consult_threads_elder", "elder_id", "id"),
    )
    desk_id: Mapped[int] = mapped_column(IdType, ForeignKey("consult_desks.id"))
    elder_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))  # whom it is about
    asked_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))  # the elder, family or staff
    door: Mapped[str] = mapped_column(String(10))  # app, tv, phone
    question: Mapped[str] = mapped_column(Text)
    article_id: Mapped[str | None] = mapped_column(String(40))  # the answer that was not enough
    # From the TV and the phone line the desk rings back this number (the elder's own).
    ring_back: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[ThreadStatus] = mapped_column(str_enum(ThreadStatus), default=ThreadStatus.WAITING)
    assignee_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    waiting_since: Mapped[dt.datetime | None]  # the asker's turn the clock counts from
    due_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]
    overdue_at: Mapped[dt.datetime | None]  # when the lead was told the promise was broken
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    rating: Mapped[Satisfaction | None] = mapped_column(str_enum(Satisfaction))
    rating_comment: Mapped[str | None] = mapped_column(String(300))
    rated_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    rated_at: Mapped[dt.datetime | None]


class ConsultMessage(IdMixin, Base):
    """One turn of a thread: the question, a reply, a follow-up. Never updated."""

    __tablename__ = "consult_messages"
    thread_id: Mapped[int] = mapped_column(IdType, ForeignKey("consult_threads.id"), index=True)
    author_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    from_desk: Mapped[bool]
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
