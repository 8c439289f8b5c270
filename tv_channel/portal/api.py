"""What the portal asks of the server: each screen's data and each action, in the elder's
words with a read-aloud URL, through the same services as the app and the phone line.

Every route takes the box's token (`Authorization: Bearer`); a box unpaired since gets 401
and shows the pairing screen again. Expected failures come back as 409 with the code and a
message the elder can act on; nothing is half done (each action is one transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from backend import http_body
from backend.bulletin import service as bulletin
from backend.bulletin.models import SignupStatus
from backend.clock import today
from backend.commerce import service as commerce
from backend.commerce import today as day
from backend.commerce.models import Fulfilment
from backend.community import repository as community_repository
from backend.community import service as community
from backend.consultation import service as consultation
from backend.consultation.errors import NoSuchDesk
from backend.consultation.knowledge import TOPICS
from backend.consultation.models import DeskKind
from backend.db import transaction, utcnow
from backend.emergency import service as emergency
from backend.errors import DomainError, InvalidInput, NotFound
from backend.gql.errors import message_for
from backend.mutual_help import service as mutual_help
from backend.mutual_help.models import HelpKind, HelpRequest, OfferStatus, RequestStatus
from backend.notify import service as notify
from backend.parts import Parts
from backend.phone import service as phone
from backend.phone.models import CallbackFor
from backend.phones import mask_phone
from backend.safety import roll_call
from backend.safety import service as safety
from backend.services import service as services
from backend.services.catalog import service_catalog
from backend.wallet.payments import PayFrom
from backend.wellbeing import service as wellbeing
from tv_channel.pages import price
from tv_channel.portal.household import TvHome, bearer, tv_home

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
MOST_NOTICES = 20
MOST_PORTIONS = 5
HELP_MINUTES = 60


class Unpaired(Exception):
    pass


class Portal:
    def __init__(self, parts: Parts, turns: asyncio.Semaphore) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.texts = parts.catalog
        self.turns = turns  # the boxes' turns at the database (shared with the live connection)

    async def home_of(self, session: AsyncSession, request: Request, *, roles: bool = True) -> TvHome:
        token = bearer(request.headers.get("authorization"))
        home = await tv_home(session, self.settings, self.parts.tokens, token, with_roles=roles)
        if home is None:
            raise Unpaired()
        return home

    def t(self, home: TvHome, key: str, **params: object) -> str:
        return self.texts.text(home.locale, f"tv.portal.{key}", **params)

    def said(self, home: TvHome, text: str, *, shared: bool = False) -> dict[str, str]:
        """A text and where to hear it, in the elder's language and pace."""
        url = self.parts.read_aloud.url(text, locale=home.locale, slow=home.slow, shared=shared)
        return {"text": text, "readAloudUrl": url}

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.settings.zone)

    def when(self, home: TvHome, at: dt.datetime) -> str:
        local = self.local(at)
        weekday = self.texts.section(home.locale, "tv.portal.services").get("weekdays", [""] * 7)[local.weekday()]
        return self.t(home, "services.slot", month=local.month, day=local.day, weekday=weekday, time=f"{local:%H:%M}")

    # Screens

    async def home(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        elder = home.elder
        greeting = self.texts.text(home.locale, "home.greeting", name=elder.name).lstrip("，, ")
        return {
            "community": home.community.name,
            "locale": home.locale,
            "fontScale": max(1.0, elder.font_scale),
            "readAloud": elder.read_aloud,
            "slowSpeech": elder.slow_speech,
            "greeting": self.said(home, greeting),
            "buttons": [
                {
                    "key": key,
                    "label": self.t(home, f"buttons.{key}.label"),
                    **self.said(
                        home,
                        f"{self.t(home, f'buttons.{key}.label')}。{self.t(home, f'buttons.{key}.plain')}",
                        shared=True,
                    ),
                }
                for key in BUTTONS
            ],
            "texts": self.texts.section(home.locale, "tv.portal"),
        }

    async def menu(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        meals = await commerce.today_menu(
            session, self.settings, home.actor, None, texts=self.texts, locale=home.locale
        )
        return {
            "meals": [
                {
                    "meal": m.meal,
                    "title": f"{m.merchant_name} · {m.meal_name}",
                    "orderBefore": self.t(home, "menu.order_before", before=m.order_before),
                    "open": m.open,
                    "delivers": m.delivers,
                    "pickUp": m.pick_up,
                    "dishes": [
                        {
                            "code": d.product_code,
                            "name": d.name,
                            "priceFen": d.price_fen,
                            "price": self.t(home, "yuan", price=price(d.price_fen)),
                            "left": d.portions_left,
                            "mostPortions": min(MOST_PORTIONS, d.portions_left),
                            **self.said(
                                home,
                                f"{d.name}，{self.t(home, 'yuan', price=price(d.price_fen))}。"
                                + (
                                    self.t(home, "menu.left", left=d.portions_left)
                                    if m.open and d.portions_left
                                    else self.t(home, "menu.closed" if not m.open else "menu.sold_out")
                                ),
                                shared=True,
                            ),
                        }
                        for d in m.dishes
                    ],
                }
                for m in meals
            ]
        }

    def _dish(self, meals: list[commerce.Meal], code: str) -> tuple[commerce.Meal, commerce.Dish]:
        for meal in meals:
            for dish in meal.dishes:
                if dish.product_code == code:
                    return meal, dish
        raise NotFound()

    async def confirm_order(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        """The order in plain words, before anything is ordered."""
        meals = await commerce.today_menu(
            session, self.settings, home.actor, None, texts=self.texts, locale=home.locale
        )
        _meal, dish = self._dish(meals, str(body.get("product", "")))
        quantity, fulfilment = _quantity(body), _fulfilment(body)
        return self.said(
            home,
            self.t(
                home,
                "menu.confirm",
                quantity=quantity,
                name=dish.name,
                how=self.t(home, "menu.deliver" if fulfilment == Fulfilment.DELIVERY else "menu.pick_up"),
                total=price(dish.price_fen * quantity),
            ),
        )

    async def order(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        quantity, fulfilment = _quantity(body), _fulfilment(body)
        order, _new = await commerce.place(
            session,
            self.settings,
            home.actor,
            person_id=None,
            lines=[(str(body.get("product", "")), quantity)],
            fulfilment=fulfilment,
            idempotency_key=_key(body),
            pay_from=PayFrom.BENEFICIARY,
        )
        items = await commerce.items_of(session, order.id)
        story = commerce.story(self.settings, order, items, home.locale)
        return {
            "orderId": order.id,
            **self.said(
                home,
                self.t(
                    home,
                    "menu.ordered",
                    quantity=quantity,
                    name=story.lines[0].name,
                    how=self.t(home, "menu.deliver" if fulfilment == Fulfilment.DELIVERY else "menu.pick_up"),
                    total=price(order.total_fen),
                ),
            ),
        }

    async def offerings(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        _person, offerings = await services.offerings_for(session, self.settings, home.actor, None)
        return {
            "services": [
                {
                    "code": o.code,
                    "name": o.name(home.locale),
                    "price": self.t(home, "services.price", price=price(o.price_fen)),
                    **self.said(
                        home,
                        f"{o.name(home.locale)}，{self.t(home, 'services.price', price=price(o.price_fen))}",
                        shared=True,
                    ),
                }
                for o in offerings
            ]
        }

    async def slots(self, session: AsyncSession, home: TvHome, code: str) -> dict[str, Any]:
        open_slots = await services.available_slots(
            session, self.settings, home.actor, offering_code=code, person_id=None
        )
        return {
            "slots": [
                {"start": start.isoformat(), **self.said(home, self.when(home, start), shared=True)}
                for start, left in open_slots
                if left > 0
            ][:12]
        }

    def _offering_and_slot(self, body: dict[str, Any]) -> tuple[str, dt.datetime]:
        code = str(body.get("service", ""))
        try:
            start = dt.datetime.fromisoformat(str(body.get("start", "")))
        except ValueError:
            raise InvalidInput("slotStart", field="slotStart") from None
        if start.tzinfo is None:
            raise InvalidInput("slotStart", field="slotStart")
        return code, start

    async def confirm_booking(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        code, start = self._offering_and_slot(body)
        offering = service_catalog(self.settings.content_dir).offerings.get(code)
        if offering is None:
            raise NotFound()
        return self.said(
            home,
            self.t(
                home,
                "services.confirm",
                service=offering.name(home.locale),
                when=self.when(home, start),
                total=price(offering.price_fen),
            ),
        )

    async def book(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        code, start = self._offering_and_slot(body)
        booking, _new = await services.book(
            session,
            self.settings,
            home.actor,
            offering_code=code,
            slot_start=start,
            person_id=None,
            note=None,
            idempotency_key=_key(body),
            pay_from=PayFrom.BENEFICIARY,
        )
        offering = service_catalog(self.settings.content_dir).offerings[booking.offering_code]
        return {
            "bookingId": booking.id,
            **self.said(
                home,
                self.t(
                    home,
                    "services.booked",
                    service=offering.name(home.locale),
                    when=self.when(home, booking.slot_start),
                    code=booking.check_in_code,
                ),
            ),
        }

    async def orders(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        items = await day.todays(session, self.settings, self.texts, home.actor, home.locale)
        shown = []
        for item in reversed(items):  # newest first
            status = self.t(home, f"orders.status.{item.status}")
            line = (
                f"{item.what}：{status}" if item.when is None else f"{self.when(home, item.when)} {item.what}：{status}"
            )
            by = self.t(home, "orders.by", by=item.by) if item.by else None
            shown.append(
                {
                    "kind": item.kind,
                    "id": item.id,
                    "what": item.what,
                    "line": line,
                    "by": by,
                    "declinable": item.declinable,
                    "confirmDecline": self.said(
                        home, self.t(home, "orders.confirm_decline", what=item.what, by=item.by or "")
                    )
                    if item.declinable
                    else None,
                    **self.said(home, f"{line}。{by}" if by else line),
                }
            )
        return {"items": shown}

    async def decline(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        kind = str(body.get("kind", ""))
        if kind not in ("order", "booking"):
            raise InvalidInput("kind", field="kind")
        item_id = _id(body.get("id"))
        items = await day.todays(session, self.settings, self.texts, home.actor, home.locale)
        item = next((i for i in items if i.kind == kind and i.id == item_id and i.declinable), None)
        if item is None:
            raise NotFound()
        await day.decline(session, home.actor, kind=kind, item_id=item_id)
        return self.said(home, self.t(home, "orders.declined", by=item.by or ""))

    async def notices(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        found = []
        for person in home.residents:
            found += await notify.unread(session, person.id, limit=MOST_NOTICES)
        found.sort(key=lambda n: n.id, reverse=True)
        return {"notices": [self.notice(home, n) for n in found[:MOST_NOTICES]]}

    def notice(self, home: TvHome, n: Any) -> dict[str, Any]:
        return {
            "id": n.id,
            "title": n.title,
            "body": n.body,
            "urgent": n.urgency.value != "normal",
            **self.said(home, f"{n.title}。{n.body}"),
        }

    async def confirm_notice(self, session: AsyncSession, home: TvHome, notification_id: int) -> dict[str, Any]:
        await notify.confirm_at_home(session, [p.id for p in home.residents], notification_id, by="tv")
        return self.said(home, self.t(home, "notices.confirmed"), shared=True)

    async def announcements(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        reader = await bulletin.reader_of(session, home.residents, home.household, today(self.settings.zone))
        rows = await bulletin.for_reader(session, reader, utcnow())
        return {
            "announcements": [
                {"id": a.id, "kind": a.kind.value, "title": a.title, "plain": a.plain, "body": a.body}
                | self.said(home, f"{a.title}。{a.plain}", shared=True)
                for a in rows
            ]
        }

    async def events(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        rows = await bulletin.upcoming(session, home.community.id, utcnow())
        taken = await bulletin.taken(session, [e.id for e in rows])
        mine = await bulletin.signups_of(session, home.elder.id, [e.id for e in rows])
        shown = []
        for e in rows:
            start = self.local(e.starts_at)
            when = self.t(home, "events.when", month=start.month, day=start.day, time=f"{start:%H:%M}")
            left = max(0, e.capacity - taken[e.id][0])
            signup = mine.get(e.id)
            status = signup.status.value if signup is not None else None
            state = (
                self.t(home, "events.signed_up")
                if status == SignupStatus.CONFIRMED
                else self.t(home, "events.waiting")
                if status == SignupStatus.WAITING
                else self.t(home, "events.places_left", left=left)
                if left
                else self.t(home, "events.full")
            )
            ask = (
                "events.confirm_withdraw"
                if status in (SignupStatus.CONFIRMED, SignupStatus.WAITING)
                else "events.confirm_signup"
            )
            shown.append(
                {
                    "id": e.id,
                    "title": e.title,
                    "when": when,
                    "place": e.place,
                    "plain": e.plain,
                    "state": state,
                    "mine": status,
                    "confirm": self.said(home, self.t(home, ask, title=e.title, when=when, place=e.place)),
                    **self.said(home, f"{when}，{e.title}，{e.place}。{state}", shared=True),
                }
            )
        return {"events": shown}

    async def sign_up(self, session: AsyncSession, home: TvHome, event_id: int) -> dict[str, Any]:
        signup = await bulletin.sign_up(session, person=home.elder, by_id=home.elder.id, door="tv", event_id=event_id)
        event = await bulletin.event(session, event_id)
        start = self.local(event.starts_at)
        when = self.t(home, "events.when", month=start.month, day=start.day, time=f"{start:%H:%M}")
        key = "events.done_confirmed" if signup.status == SignupStatus.CONFIRMED else "events.done_waiting"
        return {
            "mine": signup.status.value,
            **self.said(home, self.t(home, key, title=event.title, when=when, place=event.place)),
        }

    async def withdraw(self, session: AsyncSession, home: TvHome, event_id: int) -> dict[str, Any]:
        await bulletin.withdraw_signup(session, person=home.elder, by_id=home.elder.id, event_id=event_id)
        return {"mine": SignupStatus.WITHDRAWN.value, **self.said(home, self.t(home, "events.withdrawn"), shared=True)}

    async def contacts(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        rows = await bulletin.contacts(session, home.community.id)
        return {
            "contacts": [
                {"name": c.name, "phone": c.phone, "hours": c.hours}
                | self.said(home, f"{c.name}，{c.phone}。{c.hours}", shared=True)
                for c in rows
            ]
        }

    async def _ring_back(self, session: AsyncSession, home: TvHome, *, reason: str, about: str = "") -> str:
        """A call-back request for the service centre's list; the elder's number as she sees it."""
        await phone.ask_callback(
            session,
            self.parts,
            phone=home.elder.phone,
            call_id=None,
            person=home.elder,
            community_id=home.community.id,
            asked_of=CallbackFor.CENTRE,
            reason=reason,
            about=about,
        )
        return mask_phone(home.elder.phone)

    async def callback(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        shown = await self._ring_back(session, home, reason="tv")
        return self.said(home, self.t(home, "callback.done", phone=shown))

    async def topics(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        return {
            "topics": [
                {"key": key, **self.said(home, self.texts.text(home.locale, f"consultation.topics.{key}"), shared=True)}
                for key in TOPICS
            ]
        }

    async def topic(self, session: AsyncSession, home: TvHome, topic: str) -> dict[str, Any]:
        if topic not in TOPICS:
            raise NotFound()
        articles = await self.parts.knowledge.by_topic(home.locale, topic)
        return {
            "articles": [
                {"id": a.id, "question": a.question, "plain": a.plain, "answer": a.answer}
                | self.said(home, f"{a.question}{a.plain}", shared=True)
                | {"askConfirm": self.said(home, self.t(home, "consult.ask_confirm", question=a.question))}
                for a in articles
            ]
        }

    async def ask_person(self, session: AsyncSession, home: TvHome, article_id: str) -> dict[str, Any]:
        """The elder's 还要问人: a thread at the article's desk that rings her back (the question
        is the article's); a community without that desk gets a call-back from the centre."""
        articles = await asyncio.to_thread(self.parts.knowledge.articles, home.locale)  # may load jieba
        article = next((a for a in articles if a.id == article_id), None)
        if article is None:
            raise NotFound()
        shown = mask_phone(home.elder.phone)
        try:
            await consultation.open_thread(
                session,
                elder=home.elder,
                asked_by=home.elder,
                desk_kind=DeskKind(article.desk),
                question=article.question,
                door="tv",
                article_id=article.id,
                ring_back=home.elder.phone,
            )
        except NoSuchDesk:
            await self._ring_back(session, home, reason="consult", about=article.question)
            return self.said(home, self.t(home, "consult.asked", phone=shown))
        desk = self.texts.text(home.locale, f"consultation.desks.{article.desk}")
        return self.said(home, self.t(home, "consult.asked_desk", desk=desk, phone=shown))

    def help_name(self, home: TvHome, kind: HelpKind) -> str:
        return self.texts.text(home.locale, f"mutual_help.kinds.{kind.value}")

    async def help(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        """我需要帮忙: the elder's requests and how they stand, then what she can ask for."""
        requests = [
            r
            for r in await mutual_help.requests_for_elder(session, home.elder.id, limit=5)
            if r.status != RequestStatus.CANCELLED
        ]
        offers = await mutual_help.offers_of(session, [r.id for r in requests])
        going_ids = {o.volunteer_id for os in offers.values() for o in os if o.status == OfferStatus.ACCEPTED}
        names = {p.id: p.name for p in await community_repository.people_by_ids(session, sorted(going_ids))}
        times = mutual_help.times_to_offer(utcnow(), self.settings.zone)
        return {
            "requests": [self.help_line(home, r, offers[r.id], names) for r in requests],
            "kinds": [{"key": k.value, **self.said(home, self.help_name(home, k), shared=True)} for k in HelpKind],
            "times": [
                {
                    "at": at.isoformat(),
                    **self.said(home, self.when(home, at), shared=True),
                    "confirm": {
                        k.value: self.said(
                            home,
                            self.t(home, "help.confirm_ask", when=self.when(home, at), help=self.help_name(home, k)),
                            shared=True,
                        )
                        for k in HelpKind
                    },
                }
                for at in times
            ],
            "asking": self.said(home, self.t(home, "help.choose"), shared=True),
        }

    def help_line(self, home: TvHome, request: HelpRequest, offers: list[Any], names: dict[int, str]) -> dict[str, Any]:
        going = [names.get(o.volunteer_id, "") for o in offers if o.status == OfferStatus.ACCEPTED]
        if request.status == RequestStatus.DONE:
            state = self.t(home, "help.state.done")
        elif going:
            state = self.t(home, "help.state.coming", names="、".join(going))
        else:
            state = self.t(home, "help.state.looking")
        what = self.help_name(home, request.kind)
        line = self.t(home, "help.line", help=what, when=self.when(home, request.starts_at), state=state)
        doneable = bool(going) and request.status in mutual_help.OPEN_REQUESTS
        return {
            "id": request.id,
            "doneable": doneable,
            **self.said(home, line),
            "confirmDone": self.said(home, self.t(home, "help.confirm_done", help=what, names="、".join(going))),
        }

    async def ask_help(self, session: AsyncSession, home: TvHome, body: dict[str, Any]) -> dict[str, Any]:
        try:
            kind = HelpKind(str(body.get("kind")))
            at = dt.datetime.fromisoformat(str(body.get("at")))
        except ValueError as exc:
            raise InvalidInput("kind", field="kind") from exc
        if at not in mutual_help.times_to_offer(utcnow(), self.settings.zone):
            raise InvalidInput("at", field="at")  # one of the times offered, still ahead
        request = await mutual_help.open_request(
            session,
            self.settings.content_dir,
            elder=home.elder,
            asked_by=home.elder,
            need=mutual_help.Need(kind=kind, starts_at=at, minutes=HELP_MINUTES),
            door="tv",
        )
        asked = (await mutual_help.offers_of(session, [request.id]))[request.id]
        return self.said(home, self.t(home, "help.asked" if asked else "help.nobody"))

    async def help_done(self, session: AsyncSession, home: TvHome, request_id: int) -> dict[str, Any]:
        """OK on the TV: the help was done, the volunteers' hours are credited."""
        request = await session.get(HelpRequest, request_id)
        if request is None or request.elder_id != home.elder.id:
            raise NotFound()
        await mutual_help.confirm(session, self.settings.content_dir, request_id=request.id, by=home.elder, via="tv")
        return self.said(home, self.t(home, "help.thanks"))

    async def check_in_due(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        """平安报 not yet given today: the box asks, and OK gives it."""
        if not await wellbeing.due_today(session, home.elder.id):
            return {"due": False}
        day = self.local(utcnow()).date().isoformat()
        return {
            "due": True,
            "id": day,
            "title": self.t(home, "check_in.title"),
            **self.said(home, self.t(home, "check_in.prompt")),
        }

    async def check_in(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        await wellbeing.check_in(session, person=home.elder, via="tv")
        return self.said(home, self.t(home, "check_in.done"))

    async def alarm_state(self, session: AsyncSession, home: TvHome, alert_id: int) -> dict[str, Any]:
        pressed = await emergency.as_it_stands(session, self.settings, alert_id)
        if pressed is None or pressed.alert.household_id != home.household.id:
            raise NotFound()
        return self.alarm(home, pressed)

    async def warnings(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        shown = await safety.shown_now(session, home.community.id, utcnow())
        return {"warnings": [safety.overlay_of(w, self.parts.read_aloud) for w in shown]}

    async def roll_calls(self, session: AsyncSession, home: TvHome) -> dict[str, Any]:
        found = await roll_call.open_for_home(session, home.household.id)
        return {
            "rollCalls": [
                {
                    "id": call.id,
                    "answered": asked.answered_at is not None,
                    "title": self.t(home, "overlay.roll_call"),
                    **self.said(home, self.texts.text(home.locale, "safety.tv_ask", reason=call.reason)),
                }
                for call, asked in found
            ]
        }

    async def safe(self, session: AsyncSession, home: TvHome, roll_call_id: int) -> dict[str, Any]:
        await roll_call.answer(
            session, roll_call_id=roll_call_id, household_id=home.household.id, person_id=home.elder.id, door="tv"
        )
        return self.said(home, self.texts.text(home.locale, "safety.answered"), shared=True)

    def alarm(self, home: TvHome, pressed: emergency.Pressed) -> dict[str, Any]:
        text = emergency.reply_text(self.texts, home.locale, pressed)
        return {"alertId": pressed.alert.id, "status": pressed.alert.status.value, **self.said(home, text)}


async def _body(request: Request) -> dict[str, Any] | None:
    """An action's JSON object; None for a body nobody sent in good faith: not JSON, not an
    object, nested too deep."""
    try:
        return http_body.json_object(await request.body())
    except http_body.BadBody:
        return None


def _key(body: dict[str, Any]) -> str:
    key = str(body.get("key", ""))
    if not 8 <= len(key) <= 100:
        raise InvalidInput("idempotencyKey", field="idempotencyKey")
    return key


def _id(value: object) -> int:
    try:
        found = int(str(value))
    except ValueError:
        raise InvalidInput("id", field="id") from None
    if found <= 0:
        raise InvalidInput("id", field="id")
    return found


def _quantity(body: dict[str, Any]) -> int:
    quantity = body.get("quantity", 1)
    if not isinstance(quantity, int) or not 1 <= quantity <= MOST_PORTIONS:
        raise InvalidInput("quantity", field="quantity")
    return quantity


def _fulfilment(body: dict[str, Any]) -> Fulfilment:
    try:
        return Fulfilment(str(body.get("fulfilment", "delivery")))
    except ValueError:
        raise InvalidInput("fulfilment", field="fulfilment") from None


Screen = Callable[[AsyncSession, TvHome], Awaitable[dict[str, Any]]]


def router(portal: Portal) -> APIRouter:
    parts = portal.parts
    api = APIRouter(prefix="/tv/portal/api")

    def refused(home: TvHome | None, error: DomainError, status: int = 409) -> JSONResponse:
        locale = home.locale if home is not None else None
        message = message_for(error, locale, parts.catalog)
        body: dict[str, Any] = {"code": error.code, "message": message}
        if home is not None:
            body |= {"readAloudUrl": portal.said(home, message)["readAloudUrl"]}
        return JSONResponse(body, status_code=status)

    async def read(
        request: Request, screen: Callable[[AsyncSession, TvHome], Awaitable[dict[str, Any]]], *, roles: bool = False
    ) -> JSONResponse:
        """A screen's data. `roles`: the screen asks the services as the elder (her menu, her
        orders), which needs her roles; the others do not load them."""
        home = None
        try:
            async with portal.turns, parts.factory() as session:  # reads only: no write turn
                home = await portal.home_of(session, request, roles=roles)
                return JSONResponse(await screen(session, home))
        except Unpaired:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        except DomainError as exc:
            return refused(home, exc, 404 if isinstance(exc, NotFound) else 409)

    async def act(
        request: Request, action: Callable[[AsyncSession, TvHome, dict[str, Any]], Awaitable[dict[str, Any]]]
    ) -> JSONResponse:
        body = await _body(request)
        if body is None:
            return JSONResponse({"code": "INVALID_INPUT"}, status_code=400)
        home = None
        try:
            async with portal.turns, transaction(parts.factory) as session:
                home = await portal.home_of(session, request)
                answer = await action(session, home, body)
                community.sign_of_life(session, person_id=home.elder.id, household_id=home.household.id, door="tv")
                return JSONResponse(answer)
        except Unpaired:
            return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        except DomainError as exc:
            return refused(home, exc)

    @api.get("/home")
    async def home(request: Request) -> JSONResponse:
        return await read(request, portal.home)

    @api.get("/menu")
    async def menu(request: Request) -> JSONResponse:
        return await read(request, portal.menu, roles=True)

    @api.post("/menu/confirm")
    async def confirm_order(request: Request) -> JSONResponse:
        return await act(request, portal.confirm_order)

    @api.post("/menu/order")
    async def order(request: Request) -> JSONResponse:
        return await act(request, portal.order)

    @api.get("/services")
    async def offerings(request: Request) -> JSONResponse:
        return await read(request, portal.offerings, roles=True)

    @api.get("/services/{code}/slots")
    async def slots(request: Request, code: str) -> JSONResponse:
        return await read(request, lambda s, h: portal.slots(s, h, code), roles=True)

    @api.post("/services/confirm")
    async def confirm_booking(request: Request) -> JSONResponse:
        return await act(request, portal.confirm_booking)

    @api.post("/services/book")
    async def book(request: Request) -> JSONResponse:
        return await act(request, portal.book)

    @api.get("/orders")
    async def orders(request: Request) -> JSONResponse:
        return await read(request, portal.orders, roles=True)

    @api.post("/orders/decline")
    async def decline(request: Request) -> JSONResponse:
        return await act(request, portal.decline)

    @api.get("/notices")
    async def notices(request: Request) -> JSONResponse:
        return await read(request, portal.notices)

    @api.post("/notices/{notification_id}/confirm")
    async def confirm_notice(request: Request, notification_id: int) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.confirm_notice(s, h, notification_id))

    @api.get("/announcements")
    async def announcements(request: Request) -> JSONResponse:
        return await read(request, portal.announcements)

    @api.get("/events")
    async def events(request: Request) -> JSONResponse:
        return await read(request, portal.events)

    @api.post("/events/{event_id}/signup")
    async def sign_up(request: Request, event_id: int) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.sign_up(s, h, event_id))

    @api.post("/events/{event_id}/withdraw")
    async def withdraw(request: Request, event_id: int) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.withdraw(s, h, event_id))

    @api.get("/contacts")
    async def contacts(request: Request) -> JSONResponse:
        return await read(request, portal.contacts)

    @api.post("/callback")
    async def callback(request: Request) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.callback(s, h))

    @api.post("/alarm")
    async def alarm(request: Request) -> JSONResponse:
        """The red key: through the alarm desk like every door, stored before this answers."""
        body = await _body(request)
        if body is None:
            return JSONResponse({"code": "INVALID_INPUT"}, status_code=400)
        async with parts.factory() as session:  # no waiting behind other boxes' screens
            try:
                home = await portal.home_of(session, request, roles=False)
            except Unpaired:
                return JSONResponse({"code": "UNPAIRED"}, status_code=401)
        key = str(body.get("key", ""))
        try:
            emergency.check_key(key or None)
            pressed = await parts.alarm_desk.press(emergency.press_by(home.raiser, key or None))
        except DomainError as exc:
            return refused(home, exc)
        return JSONResponse(portal.alarm(home, pressed))

    @api.get("/knowledge")
    async def topics(request: Request) -> JSONResponse:
        return await read(request, portal.topics)

    @api.get("/knowledge/{topic}")
    async def topic(request: Request, topic: str) -> JSONResponse:
        return await read(request, lambda s, h: portal.topic(s, h, topic))

    @api.post("/knowledge/{article_id}/ask")
    async def ask_person(request: Request, article_id: str) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.ask_person(s, h, article_id))

    @api.get("/help")
    async def help_screen(request: Request) -> JSONResponse:
        return await read(request, portal.help)

    @api.post("/help")
    async def ask_help(request: Request) -> JSONResponse:
        return await act(request, portal.ask_help)

    @api.post("/help/{request_id}/done")
    async def help_done(request: Request, request_id: int) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.help_done(s, h, request_id))

    @api.get("/check-in")
    async def check_in_due(request: Request) -> JSONResponse:
        return await read(request, portal.check_in_due)

    @api.post("/check-in")
    async def check_in(request: Request) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.check_in(s, h))

    @api.get("/warnings")
    async def warnings(request: Request) -> JSONResponse:
        return await read(request, portal.warnings)

    @api.get("/roll-calls")
    async def roll_calls(request: Request) -> JSONResponse:
        return await read(request, portal.roll_calls)

    @api.post("/roll-calls/{roll_call_id}/safe")
    async def safe(request: Request, roll_call_id: int) -> JSONResponse:
        return await act(request, lambda s, h, _b: portal.safe(s, h, roll_call_id))

    @api.get("/alarm/{alert_id}")
    async def alarm_state(request: Request, alert_id: int) -> JSONResponse:
        return await read(request, lambda s, h: portal.alarm_state(s, h, alert_id))

    return api
