"""Places (街道 → 社区 → 网格 → 楼栋 → 户), people, their roles and their devices."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, CreatedAtMixin, IdMixin, IdType, str_enum

ELDER_AGE = 60


class Subdistrict(IdMixin, Base):
    __tablename__ = "subdistricts"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Community(IdMixin, Base):
    __tablename__ = "communities"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    subdistrict_id: Mapped[int] = mapped_column(IdType, ForeignKey("subdistricts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    service_phone: Mapped[str | None] = mapped_column(String(20))
    # Where it is, for official warnings addressed by area code (统计用区划代码, 12 digits: a
    # warning for the district 500103 reaches every community whose code starts so) or by
    # polygon or circle (the community's centre).
    area_code: Mapped[str | None] = mapped_column(String(12))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


class Grid(IdMixin, Base):
    __tablename__ = "grids"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Building(IdMixin, Base):
    __tablename__ = "buildings"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Household(IdMixin, Base):
    __tablename__ = "households"
    code: Mapped[str] = mapped_column(String(64), unique=True)
    building_id: Mapped[int] = mapped_column(IdType, ForeignKey("buildings.id"), index=True)
    # Denormalised for speed and for responders: the community it belongs to and the full address.
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    unit: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(300))


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    YUE = "yue"
    KO = "ko"


def card_digits(number: str) -> str:
    """A community card number as printed, read out or swiped, compared as digits only."""
    return "".join(ch for ch in number if ch in "0123456789")


class Person(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "people"
    name: Mapped[str] = mapped_column(String(100))
    # E.164 (+86...), the sign-in identity and caller id.
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    birth_date: Mapped[dt.date | None]
    locale: Mapped[str] = mapped_column(String(10), default=Locale.ZH_CN.value)
    household_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("households.id"), index=True)
    # Staff may treat a person under 60 as an elder (disability, living alone, ...).
    elder_flag: Mapped[bool] = mapped_column(default=False)
    font_scale: Mapped[float] = mapped_column(default=1.0)
    read_aloud: Mapped[bool] = mapped_column(default=False)
    slow_speech: Mapped[bool] = mapped_column(default=False)
    # A 4-digit PIN that protects payments by phone, stored hashed.
    voice_pin_hash: Mapped[str | None] = mapped_column(String(200))
    voice_pin_failures: Mapped[int] = mapped_column(default=0)
    # "Sign out everywhere": access tokens issued before this moment are refused.
    tokens_valid_after: Mapped[dt.datetime | None]
    # The community card (like the 12349 card): swiped or read out at the door as proof of a
    # visit, digits only. Never shown back over the API.
    community_card: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The person asked to delete their account: suspended from this moment (no sign-in, no
    # token, no socket), their personal data erased by a job (backend.privacy).
    deleted_at: Mapped[dt.datetime | None]

    def age(self, today: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def is_elder(self, today: dt.date) -> bool:
        age = self.age(today)
        return self.elder_flag or (age is not None and age >= ELDER_AGE)


class Role(StrEnum):
    RESIDENT = "resident"
    FAMILY = "family"
    VOLUNTEER = "volunteer"
    PROVIDER = "provider"
    GRID_WORKER = "grid_worker"
    SERVICE_CENTRE = "service_centre"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.GRID_WORKER, Role.SERVICE_CENTRE, Role.ADMIN})


class Membership(IdMixin, CreatedAtMixin, Base):
    """A role a person holds in one community."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "community_id", "role"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))


class GridAssignment(IdMixin, Base):
    """The grids a grid worker looks after."""

    __tablename__ = "grid_assignments"
    __table_args__ = (UniqueConstraint("person_id", "grid_id"),)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    grid_id: Mapped[int] = mapped_column(IdType, ForeignKey("grids.id"), index=True)


class DeviceKind(StrEnum):
    APP = "app"  # a phone app installation; identifier = push token
    TV = "tv"  # a set-top box bound to a household
    SOS_BAND = "sos_band"  # a wearable SOS band bound to a person
    PHONE_LINE = "phone_line"  # an extra number that identifies a caller


class Device(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("kind", "identifier"),)
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind))
    identifier: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str | None] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("people.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("households.id"), index=True)
    vendor: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    last_seen_at: Mapped[dt.datetime | None]


class DutyShift(IdMixin, Base):
    """A shift of the community's duty rota (白班 08:00–20:00, 夜班 20:00–08:00): who is on
    duty is told of an alarm first, before everyone else with the role."""

    __tablename__ = "duty_shifts"
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    community_id: Mapped[int] = mapped_column(IdType, ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    starts: Mapped[dt.time]
    ends: Mapped[dt.time]  # at or before `starts`: the shift runs past midnight


class DutyAssignment(IdMixin, Base):
    """Who works a shift: every week on a weekday, or an exception for one date (a swap, a
    day off). A shift belongs to the date it starts on."""

    __tablename__ = "duty_assignments"
    shift_id: Mapped[int] = mapped_column(IdType, ForeignKey("duty_shifts.id"), index=True)
    person_id: Mapped[int] = mapped_column(IdType, ForeignKey("people.id"))
    weekday: Mapped[int | None]  # 0 = Monday: the weekly pattern
    on_date: Mapped[dt.date | None]  # an exception for this date only
    off: Mapped[bool] = mapped_column(default=False)  # with on_date: not on duty that day
