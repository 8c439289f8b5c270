"""Load the synthetic demo community from content/demo (idempotent: run it as often as you like)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulletin.models import Announcement, Audience, CommunityEvent, Contact, ContactKind, EventKind, NoticeKind
from backend.community.models import (
    Building,
    Community,
    Device,
    DeviceKind,
    Grid,
    GridAssignment,
    Household,
    Membership,
    Person,
    Role,
    Subdistrict,
)
from backend.consultation.models import ConsultDesk, DeskKind, DeskMember
from backend.db import utcnow
from backend.family.models import ConsentVia, FamilyLink, LinkStatus
from backend.mutual_help.models import Volunteer

M = TypeVar("M")


async def _upsert(session: AsyncSession, model: type[M], key: dict[str, Any], values: dict[str, Any]) -> M:
    query = select(model).filter_by(**key)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        await session.flush()
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


async def load_demo(session: AsyncSession, data: dict[str, Any]) -> dict[str, int]:
    places = await _places(session, data)
    people = await _people(session, data, places)
    await _family_links(session, data.get("family_links", []), people)
    for d in data.get("devices", []):
        await _upsert(
            session,
            Device,
            {"kind": DeviceKind(d["kind"]), "identifier": d["identifier"]},
            {"vendor": d.get("vendor"), "person_id": people[d["person"]].id if d.get("person") else None},
        )
    await _noticeboard(session, data.get("noticeboard", {}), places.communities, people)
    await _desks(session, data.get("consult_desks", {}), places.communities, people)
    await _volunteers(session, data.get("volunteers", []), people)
    await session.flush()
    return {"communities": len(places.communities), "households": len(places.households), "people": len(people)}


@dataclass
class _Places:
    communities: dict[str, Community] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)


async def _places(session: AsyncSession, data: dict[str, Any]) -> _Places:
    """The subdistrict, its communities, their grids, buildings and homes, by code."""
    sd = data["subdistrict"]
    subdistrict = await _upsert(session, Subdistrict, {"code": sd["code"]}, {"name": sd["name"]})
    places = _Places()
    for c in data["communities"]:
        community = await _upsert(
            session,
            Community,
            {"code": c["code"]},
            {
                "name": c["name"],
                "subdistrict_id": subdistrict.id,
                "service_phone": c.get("service_phone"),
                "area_code": c.get("area_code"),
                "latitude": c.get("latitude"),
                "longitude": c.get("longitude"),
            },
        )
        places.communities[c["code"]] = community
        for g in c["grids"]:
            grid = await _upsert(session, Grid, {"code": g["code"]}, {"name": g["name"], "community_id": community.id})
            places.grids[g["code"]] = grid
            for b in g["buildings"]:
                building = await _upsert(
                    session, Building, {"code": b["code"]}, {"name": b["name"], "grid_id": grid.id}
                )
                for h in b["households"]:
                    address = data["address_format"].format(
                        subdistrict=sd["name"], community=c["name"], building=b["name"], unit=h["unit"]
                    )
                    places.households[h["code"]] = await _upsert(
                        session,
                        Household,
                        {"code": h["code"]},
                        {
                            "building_id": building.id,
                            "community_id": community.id,
                            "unit": h["unit"],
                            "address": address,
                        },
                    )
    return places


async def _people(session: AsyncSession, data: dict[str, Any], places: _Places) -> dict[str, Person]:
    """Everyone by phone, with their roles in each community and the grids they look after."""
    people: dict[str, Person] = {}
    for p in data["people"]:
        values: dict[str, Any] = {
            "name": p["name"],
            "birth_date": dt.date.fromisoformat(p["birth_date"]) if p.get("birth_date") else None,
            "locale": p.get("locale", "zh-CN"),
            "household_id": places.households[p["household"]].id if p.get("household") else None,
            "elder_flag": p.get("elder_flag", False),
            "font_scale": p.get("font_scale", 1.0),
            "read_aloud": p.get("read_aloud", False),
            "slow_speech": p.get("slow_speech", False),
            "community_card": p.get("community_card"),
        }
        person = await _upsert(session, Person, {"phone": p["phone"]}, values)
        people[p["phone"]] = person
        for community_code, role in p.get("roles", []):
            key = {"person_id": person.id, "community_id": places.communities[community_code].id, "role": Role(role)}
            await _upsert(session, Membership, key, {})
        for grid_code in p.get("grids", []):
            await _upsert(session, GridAssignment, {"person_id": person.id, "grid_id": places.grids[grid_code].id}, {})
    return people


async def _family_links(session: AsyncSession, links: list[dict[str, Any]], people: dict[str, Person]) -> None:
    """Each link active, the elder's consent given in the app (a link once made is kept)."""
    now = utcnow()
    for link in links:
        elder, family = people[link["elder"]], people[link["family"]]
        existing = (
            await session.execute(
                select(FamilyLink).where(FamilyLink.elder_id == elder.id, FamilyLink.family_id == family.id)
            )
        ).scalar_one_or_none()
        if existing is None:
            session.add(
                FamilyLink(
                    elder_id=elder.id,
                    family_id=family.id,
                    relation=link["relation"],
                    scopes=sorted(link["scopes"]),
                    status=LinkStatus.ACTIVE,
                    initiated_by_id=elder.id,
                    elder_consent_at=now,
                    elder_consent_via=ConsentVia.APP,
                    elder_consent_by_id=elder.id,
                    family_accepted_at=now,
                )
            )


async def _volunteers(session: AsyncSession, volunteers: list[dict[str, Any]], people: dict[str, Person]) -> None:
    for v in volunteers:
        values = {
            "skills": sorted(v["skills"]),
            "weekdays": v["weekdays"],
            "from_time": dt.time.fromisoformat(v["from"]),
            "until_time": dt.time.fromisoformat(v["until"]),
            "active": True,
            "answers_alarms": v.get("answers_alarms", False),
        }
        await _upsert(session, Volunteer, {"person_id": people[v["phone"]].id}, values)


async def _noticeboard(
    session: AsyncSession, data: dict[str, Any], communities: dict[str, Community], people: dict[str, Person]
) -> None:
    """Each community's contacts, announcements and the events of the coming days (dates
    relative to today, so the demo always has something ahead)."""
    if not data:
        return
    admin = people[data["published_by"]]
    now = utcnow()
    for code, board in data.items():
        community = communities.get(code)
        if community is None:
            continue
        zone = ZoneInfo(community.timezone)
        for i, c in enumerate(board.get("contacts", [])):
            values = {"kind": ContactKind(c["kind"]), "name": c["name"], "phone": c["phone"], "hours": c["hours"]}
            await _upsert(session, Contact, {"community_id": community.id, "position": i}, values)
        for a in board.get("announcements", []):
            values = {
                "kind": NoticeKind(a["kind"]),
                "body": a["body"],
                "plain": a["plain"],
                "audience": Audience(a.get("audience", "community")),
                "min_age": a.get("min_age"),
                "published_by_id": admin.id,
                "starts_at": now - dt.timedelta(days=1),
                "ends_at": None,
                "withdrawn_at": None,
            }
            await _upsert(session, Announcement, {"community_id": community.id, "title": a["title"]}, values)
        today = now.astimezone(zone).date()
        for e in board.get("events", []):
            starts = dt.datetime.combine(
                today + dt.timedelta(days=e["days"]), dt.time.fromisoformat(e["time"]), tzinfo=zone
            ).astimezone(dt.UTC)
            values = {
                "kind": EventKind(e["kind"]),
                "plain": e["plain"],
                "place": e["place"],
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=e["hours"]),
                "capacity": e["capacity"],
                "created_by_id": admin.id,
                "cancelled_at": None,
            }
            await _upsert(session, CommunityEvent, {"community_id": community.id, "title": e["title"]}, values)


async def _desks(
    session: AsyncSession, data: dict[str, Any], communities: dict[str, Community], people: dict[str, Person]
) -> None:
    """Each community's consultation desks: hours, reply promise and who answers."""
    for code, desks in data.items():
        community = communities.get(code)
        if community is None:
            continue
        for d in desks:
            values = {
                "opens": dt.time.fromisoformat(d["opens"]),
                "closes": dt.time.fromisoformat(d["closes"]),
                "weekdays": d["weekdays"],
                "promise_minutes": d["promise_minutes"],
            }
            desk = await _upsert(
                session, ConsultDesk, {"community_id": community.id, "kind": DeskKind(d["kind"])}, values
            )
            for phone in d["people"]:
                await _upsert(
                    session,
                    DeskMember,
                    {"desk_id": desk.id, "person_id": people[phone].id},
                    {"lead": phone == d.get("lead")},
                )
