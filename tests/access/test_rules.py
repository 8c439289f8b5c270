"""The access kernel: one subject for every front door, one grant for acting for someone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.access import rules
from backend.access.rules import Placed
from backend.access.subject import Act, Door, Subject, load_memberships, person_by_phone
from backend.access.subject import Actor as PersonActor
from backend.community.models import Device, DeviceKind, Person
from backend.errors import Forbidden, NotFound
from backend.family.models import FamilyLink, LinkStatus, Scope
from tests.conftest import Database

ELDER = "+8613800000001"
SON = "+8613900000001"  # order_for, receive_alerts, view_wellbeing
DAUGHTER = "+8613900000003"  # manage_settings
GRID = "+8613700000001"  # 幸福社区
OTHER_ELDER = "+8613800000021"  # 和平社区
TODAY = dt.date(2026, 11, 29)


async def actor(db: Database, phone: str) -> PersonActor:
    async with db.factory() as session:
        person = await person_by_phone(session, phone)
        assert person is not None
        return PersonActor(person, await load_memberships(session, person.id))


async def test_a_caller_known_only_by_number_may_raise_an_alarm_and_hear_the_menu(
    db: Database, people: dict[str, int]
) -> None:
    caller = Subject.caller(await actor(db, ELDER), pin_verified=False)
    with_pin = Subject.caller(await actor(db, ELDER), pin_verified=True)

    assert caller.signed_in is None  # no screens, no orders, no settings on caller id alone
    assert with_pin.signed_in is not None and with_pin.signed_in.id == people[ELDER]
    async with db.factory() as session:
        raiser = await rules.alarm_raised_by(session, caller, TODAY)
        home = await rules.home_for(session, caller, None)
    assert (raiser.person.id, raiser.door, raiser.slow) == (people[ELDER], Door.PHONE, True)
    assert home.person is None  # the menu of their home, as a TV shows it: no name, nothing personal


async def test_what_each_door_may_ask_is_said_once_in_the_kernel(db: Database, people: dict[str, int]) -> None:
    elder = await actor(db, ELDER)
    own = {Act.PERSONAL, Act.PAY, Act.FAMILY_DECISION}
    by_number = Subject.caller(elder)
    nobody = Subject.caller(None, community_id=1)
    keyed = by_number.with_pin()
    box = Subject(Door.TV, None, elder.person.household_id, 7, community_id=1)
    band = Subject.partner(elder, 1)

    # On caller id alone (or from a number nobody knows): the alarm and what everyone hears
    assert by_number.acts == nobody.acts == {Act.ALARM, Act.PUBLIC}
    assert not any(by_number.may(a) for a in own)
    # Her PIN opens the rest, for that call; a PIN opens nothing for a number nobody knows
    assert keyed.acts == set(Act) and nobody.with_pin().acts == {Act.ALARM, Act.PUBLIC}
    # Signed in: everything that is hers; a paired box in her home: the home elder's
    assert Subject.person(elder).acts == box.acts == set(Act)
    assert Subject(Door.TV, None, None, 7).acts == set()  # a box paired with no home
    # A partner's device raises its wearer's alarm and nothing else
    assert band.acts == {Act.ALARM}
    raiser = rules.raiser_of(band)
    assert raiser is not None and (raiser.person.id, raiser.community_id) == (people[ELDER], 1)
    assert rules.raiser_of(nobody) is None


async def test_a_tv_speaks_for_the_eldest_of_its_home_and_shows_no_name(db: Database, people: dict[str, int]) -> None:
    async with db.factory() as session:
        elder = await session.get(Person, people[ELDER])
        assert elder is not None and elder.household_id is not None
        box = Device(kind=DeviceKind.TV, identifier="tv-kernel-1", household_id=elder.household_id)
        session.add(box)
        await session.flush()
        tv = Subject.tv(box)

        raiser = await rules.alarm_raised_by(session, tv, TODAY)
        home = await rules.home_for(session, tv, None)

    assert tv.signed_in is None
    assert raiser.person.id == people[ELDER] and raiser.door == Door.TV
    assert home.person is None and home.community_id == raiser.community_id


async def test_one_grant_carries_the_link_it_was_made_through(db: Database, people: dict[str, int]) -> None:
    son, grid, daughter = await actor(db, SON), await actor(db, GRID), await actor(db, DAUGHTER)
    async with db.factory() as session:
        by_son = await rules.acting_for(session, son, people[ELDER], Scope.ORDER_FOR)
        by_grid = await rules.acting_for(session, grid, people[ELDER], Scope.ORDER_FOR)
        by_self = await rules.acting_for(session, son, None)
        with pytest.raises(Forbidden):  # a link without the scope
            await rules.acting_for(session, son, people[ELDER], Scope.MANAGE_SETTINGS)
        with pytest.raises(NotFound):  # no link at all: the same answer as nobody there
            await rules.acting_for(session, daughter, people[OTHER_ELDER], Scope.ORDER_FOR)
        with pytest.raises(NotFound):  # staff of another community
            await rules.acting_for(session, grid, people[OTHER_ELDER], Scope.ORDER_FOR)
        link = (
            await session.execute(
                select(FamilyLink).where(
                    FamilyLink.elder_id == people[ELDER],
                    FamilyLink.family_id == people[SON],
                    FamilyLink.status == LinkStatus.ACTIVE,
                )
            )
        ).scalar_one()

    assert (by_son.placed_as, by_son.person.id) == (Placed.FAMILY, people[ELDER])
    assert by_son.link is not None and by_son.link.id == link.id
    assert (by_grid.placed_as, by_grid.link) == (Placed.STAFF, None)
    assert (by_self.placed_as, by_self.person.id) == (Placed.SELF, people[SON])


async def test_a_revoked_link_stops_at_once(db: Database, people: dict[str, int]) -> None:
    son = await actor(db, SON)
    async with db.factory() as session:
        link = (
            await session.execute(
                select(FamilyLink).where(FamilyLink.elder_id == people[ELDER], FamilyLink.family_id == people[SON])
            )
        ).scalar_one()
        link.status = LinkStatus.REVOKED
        await session.flush()
        assert not await rules.may_see(session, son, people[ELDER])
        with pytest.raises(NotFound):
            await rules.acting_for(session, son, people[ELDER], Scope.ORDER_FOR)
