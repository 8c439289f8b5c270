"""People of a community: who they are, their own settings, the residents staff serve."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.access import rules
from backend.access.subject import Actor
from backend.community import repository
from backend.community.errors import CardInUse
from backend.community.models import ELDER_AGE, Person, card_digits
from backend.content.catalog import SUPPORTED_LOCALES
from backend.errors import InvalidInput, NotFound
from backend.events import emit

# Someone at home used a door of ours (the TV's remote, a call to the line): a sign of life.
# The door says so and nothing more; the rooms that care (wellbeing) react to the event.
SIGN_OF_LIFE = "community.sign_of_life"

FONT_SCALES = (1.0, 1.3, 1.5, 2.0)
MIN_CARD, MAX_CARD = 8, 32  # digits on a community card


def sign_of_life(session: AsyncSession, *, person_id: int, household_id: int | None, door: str) -> None:
    """With the action that showed it, or not at all."""
    emit(session, SIGN_OF_LIFE, {"person_id": person_id, "household_id": household_id, "door": door})


async def get_person(session: AsyncSession, actor: Actor, person_id: int) -> Person:
    if not await rules.may_see(session, actor, person_id):
        raise NotFound()  # the same answer whether it exists or not
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound()
    return person


async def residents(
    session: AsyncSession,
    actor: Actor,
    *,
    community_id: int,
    after_id: int | None,
    limit: int,
    elders_only: bool,
    tz: ZoneInfo,
) -> Sequence[Person]:
    in_view = await rules.in_view(session, actor, community_id, Person.id)
    born_before = None
    if elders_only:
        today = clock.today(tz)
        born_before = today.replace(year=today.year - ELDER_AGE)
    return await repository.residents_page(
        session, community_id, after_id=after_id, limit=limit, elders_born_before=born_before, in_view=in_view
    )


async def update_accessibility(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: int | None,
    font_scale: float | None,
    read_aloud: bool | None,
    slow_speech: bool | None,
    locale: str | None,
) -> Person:
    """The person, or a family member with manage_settings, or staff, set how screens look and sound."""
    target = (await rules.acting_for(session, actor, person_id)).person
    # Check everything before changing anything: bad input changes nothing.
    if font_scale is not None and font_scale not in FONT_SCALES:
        raise InvalidInput(f"fontScale: {'/'.join(str(s) for s in FONT_SCALES)}", field="fontScale")
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(f"locale: {'/'.join(SUPPORTED_LOCALES)}", field="locale")
    if font_scale is not None:
        target.font_scale = font_scale
    if locale is not None:
        target.locale = locale
    if read_aloud is not None:
        target.read_aloud = read_aloud
    if slow_speech is not None:
        target.slow_speech = slow_speech
    return target


async def flag_elder(session: AsyncSession, actor: Actor, *, person_id: int, elder: bool) -> Person:
    """Staff treat someone under 60 as an elder (disability, living alone) or stop doing so."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound()
    if not await rules.is_staff_for(session, actor, person_id):
        raise NotFound()
    person.elder_flag = elder
    return person


async def set_community_card(session: AsyncSession, actor: Actor, *, person_id: int, number: str | None) -> Person:
    """Staff record the card issued to a resident (or take it away when it is lost)."""
    person = await session.get(Person, person_id)
    if person is None or not await rules.is_staff_for(session, actor, person_id):
        raise NotFound()
    digits = card_digits(number) if number else None
    if digits is not None and not MIN_CARD <= len(digits) <= MAX_CARD:
        raise InvalidInput("card number", field="cardNumber")
    if digits is not None and digits != person.community_card:
        holder = await session.scalar(select(Person.id).where(Person.community_card == digits))
        if holder is not None:
            raise CardInUse()
    person.community_card = digits
    return person
