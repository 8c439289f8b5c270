"""The auth room's standing job: sign-in codes, sessions and TV pairings that have served their
purpose go a day after (docs/privacy.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.auth import repository
from backend.db import utcnow
from backend.jobs import JobRun
from backend.parts import Parts

PRUNE = "auth.prune"
KEPT_AFTER = dt.timedelta(days=1)

jobs.standing(PRUNE)


@jobs.job_handler(PRUNE)
async def prune(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await repository.prune(session, utcnow() - KEPT_AFTER)
    await jobs.schedule(session, PRUNE, utcnow() + dt.timedelta(days=1), key=jobs.standing_key(PRUNE))
