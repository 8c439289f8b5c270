"""The community room's personal data (backend.personal): the person, her home, her roles."""

from __future__ import annotations

from sqlalchemy import select

from backend.community.models import (
    Community,
    Device,
    DutyAssignment,
    GridAssignment,
    Household,
    Membership,
    Person,
)
from backend.personal import Declared, Erase, Held, NotPersonal

DATA: tuple[Declared, ...] = (
    Held(
        Person,
        "person",
        why="who she is: name, mobile number (her sign-in), birth date (elder services), language and screen settings",
        rows=lambda pid: Person.id == pid,
        one=True,
        words=("name", "phone"),
        secret=("voice_pin_hash", "community_card"),
        erase=Erase.DOMAIN,
        kept="the row stays as a pseudonym (privacy.pseudonym, a number nobody can call) so kept records point somewhere",
        notice_key="personId",  # notices to family and staff about her (a missed check-in)
    ),
    Held(
        Household,
        "household",
        why="the flat she lives in: where services, meals and help come to",
        rows=lambda pid: Household.id.in_(select(Person.household_id).where(Person.id == pid)),
        one=True,
        words=("address",),
        erase=Erase.KEEP,
        kept="the flat stays in the community's register; she is no longer linked to it",
    ),
    Held(Membership, "roles", why="her roles in each community", about=("person_id",)),
    Held(GridAssignment, "grids", why="the grids a grid worker looks after", about=("person_id",)),
    Held(DutyAssignment, "duty_rota", why="the shifts a staff member works", about=("person_id",)),
    Held(
        Device,
        "devices",
        why="her phone's push address, her band, her landline: how she is reached and raises alarms",
        about=("person_id",),
        words=("identifier", "label", "details"),
    ),
    Held(
        Device,
        "home_devices",
        why="the TV boxes of her home (paired with the flat, shared with whoever lives there)",
        rows=lambda pid: Device.household_id.in_(select(Person.household_id).where(Person.id == pid)),
        words=("identifier", "label", "details"),
        erase=Erase.KEEP,
        kept="a box stays with the flat; unpaired when her account is deleted if she lived alone",
    ),
    NotPersonal(Community, "a community's public service line and place"),
)
