"""Notifications over GraphQL: phones to push to, what I was told and on which paths, how I
want to be told, reminders, and the live `notifications` subscription."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from enum import StrEnum
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.access.rules import acting_for
from backend.gql.base import mutation, optional_id, parse_id
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.live import rows_as_they_change
from backend.gql.pagination import Connection, connection, decode_cursor, page_size
from backend.gql.permissions import IsAuthenticated
from backend.live import person_channel
from backend.notify import devices, preferences, reminders, service
from backend.notify.models import Delivery, Notification, NotificationSettings, Reminder, Urgency


class PushServiceName(StrEnum):
    FCM = "fcm"  # phones outside the mainland
    JPUSH = "jpush"  # phones in mainland China (through the vendor's own channel)


PushService = strawberry.enum(PushServiceName, name="PushService")


@strawberry.type
class PushDevice:
    token: str
    platform: str
    service: PushService  # type: ignore[valid-type]


@strawberry.type
class PushDeviceRemoved:
    removed: bool


@strawberry.type(description="One attempt on one path: the delivery record.")
class DeliveryAttempt:
    path: str = strawberry.field(description="push, sms, tv or voice.")
    at: dt.datetime
    result: str = strawberry.field(description="sent, delivered, unconfirmed, failed, unavailable or held.")
    detail: str | None
    confirmed_at: dt.datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryAttempt:
        return cls(path=d.path, at=d.at, result=d.result, detail=d.detail, confirmed_at=d.confirmed_at)


@strawberry.type(name="Notification")
class NotificationView:
    row: strawberry.Private[Notification]
    attempts: strawberry.Private[list[Delivery]]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def kind(self) -> str:
        return self.row.kind

    @strawberry.field
    def urgent(self) -> bool:
        return self.row.urgency == Urgency.EMERGENCY

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def text(self) -> str:
        return self.row.body

    @strawberry.field
    def read_aloud_url(self, info: Info) -> str:
        ctx = info.context
        slow = bool(ctx.actor and ctx.actor.person.slow_speech)
        return str(ctx.rt.read_aloud.url(self.row.body, locale=ctx.locale, slow=slow))

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.row.created_at

    @strawberry.field(description="pending, held (quiet hours), delivered, settled or failed.")
    def state(self) -> str:
        return self.row.state.value

    @strawberry.field
    def delivered_by(self) -> str | None:
        return self.row.delivered_by

    @strawberry.field
    def deliveries(self) -> list[DeliveryAttempt]:
        return [DeliveryAttempt.of(d) for d in self.attempts]


@strawberry.type
class QuietHours:
    start: dt.time
    end: dt.time


@strawberry.type(name="NotificationSettings")
class NotificationSettingsView:
    paths: list[str] = strawberry.field(description="push, sms, tv, voice: in the order to try them.")
    quiet_hours: QuietHours | None = strawberry.field(description="Everyday messages wait; alarms never do.")

    @classmethod
    def of(cls, s: NotificationSettings) -> NotificationSettingsView:
        quiet = QuietHours(start=s.quiet_start, end=s.quiet_end) if s.quiet_start and s.quiet_end else None
        return cls(paths=list(s.paths), quiet_hours=quiet)


@strawberry.input
class QuietHoursInput:
    start: dt.time
    end: dt.time


@strawberry.type(name="Reminder")
class ReminderView:
    id: strawberry.ID
    text: str
    next_at: dt.datetime
    daily: bool
    active: bool

    @classmethod
    def of(cls, r: Reminder) -> ReminderView:
        return cls(id=strawberry.ID(str(r.id)), text=r.text, next_at=r.next_at, daily=r.daily, active=r.active)


RegisterPushDevicePayload = Annotated[PushDevice | InvalidInputError, strawberry.union("RegisterPushDevicePayload")]
NotificationPayload = Annotated[NotificationView | NotFoundError, strawberry.union("NotificationPayload")]
SettingsPayload = Annotated[
    NotificationSettingsView | InvalidInputError | NotFoundError, strawberry.union("NotificationSettingsPayload")
]
ReminderPayload = Annotated[ReminderView | InvalidInputError | NotFoundError, strawberry.union("ReminderPayload")]


async def _view(info: Info, n: Notification) -> NotificationView:
    attempts = await service.deliveries_of(info.context.session, [n.id])
    return NotificationView(row=n, attempts=attempts[n.id])


@strawberry.type
class NotifyQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="What I was told, newest first.")
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[NotificationView]:
        ctx = info.context
        limit = page_size(first)
        rows = await service.page(ctx.session, ctx.require_actor().id, before_id=decode_cursor(after), limit=limit + 1)
        attempts = await service.deliveries_of(ctx.session, [n.id for n in rows[:limit]])
        return connection(
            rows, limit, key=lambda n: n.id, to_node=lambda n: NotificationView(row=n, attempts=attempts[n.id])
        )

    @strawberry.field(permission_classes=[IsAuthenticated], description="How I (or an elder I help) want to be told.")
    async def notification_settings(
        self, info: Info, person_id: strawberry.ID | None = None
    ) -> NotificationSettingsView:
        ctx = info.context
        subject = (await acting_for(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))).person
        return NotificationSettingsView.of(await preferences.settings_of(ctx.session, subject.id))

    @strawberry.field(permission_classes=[IsAuthenticated], description="Reminders still to come, soonest first.")
    async def reminders(self, info: Info, person_id: strawberry.ID | None = None) -> list[ReminderView]:
        ctx = info.context
        subject = (await acting_for(ctx.session, ctx.require_actor(), optional_id(person_id, "personId"))).person
        return [ReminderView.of(r) for r in await reminders.for_person(ctx.session, subject.id)]


@strawberry.type
class NotifyMutation:
    @mutation(
        description="This phone's push token (android, ios or harmony) and the service that issued it "
        "(JPush's registration id in mainland China, FCM's token elsewhere); call again when it changes."
    )
    async def register_push_device(
        self,
        info: Info,
        token: str,
        platform: str,
        service: PushService = PushServiceName.FCM,  # type: ignore[valid-type]
    ) -> RegisterPushDevicePayload:
        ctx = info.context
        device = await devices.register(
            ctx.session, ctx.require_actor(), token=token, platform=platform, service=PushServiceName(service).value
        )
        return PushDevice(
            token=device.identifier,
            platform=device.platform or platform,
            service=PushServiceName(device.vendor or "fcm"),
        )

    @mutation(description="Stop pushing to this phone (signing out, or notifications turned off).")
    async def unregister_push_device(self, info: Info, token: str) -> PushDeviceRemoved:
        ctx = info.context
        return PushDeviceRemoved(removed=await devices.unregister(ctx.session, ctx.require_actor(), token=token))

    @mutation(description="The app showed this notification: it arrived, so no other path is tried.")
    async def confirm_notification(self, info: Info, notification_id: strawberry.ID) -> NotificationPayload:
        ctx = info.context
        n = await service.confirm(ctx.session, ctx.require_actor(), parse_id(notification_id, "notificationId"))
        return await _view(info, n)

    @mutation(description="Paths in order of preference, and quiet hours (both, or neither).")
    async def update_notification_settings(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        paths: list[str] | None = None,
        quiet_hours: QuietHoursInput | None = None,
    ) -> SettingsPayload:
        ctx = info.context
        who, quiet = optional_id(person_id, "personId"), (quiet_hours.start, quiet_hours.end) if quiet_hours else None
        saved = await service.update_settings(ctx.session, ctx.require_actor(), who, paths=paths, quiet=quiet)
        return NotificationSettingsView.of(saved)

    @mutation(description="A message at a time (local time), once or every day; for me or an elder I help.")
    async def schedule_reminder(
        self,
        info: Info,
        text: str,
        at: dt.datetime,
        daily: bool = False,
        person_id: strawberry.ID | None = None,
    ) -> ReminderPayload:
        ctx, who = info.context, optional_id(person_id, "personId")
        reminder = await reminders.create(
            ctx.session, ctx.require_actor(), person_id=who, text=text, at=at, daily=daily, tz=ctx.rt.settings.zone
        )
        return ReminderView.of(reminder)

    @mutation(description="No more of this reminder.")
    async def cancel_reminder(self, info: Info, reminder_id: strawberry.ID) -> ReminderPayload:
        ctx = info.context
        reminder = await reminders.cancel(ctx.session, ctx.require_actor(), parse_id(reminder_id, "reminderId"))
        return ReminderView.of(reminder)


@strawberry.type
class NotifySubscription:
    @strawberry.subscription(permission_classes=[IsAuthenticated], description="Each message for me as it is sent.")
    async def notifications(self, info: Info) -> AsyncGenerator[NotificationView, None]:
        ctx = info.context
        actor = ctx.require_actor()

        async def load(message: dict[str, object]) -> NotificationView | None:
            n = await service.mine(ctx.session, actor.id, int(str(message["id"])))
            return await _view(info, n) if n is not None else None

        async for view in rows_as_they_change(ctx, [person_channel(actor.id)], "notification", load):
            yield view
