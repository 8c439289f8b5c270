"""The durable steps of PIPL rights: erase a deleted account, forget it after the retention
period, and drop an export's copy of the data when it expires."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import jobs
from backend.jobs import JobRun
from backend.parts import Parts
from backend.privacy import deletion, service


@jobs.job_handler(deletion.ERASE)
async def run_erase(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await deletion.erase(
        session,
        int(run.payload["person_id"]),
        parts=parts,
        pseudonym=parts.catalog.text(None, "privacy.pseudonym"),  # records are the community's: its language
    )


@jobs.job_handler(deletion.FORGET, waits=True)
async def run_forget(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await deletion.forget(session, int(run.payload["person_id"]), plan=parts.personal)


@jobs.job_handler(service.EXPIRE_EXPORT, waits=True)
async def run_expire_export(session: AsyncSession, run: JobRun, parts: Parts) -> None:
    await service.expire_export(session, int(run.payload["export_id"]))
