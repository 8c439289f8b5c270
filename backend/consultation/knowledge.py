"""The community's knowledge base (content/knowledge/<locale>/articles.json): a question asked
in one's own words finds the article that answers it, before anyone is asked.

Chinese has no spaces: text is cut into words with jieba (search mode, so 高龄津贴 also
yields 高龄 and 津贴), particles and question words are dropped (content/knowledge/
stopwords.txt), and articles are ranked with BM25 over their question, the other words
people use for it (`words`, counted twice), their plain form and their answer. jieba loads
its dictionary once, in a thread (about a second); the index is built per locale on first use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DEFAULT_LOCALE = "zh-CN"
# The topics the TV and the phone line offer, in this order (content/locales consultation.topics).
TOPICS = ("policy", "linli", "services", "health", "legal", "office", "mutual_help")


@dataclass(frozen=True)
class Article:
    id: str
    topic: str
    desk: str  # who answers a follow-up: office, doctor, lawyer
    question: str
    plain: str
    answer: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    article: Article
    score: float


class KnowledgeBase:
    def __init__(self, content_dir: Path) -> None:
        self.root = content_dir / "knowledge"
        self._lock = threading.Lock()
        self._indexes: dict[str, tuple[list[Article], Any]] = {}
        self._stop: frozenset[str] = frozenset()
        self._jieba: Any = None

    def _cut(self, text: str) -> list[str]:
        return [w for w in self._jieba.cut_for_search(text.lower()) if w.strip() and w not in self._stop]

    def _ready(self, locale: str) -> tuple[list[Article], Any]:
        with self._lock:
            if self._jieba is None:
                import jieba  # its dictionary loads here, once
                from rank_bm25 import BM25Okapi  # noqa: F401 (imported with jieba, used below)

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                self._jieba = jieba
                stop = self.root / "stopwords.txt"
                self._stop = frozenset(w.strip() for w in stop.read_text("utf-8").splitlines() if w.strip())
            if locale not in self._indexes:
                from rank_bm25 import BM25Okapi

                path = self.root / locale / "articles.json"
                if not path.is_file():
                    path = self.root / DEFAULT_LOCALE / "articles.json"
                data = json.loads(path.read_text("utf-8"))
                articles = [
                    Article(
                        a["id"],
                        a["topic"],
                        a["desk"],
                        a["question"],
                        a["plain"],
                        a["answer"],
                        tuple(a.get("words", [])),
                    )
                    for a in data["articles"]
                ]
                corpus = [self._cut(" ".join([a.question, *a.words, *a.words, a.plain, a.answer])) for a in articles]
                self._indexes[locale] = (articles, BM25Okapi(corpus))
            return self._indexes[locale]

    def search_now(self, text: str, locale: str, *, k: int = 3) -> list[Found]:
        """The best `k` articles for `text`, best first; only those that share a word with it."""
        articles, index = self._ready(locale)
        words = self._cut(text)
        if not words:
            return []
        scores = index.get_scores(words)
        ranked = sorted(range(len(articles)), key=lambda i: -scores[i])[:k]
        return [Found(articles[i], float(scores[i])) for i in ranked if scores[i] > 0]

    async def search(self, text: str, locale: str, *, k: int = 3) -> list[Found]:
        """Off the event loop: the first search loads jieba's dictionary."""
        return await asyncio.to_thread(self.search_now, text, locale, k=k)

    def articles(self, locale: str) -> Sequence[Article]:
        return self._ready(locale)[0]

    async def by_topic(self, locale: str, topic: str) -> list[Article]:
        articles = await asyncio.to_thread(self.articles, locale)
        return [a for a in articles if a.topic == topic]
