"""docs/privacy.md's table of what is held, why, and what erasure does, written from the same
declarations export and erasure follow (backend.personal); `./dev privacy-doc` writes it."""

from __future__ import annotations

from backend.config import REPO_ROOT
from backend.personal import Erase, Held, Plan

DOC = REPO_ROOT / "docs" / "privacy.md"
BEGIN = "<!-- personal-data:begin (written by ./dev privacy-doc from each domain's personal.py) -->"
END = "<!-- personal-data:end -->"

_ERASE_WORDS = {
    Erase.DELETE: "deleted",
    Erase.BLANK: "kept without her words",
    Erase.KEEP: "kept",
    Erase.FORGET: "kept without her words, deleted after the retention period",
    Erase.DOMAIN: "the domain's own step",
}


def _row(held: Held) -> str:
    erased = _ERASE_WORDS[held.erase]
    if held.by and held.erase_by != held.erase:
        erased += f"; what she asked for others: {_ERASE_WORDS[held.erase_by]}"
    section = held.section if held.export else "(not exported)"
    cells = [f"`{held.table}`", section, held.why, erased, held.kept or "-"]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def table_of(plan: Plan) -> str:
    lines = [
        BEGIN,
        "| table | export section | why it is held | on erasure | what stays, how long, why |",
        "|---|---|---|---|---|",
        *(_row(h) for h in plan.held),
        "",
        "Tables that look personal but hold nobody's data: "
        + "; ".join(f"`{d.model.__tablename__}` ({d.why})" for d in plan.declared if not isinstance(d, Held))
        + ".",
        END,
    ]
    return "\n".join(lines)


def write(plan: Plan) -> bool:
    """Rewrite the table between the markers (appended if absent); True if it changed."""
    text = DOC.read_text("utf-8")
    table = table_of(plan)
    if BEGIN in text and END in text:
        new = text[: text.index(BEGIN)] + table + text[text.index(END) + len(END) :]
    else:
        new = text.rstrip("\n") + "\n\n## Every table, as declared\n\n" + table + "\n"
    if new != text:
        DOC.write_text(new, "utf-8")
    return new != text
