"""The knowledge base answers questions asked in other words than its articles: the labelled
set in questions.json (152 questions as elders and their families ask them) must find the
right article among the first three at least 90% of the time."""

from __future__ import annotations

import json
from pathlib import Path

from backend.config import REPO_ROOT
from backend.consultation.knowledge import KnowledgeBase
from tests.conftest import ELDER, Api

QUESTIONS = json.loads((Path(__file__).parent / "questions.json").read_text("utf-8"))["questions"]


def test_questions_in_other_words_find_their_answer_among_the_first_three() -> None:
    kb = KnowledgeBase(REPO_ROOT / "content")
    found = [(want, [f.article.id for f in kb.search_now(question, "zh-CN")]) for question, want in QUESTIONS]
    top3 = sum(want in ids for want, ids in found) / len(found)
    top1 = sum(ids[:1] == [want] for want, ids in found) / len(found)
    assert len(found) >= 150
    assert top3 >= 0.9, [(q, ids) for (q, want), (_, ids) in zip(QUESTIONS, found, strict=True) if want not in ids]
    assert top1 >= 0.8


async def test_an_elder_asks_in_her_own_words_and_hears_the_answer(api: Api) -> None:
    token = await api.sign_in(ELDER)
    answered = await api.op("app/KnowledgeAnswers", {"question": "我妈今年八十二了，每个月能领多少钱的补助？"}, token)
    best = answered["data"]["knowledgeAnswers"][0]
    assert best["question"] == "高龄津贴怎么领？"
    assert best["plainText"] == "满80岁每月有高龄津贴，带身份证到社区服务中心登记。"
    assert best["desk"] == "office" and "/read-aloud/" in best["readAloudUrl"]
    # Nothing that fits: no answer, not a wrong one.
    nothing = await api.op("app/KnowledgeAnswers", {"question": "？？？"}, token)
    assert nothing["data"]["knowledgeAnswers"] == []
    too_long = await api.op("app/KnowledgeAnswers", {"question": "问" * 201}, token)
    assert too_long["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    legal = await api.op("app/KnowledgeTopic", {"topic": "legal"}, token)
    assert {a["id"] for a in legal["data"]["knowledgeTopic"]} == {"legal-will", "legal-support", "legal-fraud"}
