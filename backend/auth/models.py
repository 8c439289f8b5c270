"""Sign-in state: one-time codes, refresh tokens, TV device grants."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum


class LoginCode(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "login_codes"
    __table_args__ = (
        Index("ix_login_codes_phone_created", "phone", "created_at"),
        Index("ix_login_codes_ip_created", "ip", "created_at"),
    )
    phone: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[dt.datetime | None]


class RefreshToken(IdMixin, CreatedAtMixin, Base):
    """One link of a rotation chain; `family` groups a device's chain so reuse revokes it all."""

    __tablename__ = "refresh_tokens"
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    client: Mapped[str | None] = mapped_column(String(30))


class GrantStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ISSUED = "issued"  # the box has collected its token
    VOID = "void"  # the box was paired by another grant, or unpaired, before this one was collected


class TvDeviceGrant(IdMixin, CreatedAtMixin, Base):
    """RFC 8628 style: the box shows user_code, someone approves it in the app."""

    __tablename__ = "tv_device_grants"
    __table_args__ = (Index("ix_tv_device_grants_ip_created", "ip", "created_at"),)
    device_code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), index=True)
    serial: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime]
    status: Mapped[GrantStatus] = mapped_column(
        str_enum(GrantStatus),
        default=GrantStatus.PENDING,
    )
    approved_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"))
    household_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("households.id"))
    device_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("devices.id"))
    last_polled_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))  # who asked for the code (a limit per address)


class TvCodeTry(IdMixin, Base):
    """A pairing code typed into the app that matched no TV: counted per account and per
    address, so nobody can guess their way to a stranger's box. Kept a day."""

    __tablename__ = "tv_code_tries"
    __table_args__ = (
        Index("ix_tv_code_tries_person_at", "person_id", "at"),
        Index("ix_tv_code_tries_ip_at", "ip", "at"),
    )
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
