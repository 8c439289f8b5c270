"""The safety room's personal data (backend.personal): roll-call answers."""

from __future__ import annotations

from backend.personal import Declared, Erase, Held, NotPersonal
from backend.safety.models import OfficialWarning, RollCall, RollCallHome, WarningPolicy

DATA: tuple[Declared, ...] = (
    Held(
        RollCallHome,
        "roll_call_answers",
        why="her home's answer to a roll-call, and who gave it",
        by=("answered_by_id",),
        erase_by=Erase.KEEP,
        kept="the home's answer stays the community's record; it points at the pseudonym",
    ),
    NotPersonal(OfficialWarning, "official warnings from the warning-release system", acting=("ended_by_id",)),
    NotPersonal(WarningPolicy, "a community's warning settings", acting=("updated_by_id",)),
    NotPersonal(RollCall, "a roll-call staff start for everyone, with its reason", acting=("started_by_id",)),
)
