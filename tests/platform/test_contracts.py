"""The import contracts cover the whole house and catch what they promise to: every module of
backend/ has a place in the layers, every registered domain among them, the tree has no
import circle (annotations counted), and imports that break the layering fail `lint-imports`."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest

from backend.config import REPO_ROOT

PACKAGES = ("backend", "speech", "voice", "tv_channel")


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def placed() -> set[str]:
    [layers] = [c for c in contracts() if c["type"] == "layers"]
    return {m.strip() for layer in layers["layers"] for m in layer.replace(":", "|").split("|")}


def test_every_module_of_the_backend_has_its_place_in_the_layers() -> None:
    backend = REPO_ROOT / "backend"
    tops = {p.stem for p in backend.glob("*.py") if p.stem != "__init__"}
    tops |= {p.name for p in backend.iterdir() if (p / "__init__.py").exists()}
    assert {f"backend.{t}" for t in tops} - placed() == set()


def test_every_registered_domain_is_a_room_in_the_layers() -> None:
    from backend import registry

    homes = [
        d.models.__name__ if d.models is not None else (d.query or d.mutation or d.routes).__module__  # type: ignore[union-attr]
        for d in registry.DOMAINS
    ]
    rooms = {".".join(home.split(".")[:2]) for home in homes if home.startswith("backend.")}
    assert len(rooms) >= 15 and rooms - placed() == set()


def test_the_tree_has_no_import_circle_counting_annotations() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)
    circles = [
        (m, other)
        for m in sorted(graph.modules)
        for other in graph.find_modules_directly_imported_by(m)
        if graph.chain_exists(importer=other, imported=m)
    ]
    assert circles == []


# Imports that break the layering, each written where the old contracts let it pass.
PROBES = {
    # The ground contract's hand list had missed six rooms.
    "backend/clock.py": "import backend.wellbeing.service",
    # Console, tables registry and migrations were in no contract.
    "backend/wellbeing/service.py": "import backend.console.page",
    "backend/services/service.py": "import backend.models",
    # An annotation pointing up made the house's one import circle.
    "backend/parts.py": "if TYPE_CHECKING:\n    from backend.emergency.desk import AlarmDesk",
    # The tables wildcard let any room read any room's tables.
    "backend/emergency/tasks.py": "from backend.wellbeing.models import CheckIn",
}


@pytest.mark.parametrize("path", sorted(PROBES))
def test_an_import_that_breaks_the_layering_fails_lint(tmp_path: Path, path: str) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clean = lint(tmp_path)
    assert clean.returncode == 0, clean.stdout

    probed = tmp_path / path
    source = probed.read_text("utf-8")
    if "TYPE_CHECKING" in PROBES[path] and "import TYPE_CHECKING" not in source and ", TYPE_CHECKING" not in source:
        source += "\nfrom typing import TYPE_CHECKING\n"
    probed.write_text(source + "\n" + PROBES[path] + "\n", "utf-8")
    broken = lint(tmp_path)
    assert broken.returncode != 0 and "BROKEN" in broken.stdout, broken.stdout


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(  # noqa: S603
        [str(lint_imports), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# A room's tables are its own: another room, or a door, asks the room's functions. The access
# kernel's tables (people, homes, memberships, family links) are read everywhere; the demo's
# loader seeds every room (it stands above them all, as an onboarding import will).
KERNEL_TABLES = {"community", "family"}
SEEDS = {"backend/demo.py"}
SQL_CALLS = {"select", "update", "delete", "insert", "exists", "aliased", "join", "outerjoin", "where", "order_by"}
SQL_CALLS |= {"group_by", "having", "values", "get", "scalar", "scalars", "execute"}


def rooms_with_tables() -> set[str]:
    return {p.name for p in (REPO_ROOT / "backend").iterdir() if (p / "models.py").exists()}


def others_tables(source: str, room: str | None, rooms: set[str]) -> list[str]:
    """Each SQL call in `source` that names a table of a room other than `room` (or any room's,
    for a door): 'line: select(Volunteer) of mutual_help'."""
    tree = ast.parse(source)
    foreign: dict[str, str] = {}  # a name bound to another room's table (or its models module)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend."):
            parts = node.module.split(".")
            other = parts[1] if len(parts) > 1 else ""
            if other not in rooms or other == room or other in KERNEL_TABLES:
                continue
            if parts[2:] == ["models"] or (len(parts) == 2 and any(a.name == "models" for a in node.names)):
                foreign.update({(a.asname or a.name): other for a in node.names})
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in SQL_CALLS:
            continue
        named = [n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name) and n.id in foreign]
        if named:
            found.append(f"{node.lineno}: {name}({named[0]}) of {foreign[named[0]]}")
    return found


def test_no_room_or_door_queries_another_rooms_tables() -> None:
    rooms = rooms_with_tables()
    found = []
    for package in ("backend", "voice", "tv_channel"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT)
            if "migrations" in relative.parts or str(relative) in SEEDS:
                continue
            room = relative.parts[1] if relative.parts[0] == "backend" and relative.parts[1] in rooms else None
            found += [f"{relative}:{hit}" for hit in others_tables(path.read_text("utf-8"), room, rooms)]
    assert found == []


def test_a_query_of_another_rooms_table_is_caught() -> None:
    rooms = rooms_with_tables()
    probe = (
        "from backend.mutual_help.models import Volunteer\n"
        "from backend.services import models as services\n"
        "async def f(session, person):\n"
        "    await session.execute(select(Person).join(Volunteer, Volunteer.person_id == Person.id))\n"
        "    return await session.get(services.Booking, 1)\n"
    )
    assert sorted(others_tables(probe, "emergency", rooms)) == [
        "4: execute(Volunteer) of mutual_help",
        "4: join(Volunteer) of mutual_help",
        "5: get(services) of services",
    ]
    assert others_tables(probe, "mutual_help", rooms) == ["5: get(services) of services"]
