"""Export and erasure follow from what each domain declares (backend.personal): a table that
points to a person, or holds a phone, an address or someone's words, cannot be added without
saying what export shows of it and what erasure does, and the docs say the same."""

from __future__ import annotations

from sqlalchemy import JSON, Text

import backend.registry  # noqa: F401  (every domain's tables)
from backend.config import REPO_ROOT
from backend.content.catalog import SUPPORTED_LOCALES, catalog_for
from backend.db import Base
from backend.personal import Erase, Held, NotPersonal
from backend.privacy.docs import DOC, table_of
from backend.registry import personal_plan

# Words in a column's name that say it holds a phone, an address, a place or someone's words.
LOOKS_PERSONAL = {
    *("phone", "caller", "address", "place", "ring", "note", "reason", "comment", "question", "memo", "text"),
    *("body", "title", "detail", "message", "label", "identifier", "serial", "ip", "device", "content"),
    *("summary", "conditions", "allergies", "medicines", "follow"),
}


def looks_personal(name: str) -> bool:
    words = name.split("_")
    return words[-1] not in ("id", "at", "ref") and bool(LOOKS_PERSONAL & set(words))


def personal_columns(table: object) -> set[str]:
    """What a person's data could be in: a pointer to a person, free text, JSON, a phone..."""
    found = set()
    for column in table.columns:  # type: ignore[attr-defined]
        points_to_person = any(fk.column.table.name == "people" for fk in column.foreign_keys)
        if points_to_person or isinstance(column.type, (Text, JSON)) or looks_personal(column.name):
            found.add(column.name)
    return found


def test_every_table_that_could_hold_a_person_is_declared_column_by_column() -> None:
    plan = personal_plan()
    declared: dict[str, set[str]] = {}
    for d in plan.declared:
        table = d.model.__tablename__
        if isinstance(d, NotPersonal):
            covered = set(personal_columns(d.model.__table__))  # said to be nobody's, as a whole
        else:
            covered = {*d.about, *d.by, *d.acting, *d.words, *d.public, *d.secret}
            assert set(covered) <= {c.name for c in d.model.__table__.columns}, (table, covered)
        declared.setdefault(table, set()).update(covered)
    missing = []
    for table in Base.metadata.sorted_tables:
        wanted = personal_columns(table)
        if table.name == "people":
            wanted -= {"id"}
        left = wanted - declared.get(table.name, set())
        if left and table.name not in declared:
            missing.append(f"{table.name}: not declared ({sorted(left)})")
        elif left:
            missing.append(f"{table.name}: {sorted(left)} not declared")
    assert not missing, "declare them in the domain's personal.py:\n" + "\n".join(missing)


def test_every_declaration_says_why_and_what_stays() -> None:
    for held in personal_plan().held:
        assert held.why, held.table
        assert held.about or held.by or held.rows is not None, f"{held.table}: whose rows are they?"
        if held.erase in (Erase.BLANK, Erase.FORGET) and held.words:
            assert set(held.blank) & set(held.words) or held.erase == Erase.FORGET, held.table
        if held.erase != Erase.DELETE or (held.by and held.erase_by != Erase.DELETE):
            assert held.kept, f"{held.table}: say what stays and for how long"
        columns = held.model.__table__.columns
        for name, value in {**held.blank, **held.blank_by}.items():
            assert value is not None or columns[name].nullable, f"{held.table}.{name} cannot be blanked to NULL"


def test_every_exported_section_has_words_in_every_language() -> None:
    catalog = catalog_for(REPO_ROOT / "content")
    sections = {h.section for h in personal_plan().held if h.export and not h.one}
    for locale in SUPPORTED_LOCALES:
        for section in sections:
            key = f"privacy.sections.{section}"
            assert catalog.text(locale, key) != key, (locale, section)


def test_docs_privacy_lists_the_declarations_as_they_are() -> None:
    text = DOC.read_text("utf-8")
    assert table_of(personal_plan()) in text, "run ./dev privacy-doc to write docs/privacy.md's table again"


def test_held_tables_are_real() -> None:
    for d in personal_plan().declared:
        assert isinstance(d, (Held, NotPersonal))
        assert d.model.__tablename__ in Base.metadata.tables
