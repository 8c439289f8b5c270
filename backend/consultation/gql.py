"""Consultation over GraphQL. This first part: questions answered at once from the
community's knowledge base, read aloud (threads with the desks come next)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.consultation.knowledge import Article
from backend.errors import InvalidInput
from backend.gql.permissions import SignedInOrTv

MOST_CHARS = 200


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
