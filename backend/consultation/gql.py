"""Consultation over GraphQL: answers at once from the community's knowledge base, and
threads with the community's desks (asked, answered, followed up, closed, rated), the desk's
queue and the desk's set-up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.access import rules
from backend.community import repository as community_repository
from backend.consultation import service
from backend.consultation.errors import NoSuchDeskError, NothingToRateError, ThreadClosedError, ThreadRatedError
from backend.consultation.hours import is_open
from backend.consultation.knowledge import Article
from backend.consultation.models import (
    ConsultDesk,
    ConsultMessage,
    ConsultThread,
    DeskKind,
    Satisfaction,
    ThreadStatus,
)
from backend.db import utcnow
from backend.errors import InvalidInput
from backend.gql.base import mutation, optional_id, parse_clock, parse_id, parse_weekdays
from backend.gql.errors import InvalidInputError, NotFoundError
from backend.gql.permissions import IsAuthenticated, SignedInOrTv
from backend.health.errors import NoHealthConsentError
from backend.health.gql import EmergencyProfileView

MOST_CHARS = 200

ConsultDeskKind = strawberry.enum(DeskKind, name="ConsultDeskKind")
ConsultThreadStatus = strawberry.enum(ThreadStatus, name="ConsultThreadStatus")
ConsultRating = strawberry.enum(Satisfaction, name="ConsultRating")


@strawberry.type(description="An answer from the community's knowledge base.")
class KnowledgeAnswer:
    id: str
    topic: str
    desk: str = strawberry.field(description="Who answers a follow-up: office, doctor or lawyer.")
    question: str
    plain_text: str = strawberry.field(description="The short plain form: shown large, read aloud.")
    answer: str
    read_aloud_url: str

    @classmethod
    def of(cls, a: Article, info: Info) -> KnowledgeAnswer:
        url = info.context.rt.read_aloud.url(
            f"{a.question}{a.plain}", locale=info.context.locale, slow=True, shared=True
        )
        return cls(
            id=a.id,
            topic=a.topic,
            desk=a.desk,
            question=a.question,
            plain_text=a.plain,
            answer=a.answer,
            read_aloud_url=url,
        )


@strawberry.type(description="A person who answers at a desk.")
class DeskPerson:
    id: strawberry.ID
    name: str
    lead: bool


@strawberry.type(name="ConsultDesk", description="A desk of the community: its hours and its reply promise.")
class ConsultDeskView:
    kind: ConsultDeskKind  # type: ignore[valid-type]
    name: str
    opens: str = strawberry.field(description="Local time, 08:30.")
    closes: str
    weekdays: list[int] = strawberry.field(description="Open on these days, 0 = Monday.")
    promise_minutes: int = strawberry.field(description="Minutes of opening hours within which it replies.")
    open_now: bool
    people: list[DeskPerson] = strawberry.field(description="Who answers (only to the community's staff).")


@strawberry.type(description="A desk whose queue I work, and its community.")
class MyDesk:
    community_id: strawberry.ID
    community_name: str
    kind: ConsultDeskKind  # type: ignore[valid-type]
    name: str
    doctor: bool = strawberry.field(
        description="The family doctor's desk: its people may read a consenting elder's health profile."
    )

    @classmethod
    def of(cls, desk: ConsultDesk, community_name: str, name: str) -> MyDesk:
        return cls(
            community_id=strawberry.ID(str(desk.community_id)),
            community_name=community_name,
            kind=desk.kind,
            name=name,
            doctor=desk.kind == DeskKind.DOCTOR,
        )


@strawberry.type(name="ConsultMessage", description="One turn of a thread: the question, a reply, a follow-up.")
class ConsultMessageView:
    id: strawberry.ID
    from_desk: bool
    author_name: str
    text: str
    at: dt.datetime
    read_aloud_url: str


@strawberry.type(name="ConsultThread", description="A question to a desk and everything said since.")
class ConsultThreadView:
    id: strawberry.ID
    desk: ConsultDeskKind  # type: ignore[valid-type]
    desk_name: str
    elder_id: strawberry.ID
    elder_name: str
    asked_by_name: str
    door: str = strawberry.field(description="Where it was asked: app, tv or phone.")
    question: str
    status: ConsultThreadStatus  # type: ignore[valid-type]
    assignee_name: str | None
    ring_back: str | None = strawberry.field(description="The number to ring back (only to the desk).")
    due_at: dt.datetime | None = strawberry.field(description="The reply is promised by then (while waiting).")
    overdue: bool = strawberry.field(description="Waiting past its promise.")
    asked_at: dt.datetime
    closed_at: dt.datetime | None
    rating: ConsultRating | None  # type: ignore[valid-type]
    rating_comment: str | None
    can_rate: bool
    messages: list[ConsultMessageView]


ConsultThreadPayload = Annotated[
    ConsultThreadView | ThreadClosedError | NotFoundError | InvalidInputError,
    strawberry.union("ConsultThreadPayload"),
]
AskDeskPayload = Annotated[
    ConsultThreadView | NoSuchDeskError | NotFoundError | InvalidInputError, strawberry.union("AskDeskPayload")
]
RateConsultationPayload = Annotated[
    ConsultThreadView | NothingToRateError | ThreadRatedError | NotFoundError | InvalidInputError,
    strawberry.union("RateConsultationPayload"),
]
ConsultDeskPayload = Annotated[ConsultDeskView | InvalidInputError, strawberry.union("ConsultDeskPayload")]
ConsultHealthPayload = Annotated[
    EmergencyProfileView | NoHealthConsentError | NotFoundError, strawberry.union("ConsultHealthPayload")
]


@strawberry.input
class ConsultDeskInput:
    community_id: strawberry.ID
    kind: ConsultDeskKind  # type: ignore[valid-type]
    opens: str = strawberry.field(description="08:30")
    closes: str
    weekdays: list[int]
    promise_minutes: int
    people: list[strawberry.ID] = strawberry.field(description="Who answers, the whole list.")
    lead: strawberry.ID | None = None

    def setting(self) -> service.DeskSetting:
        return service.DeskSetting(
            kind=self.kind,
            opens=parse_clock(self.opens, "opens"),
            closes=parse_clock(self.closes, "closes"),
            weekdays=parse_weekdays(self.weekdays),
            promise_minutes=self.promise_minutes,
            member_ids=[parse_id(p, "people") for p in self.people],
            lead_id=optional_id(self.lead, "lead"),
        )


def _desk_name(info: Info, kind: DeskKind) -> str:
    return info.context.rt.catalog.text(info.context.locale, f"consultation.desks.{kind.value}")


async def _thread_views(info: Info, threads: list[ConsultThread]) -> list[ConsultThreadView]:
    """Threads with their messages and names in three queries, however many there are."""
    ctx = info.context
    actor = ctx.require_actor()
    session = ctx.session
    messages = await service.messages_of(session, [t.id for t in threads])
    names = {
        p.id: p.name
        for p in await community_repository.people_by_ids(
            session,
            sorted(
                {t.elder_id for t in threads}
                | {t.asked_by_id for t in threads}
                | {t.assignee_id for t in threads if t.assignee_id}
                | {m.author_id for ms in messages.values() for m in ms}
            ),
        )
    }
    desks = {t.desk_id: await session.get(ConsultDesk, t.desk_id) for t in threads}
    at_desk = {d.id for d in await service.desks_served_by(session, actor.id)} | {
        d.id for d in desks.values() if d is not None and actor.roles_in(d.community_id) & set(service.SUPERVISORS)
    }
    now = utcnow()
    views = []
    for t in threads:
        desk = desks[t.desk_id]
        assert desk is not None
        views.append(_thread_view(info, t, desk, messages[t.id], names, at_desk=desk.id in at_desk, now=now))
    return views


def _thread_view(
    info: Info,
    t: ConsultThread,
    desk: ConsultDesk,
    messages: list[ConsultMessage],
    names: dict[int, str],
    *,
    at_desk: bool,
    now: dt.datetime,
) -> ConsultThreadView:
    """One thread as its reader sees it: the desk sees the number to ring back; the asker may
    rate it once the desk has answered."""
    ctx = info.context

    def message(m: ConsultMessage) -> ConsultMessageView:
        return ConsultMessageView(
            id=strawberry.ID(str(m.id)),
            from_desk=m.from_desk,
            author_name=names.get(m.author_id, ""),
            text=m.text,
            at=m.at,
            read_aloud_url=ctx.rt.read_aloud.url(m.text, locale=ctx.locale, slow=True),
        )

    return ConsultThreadView(
        id=strawberry.ID(str(t.id)),
        desk=desk.kind,
        desk_name=_desk_name(info, desk.kind),
        elder_id=strawberry.ID(str(t.elder_id)),
        elder_name=names.get(t.elder_id, ""),
        asked_by_name=names.get(t.asked_by_id, ""),
        door=t.door,
        question=t.question,
        status=t.status,
        assignee_name=names.get(t.assignee_id) if t.assignee_id else None,
        ring_back=t.ring_back if at_desk else None,
        due_at=t.due_at,
        overdue=t.status == ThreadStatus.WAITING
        and (t.overdue_at is not None or (t.due_at is not None and t.due_at <= now)),
        asked_at=t.created_at,
        closed_at=t.closed_at,
        rating=t.rating,
        rating_comment=t.rating_comment,
        can_rate=t.rating is None and not at_desk and any(m.from_desk for m in messages),
        messages=[message(m) for m in messages],
    )


async def _one(info: Info, thread: ConsultThread) -> ConsultThreadView:
    [view] = await _thread_views(info, [thread])
    return view


async def _desk_view(info: Info, desk: ConsultDesk, *, staff: bool) -> ConsultDeskView:
    session = info.context.session
    people: list[DeskPerson] = []
    if staff:
        found = await service.members(session, desk.id)
        names = {p.id: p.name for p in await community_repository.people_by_ids(session, [m.person_id for m in found])}
        people = [
            DeskPerson(id=strawberry.ID(str(m.person_id)), name=names.get(m.person_id, ""), lead=m.lead) for m in found
        ]
    zone = info.context.rt.settings.zone
    return ConsultDeskView(
        kind=desk.kind,
        name=_desk_name(info, desk.kind),
        opens=f"{desk.opens:%H:%M}",
        closes=f"{desk.closes:%H:%M}",
        weekdays=[int(ch) for ch in desk.weekdays],
        promise_minutes=desk.promise_minutes,
        open_now=is_open(utcnow(), opens=desk.opens, closes=desk.closes, weekdays=desk.weekdays, zone=zone),
        people=people,
    )


@strawberry.type
class ConsultationQuery:
    @strawberry.field(
        permission_classes=[SignedInOrTv],
        description="Ask in your own words: the knowledge base's best answers, best first (none when nothing fits).",
    )
    async def knowledge_answers(self, info: Info, question: str, first: int = 3) -> list[KnowledgeAnswer]:
        text = question.strip()
        if not text or len(text) > MOST_CHARS:
            raise InvalidInput("question", field="question")
        found = await info.context.rt.knowledge.search(text, info.context.locale, k=min(max(first, 1), 5))
        return [KnowledgeAnswer.of(f.article, info) for f in found]

    @strawberry.field(
        permission_classes=[SignedInOrTv],
        description="Every answer of one topic (policy, linli, services, health, legal, office, mutual_help).",
    )
    async def knowledge_topic(self, info: Info, topic: str) -> list[KnowledgeAnswer]:
        articles = await info.context.rt.knowledge.by_topic(info.context.locale, topic)
        return [KnowledgeAnswer.of(a, info) for a in articles]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The desks of my community (or of the community given): whom I can ask, their hours and promise.",
    )
    async def consult_desks(self, info: Info, community_id: strawberry.ID | None = None) -> list[ConsultDeskView]:
        ctx = info.context
        home = await rules.home_for(ctx.session, ctx.subject, optional_id(community_id, "communityId"))
        staff = ctx.require_actor().is_staff_of(home.community_id)
        return [await _desk_view(info, d, staff=staff) for d in await service.desks_of(ctx.session, home.community_id)]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The desks whose queue I work: those I answer at, and every desk of a community I supervise.",
    )
    async def my_desks(self, info: Info) -> list[MyDesk]:
        ctx = info.context
        found = await service.desks_for_console(ctx.session, ctx.require_actor())
        return [MyDesk.of(desk, community, _desk_name(info, desk.kind)) for desk, community in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="My questions to the desks (or an elder's I act for, with order_for), newest first.",
    )
    async def my_consultations(self, info: Info, person_id: strawberry.ID | None = None) -> list[ConsultThreadView]:
        ctx = info.context
        rows = await service.threads_of(ctx.session, ctx.require_actor(), person_id=optional_id(person_id, "personId"))
        return await _thread_views(info, list(rows))

    @strawberry.field(permission_classes=[IsAuthenticated], description="One thread, with everything said.")
    async def consultation(self, info: Info, id: strawberry.ID) -> ConsultThreadView:
        ctx = info.context
        seen = await service.seen_by(ctx.session, ctx.require_actor(), parse_id(id))
        return await _one(info, seen.thread)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The desk's queue: open threads of my desks (the centre: every desk), the promise running out first.",
    )
    async def desk_queue(self, info: Info, community_id: strawberry.ID) -> list[ConsultThreadView]:
        ctx = info.context
        rows = await service.queue(ctx.session, ctx.require_actor(), community_id=parse_id(community_id, "communityId"))
        return await _thread_views(info, list(rows))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Service centre and admins: every unsatisfied rating of a desk's answer, newest first.",
    )
    async def unsatisfied_consultations(self, info: Info, community_id: strawberry.ID) -> list[ConsultThreadView]:
        ctx = info.context
        rows = await service.unsatisfied(
            ctx.session, ctx.require_actor(), community_id=parse_id(community_id, "communityId")
        )
        return await _thread_views(info, list(rows))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The family doctor of a thread: the elder's health profile, only with the elder's consent. Logged.",
    )
    async def consultation_health_profile(self, info: Info, thread_id: strawberry.ID) -> ConsultHealthPayload:
        ctx = info.context
        found = await service.health_profile(
            ctx.session, ctx.require_actor(), thread_id=parse_id(thread_id, "threadId"), factory=ctx.rt.factory
        )
        return EmergencyProfileView.of(found)


@strawberry.type
class ConsultationMutation:
    @mutation(description="Ask a desk (for me, or an elder I order for): a person of the desk answers.")
    async def ask_desk(
        self,
        info: Info,
        desk: ConsultDeskKind,  # type: ignore[valid-type]
        question: str,
        person_id: strawberry.ID | None = None,
        article_id: str | None = None,
    ) -> AskDeskPayload:
        ctx = info.context
        who = optional_id(person_id, "personId")
        thread = await service.ask(
            ctx.session, ctx.require_actor(), person_id=who, desk_kind=desk, question=question, article_id=article_id
        )
        return await _one(info, thread)

    @mutation(description="A reply from the desk, or a follow-up from the asker.")
    async def reply_to_consultation(self, info: Info, thread_id: strawberry.ID, text: str) -> ConsultThreadPayload:
        ctx = info.context
        thread = await service.reply(
            ctx.session, ctx.require_actor(), thread_id=parse_id(thread_id, "threadId"), text=text
        )
        return await _one(info, thread)

    @mutation(description="Close a thread (the desk, once answered; the asker, any time).")
    async def close_consultation(self, info: Info, thread_id: strawberry.ID) -> ConsultThreadPayload:
        ctx = info.context
        thread = await service.close(ctx.session, ctx.require_actor(), thread_id=parse_id(thread_id, "threadId"))
        return await _one(info, thread)

    @mutation(
        description="Satisfied, ok or unsatisfied with the answer (once); an unsatisfied one reaches the service centre."
    )
    async def rate_consultation(
        self,
        info: Info,
        thread_id: strawberry.ID,
        rating: ConsultRating,  # type: ignore[valid-type]
        comment: str | None = None,
    ) -> RateConsultationPayload:
        ctx = info.context
        thread = await service.rate(
            ctx.session, ctx.require_actor(), thread_id=parse_id(thread_id, "threadId"), rating=rating, comment=comment
        )
        return await _one(info, thread)

    @mutation(description="The desk: give a thread to one of its people (or take it).")
    async def assign_consultation(
        self, info: Info, thread_id: strawberry.ID, person_id: strawberry.ID
    ) -> ConsultThreadPayload:
        ctx = info.context
        thread = await service.assign(
            ctx.session,
            ctx.require_actor(),
            thread_id=parse_id(thread_id, "threadId"),
            person_id=parse_id(person_id, "personId"),
        )
        return await _one(info, thread)

    @mutation(description="Service centre and admins: a desk's hours, reply promise and people.")
    async def set_consult_desk(self, info: Info, input: ConsultDeskInput) -> ConsultDeskPayload:
        ctx = info.context
        cid = parse_id(input.community_id, "communityId")
        desk = await service.set_desk(ctx.session, ctx.require_actor(), community_id=cid, setting=input.setting())
        return await _desk_view(info, desk, staff=True)
