"""What each domain declares about the personal data its tables hold (PIPL arts. 44-47): which
rows are about a person or were asked, written or paid for by her, what her export shows of
them, what erasing her account does to them, how long anything kept stays, and why.

Each domain lists its tables in its registry entry (`Domain.personal`); export, erasure and
the table in docs/privacy.md are computed from the lists (backend.privacy), and a test walks
the tables so that none holding a person's id, phone, address or words can be left out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class Erase(StrEnum):
    DELETE = "delete"  # the rows go with her account
    BLANK = "blank"  # the row stays (someone else's record of it), its `words` lose what described her
    KEEP = "keep"  # kept as it is, pointing at the pseudonym that replaced her (`kept` says how long)
    FORGET = "forget"  # kept as BLANK until the retention period ends (LINLI_RETENTION_DAYS), then deleted
    DOMAIN = "domain"  # the domain's own erasure does it (Domain.erase), as `kept` says


@dataclass(frozen=True)
class Held:
    """One table of a domain, as far as people go."""

    model: Any  # the SQLAlchemy model
    section: str  # the export's section, named in her words under content/locales privacy.sections.*
    why: str  # why it is held (docs/privacy.md)
    about: tuple[str, ...] = ()  # columns naming whom a row is about: the row is hers
    by: tuple[str, ...] = ()  # columns naming who asked, wrote or paid for it (maybe for someone else)
    acting: tuple[str, ...] = ()  # columns naming staff or helpers acting in their role: kept, pointing at a pseudonym
    words: tuple[str, ...] = ()  # columns holding a phone, an address, a place or someone's words
    # Columns that look personal but identify or describe nobody: chosen from a list (consented
    # scopes, skills, a code for why), or written for everyone.
    public: tuple[str, ...] = ()
    # Rows that are hers though no column names her: a WHERE clause given her id (the lines of
    # her orders, her home's hours of use, the codes asked for her phone).
    rows: Callable[[int], ColumnElement[bool]] | None = None
    erase: Erase = Erase.DELETE  # what erasure does to the rows about her (`about`, `rows`)
    erase_by: Erase = Erase.KEEP  # ... and to the rows she only asked, wrote or paid for (`by`)
    blank: Mapping[str, Any] = field(default_factory=dict)  # BLANK and FORGET: what the words become
    blank_by: Mapping[str, Any] = field(default_factory=dict)  # erase_by BLANK: what her own words become
    kept: str = ""  # what stays after erasure, for how long, and why (docs/privacy.md)
    secret: tuple[str, ...] = ()  # columns never exported (they prove or protect something)
    export: bool = True  # False: mechanics, not data about her (the table's `why` says)
    one: bool = False  # at most one row is hers (the person, her flat): exported as an object
    # Notices to others about one of her rows carry its id in their data under this key (an
    # alarm's alertId): their text names her, so it goes with her (kept until FORGET deletes them).
    notice_key: str | None = None
    notice_column: str | None = None  # the column whose value notices carry (default: the row's id)

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)


@dataclass(frozen=True)
class NotPersonal:
    """A table with columns that look personal but hold nobody's data (the warning system's
    headline, a community's public phone number)."""

    model: Any
    why: str
    acting: tuple[str, ...] = ()  # columns naming staff acting in their role (kept, as in Held)


Declared = Held | NotPersonal

# A domain's step when an account is deleted (Domain.end_work): end the person's open work in
# that domain and tell whoever was expecting it, before anything is erased.
# (session, the process's parts: `backend.parts.Parts`, the person: `access.subject.Actor`),
# named loosely: the parts carry this module's Plan, and the ground names nothing above it.
EndWork = Callable[["AsyncSession", Any, Any], Awaitable[None]]
# A domain's own erasure of what the generic steps cannot do (Erase.DOMAIN).
EraseStep = Callable[["AsyncSession", Any, int], Awaitable[None]]


@dataclass(frozen=True)
class Plan:
    """Every domain's declarations and steps, as the registry gathers them and the composition
    root hands them to the privacy room (which, below the registry, cannot look them up)."""

    declared: tuple[Declared, ...] = ()
    end_work: tuple[tuple[str, EndWork], ...] = ()  # (domain, step), in the registry's order
    erase: tuple[tuple[str, EraseStep], ...] = ()

    @property
    def held(self) -> tuple[Held, ...]:
        return tuple(d for d in self.declared if isinstance(d, Held))
