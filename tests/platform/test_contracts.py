"""The import contracts cover the whole house and catch what they promise to: every module of
backend/ has a place in the layers, every registered domain among them, the tree has no
import circle (annotations counted), and imports that break the layering fail `lint-imports`."""

from __future__ import annotations

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
