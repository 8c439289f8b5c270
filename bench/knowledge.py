"""How well the knowledge base answers questions asked in other words, and how fast: the
labelled set in tests/consultation/questions.json (each question with the article that
answers it), searched in process. Prints top-1 and top-3 accuracy, the search's p50 and p99
time, and the first search (jieba's dictionary loading), then one JSON line.

    ./dev bench knowledge [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from backend.consultation.knowledge import KnowledgeBase  # noqa: E402
from bench.common import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    questions = json.loads((ROOT / "tests" / "consultation" / "questions.json").read_text("utf-8"))["questions"]
    kb = KnowledgeBase(ROOT / "content")
    started = time.perf_counter()
    kb.search_now(questions[0][0], "zh-CN")
    first_ms = (time.perf_counter() - started) * 1000
    top1 = top3 = 0
    times: list[float] = []
    for round_ in range(args.rounds):
        for question, want in questions:
            t = time.perf_counter()
            ids = [f.article.id for f in kb.search_now(question, "zh-CN")]
            times.append((time.perf_counter() - t) * 1000)
            if round_ == 0:
                top1 += ids[:1] == [want]
                top3 += want in ids
    times.sort()
    figures = {
        "questions": len(questions),
        "articles": len(kb.articles("zh-CN")),
        "top1": round(top1 / len(questions), 3),
        "top3": round(top3 / len(questions), 3),
        "search_p50_ms": round(times[len(times) // 2], 3),
        "search_p99_ms": round(times[int(len(times) * 0.99)], 3),
        "first_search_ms": round(first_ms, 1),
    }
    for key, value in figures.items():
        print(f"{key:>16}: {value}")
    report("knowledge", figures)


if __name__ == "__main__":
    main()
