"""A new door is cheap: a smart speaker's skill, written here as a door of its own in a few
lines (docs/architecture.md, "Adding a door"). Who is asking comes from the access kernel (the
account the skill was linked to gives it her access token); what it says comes from the rooms'
screens; only the way of saying is its own. It says the same home as the phone line, today's
menu as the app shows it, and her requests for help with who is coming."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from backend import registry
from backend.access import rules
from backend.access.subject import Door, Subject, load_subject
from backend.community import screens
from backend.community.models import Community
from backend.config import REPO_ROOT
from backend.content.catalog import catalog_for
from tests.conftest import ELDER, Api
from tests.tv_channel.test_portal_api import paired_box


@dataclass
class Speaker:
    """The door: a token in, words out. It offers the home's entries whose rooms have a screen
    (the registry's, handed down as `parts.screens`) and says a screen's lines; it knows no room."""

    parts: Any  # what the process hands a door: settings, tokens, catalog, a session factory, screens

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
            f"{c.label}, {c.digit}"
            for c in screens.choices(self.parts.catalog, community.code, locale, Door.PHONE)
            if c.key in self.parts.screens
        ]

    async def open(self, token: str, entry: str) -> list[str]:
        async with self.parts.factory() as session:
            actor = (await self._subject(session, token)).actor
            screen = await self.parts.screens[entry](session, self.parts, actor, actor.person.locale)
        return list(screen.said)


async def test_a_speaker_says_the_home_the_menu_and_her_help_as_the_other_doors_show_them(api: Api) -> None:
    token = await api.sign_in(ELDER)
    speaker = Speaker(api.runtime)
    box = {"Authorization": f"Bearer {await paired_box(api)}"}

    # The home: the entries whose rooms have a screen, the same words and keys as the app's
    app = (await api.op("app/Home", {}, token))["data"]["home"]["buttons"]
    said = await speaker.home(token)
    assert said == ["助餐, 1", "消息, 4", "邻里互助, 6", "活动和课程, 7", "公告和政策, 8"]
    assert set(said) <= {f"{b['label']}, {b['digit']}" for b in app}

    # Today's menu: every dish the app lists, in the words the TV reads aloud
    menu = (await api.op("app/TodayMenu", {}, token))["data"]["todayMenu"]
    lines = await speaker.open(token, "meals")
    tv = (await api.client.get("/tv/portal/api/menu", headers=box)).json()
    dishes = [d["text"] for m in tv["meals"] for d in m["dishes"]]
    assert [line for line in lines if line in dishes] == dishes
    assert len(dishes) == sum(len(m["dishes"]) for m in menu) > 0
    assert all(any(d["name"] in line for line in lines) for m in menu for d in m["dishes"])
    assert "元" in dishes[0]

    # Her help: nothing asked yet, then a request she made in the app with nobody coming yet
    assert await speaker.open(token, "mutual_help") == ["您最近没有请邻居帮忙。"]
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    asked = await api.op("app/AskForHelp", {"input": {"kind": "READING", "startsAt": tomorrow.isoformat()}}, token)
    assert asked["data"]["askForHelp"]["__typename"] == "HelpRequest", asked
    [line] = await speaker.open(token, "mutual_help")
    assert line.startswith("读报 · ") and line.endswith(" · 在找志愿者")
    [request] = (await api.client.get("/tv/portal/api/help", headers=box)).json()["requests"]
    assert request["text"].startswith("读报 · ") and request["text"].endswith(" · 在找志愿者")

    # Her messages: the TV's list, read the same way
    tv_notices = (await api.client.get("/tv/portal/api/notices", headers=box)).json()
    heard = await speaker.open(token, "notices")
    assert heard == ([n["text"] for n in tv_notices["notices"]] or [tv_notices["none"]])

    # The notice board: what the TV lists for her home, in the same words
    for entry in ("events", "announcements"):
        tv_board = (await api.client.get(f"/tv/portal/api/{entry}", headers=box)).json()
        heard = await speaker.open(token, entry)
        assert heard == ([a["text"] for a in tv_board[entry]] or [tv_board["none"]]), entry


def test_every_screen_in_the_registry_answers_an_entry_of_the_home() -> None:
    """A room's screen is opened by a home entry's key: a key the home does not have is a
    screen no door can reach."""
    keys = {entry.key for entry in catalog_for(REPO_ROOT / "content").home(None)}
    assert set(registry.screens()) <= keys
    assert {"meals", "mutual_help", "notices", "events", "announcements"} <= set(registry.screens())
