"""The portal's home screen and the red key's alarm as it stands, in the elder's words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.emergency import service as emergency
from backend.errors import NotFound
from tv_channel.portal.frame import Frame, Route, reply_to_alarm
from tv_channel.portal.household import TvHome

BUTTONS = (
    "menu",
    "services",
    "orders",
    "notices",
    "events",
    "announcements",
    "contacts",
    "callback",
    "consult",
    "help",  # key 0
)


async def home(frame: Frame, session: AsyncSession, home: TvHome) -> dict[str, Any]:
    elder = home.elder
    greeting = frame.texts.text(home.locale, "home.greeting", name=elder.name).lstrip("，, ")
    return {
        "community": home.community.name,
        "locale": home.locale,
        "fontScale": max(1.0, elder.font_scale),
        "readAloud": elder.read_aloud,
        "slowSpeech": elder.slow_speech,
        "greeting": frame.said(home, greeting),
        "buttons": [
            {
                "key": key,
                "label": frame.t(home, f"buttons.{key}.label"),
                **frame.said(
                    home,
                    f"{frame.t(home, f'buttons.{key}.label')}。{frame.t(home, f'buttons.{key}.plain')}",
                    shared=True,
                ),
            }
            for key in BUTTONS
        ],
        "texts": frame.texts.section(home.locale, "tv.portal"),
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
