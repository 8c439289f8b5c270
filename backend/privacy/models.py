"""PIPL rights: what a person asked to take away (exports), and who read their personal data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType


class DataExport(IdMixin, CreatedAtMixin, Base):
    """Everything held about a person, as one JSON file and a summary in their words. The
    copy is itself personal data: downloaded with a secret link, erased when it expires."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_person_created", "person_id", "created_at"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    requested_by_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    via: Mapped[str] = mapped_column(String(20))  # app | staff_in_person
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    content: Mapped[str | None] = mapped_column(Text)  # the JSON file; None once expired
    summary: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]


class DataAccess(IdMixin, Base):
    """A read of someone's address, phone or family phones by someone else (an alarm's
    responder, a staff list, a family member): what, by whom, why, when."""

    __tablename__ = "data_access_log"
    __table_args__ = (Index("ix_data_access_person_at", "person_id", "at"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    reader_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    what: Mapped[str] = mapped_column(String(30))  # address | phone | family_phones
    purpose: Mapped[str] = mapped_column(String(60))  # alert:12 | residents | person
    at: Mapped[dt.datetime]
