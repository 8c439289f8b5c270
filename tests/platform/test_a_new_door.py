"""A new door is cheap: a smart speaker's skill, written here as a door of its own in a few
lines (docs/architecture.md, "Adding a door"). Who is asking comes from the access kernel (the
account the skill was linked to gives it her access token); what it says comes from the rooms'
screens; only the way of saying is its own. It says the same home as the phone line, today's
menu as the app shows it, and her requests for help with who is coming."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend.access import rules
from backend.access.subject import Door, Subject, load_subject
from backend.commerce import service as commerce
from backend.community import screens
from backend.community.models import Community
from backend.mutual_help import screens as help_screens
from tests.conftest import ELDER, Api


@dataclass
class Speaker:
    """The door: a token in, words out. A speaker is a voice door, so it offers what the phone
    line offers of the home (the home's `doors`)."""

    parts: Any  # what the process hands a door: settings, tokens, catalog, a session factory

    async def _subject(self, session: Any, token: str) -> Subject:
        found = await load_subject(session, self.parts.tokens.decode_access(token))
        assert found is not None and found.actor is not None
        return found

    async def home(self, token: str) -> list[str]:
        async with self.parts.factory() as session:
            subject = await self._subject(session, token)
            community = await session.get(Community, (await rules.home_for(session, subject, None)).community_id)
            locale = subject.actor.person.locale
        return [
            f"{c.label}, {c.digit}" for c in screens.choices(self.parts.catalog, community.code, locale, Door.PHONE)
        ]

    async def menu(self, token: str) -> list[str]:
        async with self.parts.factory() as session:
            actor = (await self._subject(session, token)).actor
            meals = await commerce.today_menu(
                session, self.parts.settings, actor, None, texts=self.parts.catalog, locale=actor.person.locale
            )
        return [dish.name for meal in meals for dish in meal.dishes]

    async def help(self, token: str) -> list[str]:
        async with self.parts.factory() as session:
            actor = (await self._subject(session, token)).actor
            lines = await help_screens.her_help(session, actor.id)
        kind = self.parts.catalog.text
        return [
            f"{kind(actor.person.locale, f'mutual_help.kinds.{line.request.kind.value}')}: {'、'.join(line.going)}"
            for line in lines
        ]


async def test_a_speaker_says_the_home_the_menu_and_her_help_as_the_other_doors_show_them(api: Api) -> None:
    token = await api.sign_in(ELDER)
    speaker = Speaker(api.runtime)

    # The home: the phone line's entries, the same words and keys as the app's
    app = (await api.op("app/Home", {}, token))["data"]["home"]["buttons"]
    said = await speaker.home(token)
    assert said[:2] == ["紧急呼叫, 9", "助餐, 1"]
    assert set(said) <= {f"{b['label']}, {b['digit']}" for b in app}
    assert "联系家人, None" not in said and len(said) == 8  # what a voice door cannot do is not offered

    # Today's menu, as the app shows it
    menu = (await api.op("app/TodayMenu", {}, token))["data"]["todayMenu"]
    assert await speaker.menu(token) == [d["name"] for m in menu for d in m["dishes"]]

    # Her help: a request she made in the app, and nobody coming yet
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    asked = await api.op("app/AskForHelp", {"input": {"kind": "READING", "startsAt": tomorrow.isoformat()}}, token)
    assert asked["data"]["askForHelp"]["__typename"] == "HelpRequest", asked
    assert await speaker.help(token) == [f"{asked['data']['askForHelp']['kindName']}: "]
