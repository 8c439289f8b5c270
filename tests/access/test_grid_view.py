"""A grid worker's staff lists hold the people of the grids she looks after; the service centre's
the whole community (the residents, call-backs; the visit plan is in tests/wellbeing)."""

from __future__ import annotations

from typing import Any

from backend.db import transaction
from backend.phone.models import CallbackFor, CallbackRequest
from tests.conftest import ELDER, GRID_WORKER, SERVICE_CENTRE, Api, Database

OTHER_GRID = "+8613800000011"  # 张振华, 3号楼, grid 2


async def residents(api: Api, phone: str) -> set[str]:
    names: set[str] = set()
    after = None
    while True:
        page = await api.op("staff/Residents", {"communityId": "1", "after": after}, await api.sign_in(phone))
        assert "errors" not in page, page
        names |= {n["name"] for n in page["data"]["residents"]["nodes"]}
        if not page["data"]["residents"]["pageInfo"]["hasNextPage"]:
            return names
        after = page["data"]["residents"]["pageInfo"]["endCursor"]


async def test_a_grid_worker_lists_her_own_grids_residents_and_the_centre_everyones(api: Api) -> None:
    hers, everyone = await residents(api, GRID_WORKER), await residents(api, SERVICE_CENTRE)
    assert "黎文华" in hers and "张振华" not in hers
    assert "张振华" in everyone and hers < everyone


async def test_a_grid_worker_sees_call_backs_of_her_grids_and_of_every_unknown_number(
    api: Api, db: Database, people: dict[str, int]
) -> None:
    async with transaction(db.factory) as session:
        for person, phone in ((people[ELDER], ELDER), (people[OTHER_GRID], OTHER_GRID), (None, "+8613312345678")):
            session.add(
                CallbackRequest(
                    community_id=1, person_id=person, phone=phone, asked_of=CallbackFor.CENTRE, reason="asked"
                )
            )

    async def phones(phone: str) -> list[Any]:
        found = await api.op("staff/CallbackRequests", {"communityId": "1"}, await api.sign_in(phone))
        return sorted(r["phone"] for r in found["data"]["callbackRequests"])

    assert await phones(GRID_WORKER) == sorted([ELDER, "+8613312345678"])
    assert await phones(SERVICE_CENTRE) == sorted([ELDER, OTHER_GRID, "+8613312345678"])
