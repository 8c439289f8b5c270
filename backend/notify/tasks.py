"""Background steps of notifications: the next path when a message was not confirmed in
time (or quiet hours ended), and reminders coming due."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.jobs import JobRun
from backend.notify import reminders, service
from backend.parts import Parts


@jobs.job_handler(service.NEXT_PATH)
async def run_next_path(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.next_path_due(session, parts, int(run.payload["notification_id"]))


@jobs.job_handler(reminders.DUE)
async def run_reminder(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await reminders.due(session, parts, int(run.payload["reminder_id"]))
