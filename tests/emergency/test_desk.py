"""Presses that arrive together are stored together, and each still gets its own answer."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from backend.config import Settings
from backend.emergency.desk import AlarmDesk
from backend.emergency.models import Alert, AlertEvent, AlertSource
from backend.emergency.service import Press
from backend.errors import InvalidInput
from backend.events import OutboxEvent
from backend.jobs import Job
from tests.conftest import ELDER, ELDER_2, HEPING_ELDER, Api, Database
from tests.emergency.test_gql import press


def _press(people: dict[str, int], phone: str, key: str | None = None) -> Press:
    return Press(people[phone], None, 1, AlertSource.APP, key)


def _count_commits(db: Database) -> list[int]:
    commits: list[int] = []
    event.listen(db.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_many_elders_pressing_at_once_are_stored_in_a_few_transactions(
    db: Database, people: dict[str, int], settings: Settings
) -> None:
    desk = AlarmDesk(db.factory, settings)
    commits = _count_commits(db)
    phones = [ELDER, ELDER_2, HEPING_ELDER]
    answers = await asyncio.gather(*(desk.press(_press(people, p, f"together-{p}")) for p in phones))
    assert [a.new for a in answers] == [True, True, True]
    assert len({a.alert.id for a in answers}) == 3
    assert len(commits) <= 2  # the first press alone, then the others together
    async with db.factory() as session:
        stored = (await session.scalars(select(Alert.person_id).order_by(Alert.id))).all()
        raised = await session.scalar(select(func.count()).where(AlertEvent.kind == "raised"))
        told = await session.scalar(select(func.count()).where(OutboxEvent.topic == "emergency.raised"))
        timers = await session.scalar(select(func.count()).where(Job.kind == "emergency.escalate"))
    assert sorted(stored) == sorted(people[p] for p in phones)
    assert (raised, told, timers) == (3, 3, 3)


async def test_within_one_group_a_second_press_joins_and_a_replay_returns_the_alarm(
    db: Database, people: dict[str, int], settings: Settings
) -> None:
    desk = AlarmDesk(db.factory, settings)
    first, again, replay = await asyncio.gather(
        desk.press(_press(people, ELDER, "group-key-0001")),
        desk.press(_press(people, ELDER, "group-key-0002")),
        desk.press(_press(people, ELDER, "group-key-0001")),
    )
    assert first.new is True and again.new is False and replay.new is False
    assert first.alert.id == again.alert.id == replay.alert.id
    # The second press was within the minute of the first notice: nobody was told again.
    assert again.again is False and again.told == first.told == ("family",)  # no home: no grid worker
    async with db.factory() as session:
        alerts = (await session.scalars(select(Alert))).all()
        kinds = (await session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id))).all()
    assert len(alerts) == 1 and alerts[0].presses == 2
    assert kinds == ["raised", "pressed_again"]


async def test_one_bad_press_is_refused_alone(db: Database, people: dict[str, int], settings: Settings) -> None:
    """A key used by another person is refused; the alarm pressed beside it is stored."""
    desk = AlarmDesk(db.factory, settings)
    await desk.press(_press(people, ELDER, "shared-key-0001"))
    stolen, fine = await asyncio.gather(
        desk.press(_press(people, ELDER_2, "shared-key-0001")),
        desk.press(_press(people, HEPING_ELDER, "own-key-00001")),
        return_exceptions=True,
    )
    assert isinstance(stolen, InvalidInput)
    assert not isinstance(fine, BaseException) and fine.new is True
    async with db.factory() as session:
        owners = (await session.scalars(select(Alert.person_id))).all()
    assert sorted(owners) == sorted([people[ELDER], people[HEPING_ELDER]])


async def test_an_alarm_is_stored_even_if_the_caller_hangs_up(
    db: Database, people: dict[str, int], settings: Settings
) -> None:
    desk = AlarmDesk(db.factory, settings)
    waiting = asyncio.create_task(desk.press(_press(people, ELDER, "hung-up-00001")))
    await asyncio.sleep(0)
    waiting.cancel()
    await desk.close()
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 1


async def test_elders_pressing_together_through_the_api_each_get_their_own_answer(api: Api) -> None:
    raised = await asyncio.gather(press(api, ELDER), press(api, ELDER_2), press(api, HEPING_ELDER))
    assert all(r["__typename"] == "EmergencyRaised" and r["new"] for r in raised)
    assert len({r["emergency"]["id"] for r in raised}) == 3
    replies = {r["emergency"]["id"]: r["reply"]["text"] for r in raised}
    assert [replies[r["emergency"]["id"]] for r in raised] == [
        "已通知网格员和您的家人，请保持电话畅通。",
        "已通知网格员和您的家人，请保持电话畅通。",
        "已通知网格员，请保持电话畅通。",  # nobody of his family receives alerts
    ]
