"""A request's session ends cleanly even when the client leaves at the worst moment."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from backend.api.context import WIRING
from backend.community.models import Subdistrict
from backend.gql.context import Context
from tests.conftest import Database


@pytest.mark.parametrize("steps_before_leaving", [1, 2, 3, 5, 8])
async def test_a_client_leaving_mid_commit_keeps_what_was_written(db: Database, steps_before_leaving: int) -> None:
    """A subscriber hangs up while the read they caused (an access-log row) is being
    committed: the row is kept and the request's own close does not fail."""
    ctx = Context(SimpleNamespace(factory=db.factory), WIRING, ip="127.0.0.1", request_id="t", locale="zh-CN")  # type: ignore[arg-type]
    ctx.session.add(Subdistrict(code="left-mid-commit", name="测试街道"))
    await ctx.session.flush()

    ending = asyncio.create_task(ctx.commit_and_close())
    for _ in range(steps_before_leaving):
        await asyncio.sleep(0)  # the commit is under way
    ending.cancel()  # the client left
    await ctx.close()  # the connection's scope ends: must wait, not fail

    async with db.factory() as check:
        names = (await check.scalars(select(Subdistrict.name).where(Subdistrict.code == "left-mid-commit"))).all()
    assert names == ["测试街道"]
