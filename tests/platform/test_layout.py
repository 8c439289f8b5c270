"""The repository keeps the promises newcomers rely on."""

from __future__ import annotations

import tomllib

from graphql import build_schema, parse, validate

from backend.api.schema import schema_sdl
from backend.config import REPO_ROOT


def test_graphql_folder_holds_no_python_so_graphql_core_is_never_shadowed() -> None:
    assert list((REPO_ROOT / "graphql").rglob("*.py")) == []
    import graphql

    assert "site-packages" in (graphql.__file__ or "")


def test_committed_schema_matches_the_code() -> None:
    committed = (REPO_ROOT / "graphql" / "schema.graphql").read_text("utf-8")
    assert committed == schema_sdl(), "graphql/schema.graphql is stale: run ./dev schema"


def test_every_client_document_is_valid_against_the_schema() -> None:
    schema = build_schema(schema_sdl())
    documents = sorted((REPO_ROOT / "graphql" / "operations").glob("*/*.graphql"))
    assert len(documents) >= 10
    for path in documents:
        errors = validate(schema, parse(path.read_text("utf-8")))
        assert errors == [], f"{path.relative_to(REPO_ROOT)}: {errors}"


def test_core_operations_exist_with_their_names() -> None:
    sdl = schema_sdl()
    for name in (
        "requestLoginCode",
        "signIn",
        "refreshSession",
        "signOut",
        "me",
        "home",
        "inviteFamilyMember",
        "respondToFamilyInvitation",
        "revokeFamilyLink",
        "approveTvDevice",
    ):
        assert f"  {name}(" in sdl or f"  {name}:" in sdl, name


def test_packages_are_listed_explicitly() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {"backend", "speech", "voice", "tv_channel"} <= set(include)
    assert not any(name.startswith("graphql") for name in include)
    assert project["tool"]["ruff"]["lint"]["isort"]["known-third-party"] == ["graphql"]


def test_the_image_carries_every_package() -> None:
    """A package left out of the Docker image is an ImportError in production only."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    packages = {name for name in project["tool"]["setuptools"]["packages"]["find"]["include"] if "." not in name}
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text("utf-8")
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert packages <= copied, f"docker/Dockerfile does not COPY {sorted(packages - copied)}"


def test_no_user_facing_chinese_in_python() -> None:
    offenders = []
    for package in ("backend", "voice", "tv_channel"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                stripped = line.strip()
                if stripped.startswith("#") or '"""' in stripped:
                    continue
                code = stripped.split("  #", 1)[0]
                if any("\u4e00" <= ch <= "\u9fff" for ch in code) and ('"' in code or "'" in code):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}")
    assert offenders == [], "user-facing text belongs in content/: " + ", ".join(offenders)
