"""The portal's home screen and the red key's alarm as it stands, in the elder's words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access.subject import Door
from backend.community import screens
from backend.emergency import service as emergency
from backend.errors import NotFound
from tv_channel.portal.frame import Frame, Route, reply_to_alarm
from tv_channel.portal.household import TvHome


async def home(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    """The home every door shows (`community.screens`), as the portal's JSON. Each screen's
    title is its entry's label, so the texts carry the entries too."""
    screen = screens.home_of(
        home.community,
        home.elder,
        catalog=frame.texts,
        read_aloud=frame.parts.read_aloud,
        locale=home.locale,
        door=Door.TV,
    )
    return {
        "community": home.community.name,
        "locale": home.locale,
        "fontScale": max(1.0, screen.font_scale),
        "readAloud": screen.read_aloud,
        "slowSpeech": screen.slow_speech,
        "greeting": {"text": screen.greeting.text, "readAloudUrl": screen.greeting.read_aloud_url},
        "buttons": [
            {"key": b.key, "digit": b.digit, "label": b.label, "action": b.action, "readAloudUrl": b.read_aloud_url}
            for b in screen.buttons
        ],
        "texts": {
            **frame.texts.section(home.locale, "tv.portal"),
            "buttons": {b.key: {"label": b.label, "plain": b.plain_text} for b in screen.buttons},
        },
    }


async def alarm_state(frame: Frame, session: AsyncSession, home: TvHome, alert_id: int) -> dict[str, Any]:
    pressed = await emergency.as_it_stands(session, frame.settings, alert_id)
    if pressed is None or pressed.alert.household_id != home.household.id:
        raise NotFound()
    return reply_to_alarm(frame, home, pressed)


ROUTES = (
    Route("GET", "/home", home),
    Route("GET", "/alarm/{alert_id:int}", alarm_state),
)
