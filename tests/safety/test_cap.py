"""Official warnings from the local warning-release system, signed and in CAP 1.2 (checked
against the OASIS schema): an alert reaches the communities it covers above their threshold,
an update replaces it, a cancel ends it, an expired one shows nowhere, and anything that is
not CAP is refused with nothing stored."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.community.models import Community
from backend.db import utcnow
from backend.jobs import Job
from backend.safety.models import OfficialWarning
from backend.signed_requests import sign
from tests.conftest import ADMIN, ELDER, HEPING_ELDER, Api, Database, in_process, make_settings

SENDER = "yuzhong-met@cq.gov.cn"
SECRET = "warning-system-secret"
SAMPLES = Path(__file__).parent / "cap"
DISTRICT = "<geocode><valueName>GB/T 2260</valueName><value>500103</value></geocode>"
# A small ring around 幸福社区's centre (29.5570, 106.5770) only.
AROUND_XINGFU = "<polygon>29.55,106.57 29.56,106.57 29.56,106.585 29.55,106.585 29.55,106.57</polygon>"


@pytest.fixture
async def api(tmp_path: Path, db: Database, people: dict[str, int]) -> Any:
    async with in_process(make_settings(tmp_path, db.url, cap_sender_secrets={SENDER: SECRET})) as api:
        yield api


def local(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def message(
    *,
    identifier: str | None = None,
    msg_type: str = "Alert",
    severity: str = "Severe",
    headline: str = "渝中区暴雨橙色预警",
    area: str = DISTRICT,
    expires_in: dt.timedelta = dt.timedelta(hours=3),
    references: str = "",
    sample: str = "alert.xml",
) -> tuple[str, bytes]:
    identifier = identifier or f"CQ-{uuid.uuid4().hex[:10]}"
    now = utcnow()
    body = (SAMPLES / sample).read_text("utf-8")
    for key, value in {
        "identifier": identifier,
        "sender": SENDER,
        "sent": local(now),
        "msg_type": msg_type,
        "severity": severity,
        "headline": headline,
        "expires": local(now + expires_in),
        "area_desc": "重庆市渝中区",
        "area": area,
        "references": f"<references>{references}</references>" if references else "",
    }.items():
        body = body.replace("{" + key + "}", value)
    return identifier, body.encode()


async def send(api: Api, body: bytes, *, sender: str = SENDER, secret: str = SECRET) -> Any:
    stamp = str(int(time.time()))
    return await api.client.post(
        "/integrations/cap",
        content=body,
        headers={
            "content-type": "application/cap+xml",
            "x-linli-sender": sender,
            "x-linli-timestamp": stamp,
            "x-linli-signature": sign(secret, stamp, body),
        },
    )


async def community_ids(db: Database) -> dict[str, int]:
    async with db.factory() as session:
        return {c.code: c.id for c in (await session.scalars(select(Community))).all()}


async def headlines(api: Api, phone: str) -> list[str]:
    seen = await api.op("app/OfficialWarnings", {}, await api.sign_in(phone))
    return [w["headline"] for w in seen["data"]["officialWarnings"]]


async def test_an_alert_for_the_district_shows_in_both_communities_and_residents_are_told(
    api: Api, db: Database
) -> None:
    ids = await community_ids(db)
    _, body = message()
    answer = await send(api, body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["accepted"] and got["new"] and sorted(got["shownIn"]) == sorted(ids.values())
    await api.settle()
    assert await headlines(api, ELDER) == ["渝中区暴雨橙色预警"]
    assert await headlines(api, HEPING_ELDER) == ["渝中区暴雨橙色预警"]
    feed = await api.op("app/Notifications", {}, await api.sign_in(ELDER))
    told = feed["data"]["notifications"]["nodes"][0]
    assert told["title"] == "预警：暴雨" and told["urgent"] is True  # severe: chased like an alarm
    assert "请不要外出" in told["text"]
    # The channel of each community is rebuilt at once, the warning on it.
    async with db.factory() as session:
        rebuilt = (await session.scalars(select(Job.payload).where(Job.kind == "tv.rebuild"))).all()
    assert sorted(p["community_id"] for p in rebuilt) == sorted(ids.values())
    # Sent again, nothing more happens.
    again = (await send(api, body)).json()
    assert again["new"] is False


async def test_a_polygon_reaches_only_the_community_inside_it_and_a_threshold_keeps_a_minor_one_off(
    api: Api, db: Database
) -> None:
    ids = await community_ids(db)
    got = (await send(api, message(area=AROUND_XINGFU)[1])).json()
    assert got["shownIn"] == [ids["xingfu"]]
    assert await headlines(api, HEPING_ELDER) == []
    # 和平社区 shows only extreme warnings.
    admin = await api.sign_in(ADMIN)
    set_policy = await api.op(
        "staff/SetWarningPolicy", {"communityId": str(ids["heping"]), "showFrom": "EXTREME"}, admin
    )
    assert set_policy["data"]["setWarningPolicy"]["showFrom"] == "EXTREME", set_policy
    got = (await send(api, message(headline="大风黄色预警", severity="Severe")[1])).json()
    assert got["shownIn"] == [ids["xingfu"]]
    assert await headlines(api, HEPING_ELDER) == []


async def test_an_update_replaces_its_alert_and_a_cancel_ends_it(api: Api, db: Database) -> None:
    first, body = message()
    assert (await send(api, body)).status_code == 200
    sent = local(utcnow())
    updated, body = message(
        msg_type="Update", headline="渝中区暴雨红色预警", severity="Extreme", references=f"{SENDER},{first},{sent}"
    )
    got = (await send(api, body)).json()
    assert len(got["ended"]) == 1
    assert await headlines(api, ELDER) == ["渝中区暴雨红色预警"]
    _, body = message(msg_type="Cancel", references=f"{SENDER},{updated},{sent}")
    got = (await send(api, body)).json()
    assert got["accepted"] and len(got["ended"]) == 1 and got["shownIn"] == []
    assert await headlines(api, ELDER) == []
    # Another sender cannot end this sender's warnings.
    async with db.factory() as session:
        ended = await session.scalar(
            select(func.count()).select_from(OfficialWarning).where(OfficialWarning.ended_at.is_not(None))
        )
    assert ended == 2


async def test_an_expired_warning_is_kept_but_shown_nowhere(api: Api) -> None:
    got = (await send(api, message(expires_in=-dt.timedelta(minutes=5))[1])).json()
    assert got["accepted"] and got["expired"] is True and got["shownIn"] == []
    await api.settle()
    assert await headlines(api, ELDER) == []
    feed = await api.op("app/Notifications", {}, await api.sign_in(ELDER))
    assert all(n["title"] != "预警：暴雨" for n in feed["data"]["notifications"]["nodes"])


async def test_what_is_not_cap_or_not_signed_is_refused_and_nothing_is_stored(api: Api, db: Database) -> None:
    broken = (SAMPLES / "not_cap.xml").read_text("utf-8").replace("{sender}", SENDER).encode()
    refused = await send(api, broken)
    assert refused.status_code == 400 and refused.json()["error"].startswith("not CAP 1.2")
    assert (await send(api, b"<alert><oops")).json()["error"].startswith("not XML")
    assert (await send(api, message()[1], secret="guess")).status_code == 401
    assert (await send(api, message()[1], sender="someone-else")).status_code == 401
    # An entity that would read a file is not expanded: the message is not CAP and is refused.
    sneaky = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert>&x;</alert>'
    assert (await send(api, sneaky)).status_code == 400
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(OfficialWarning)) == 0


async def test_a_code_that_names_no_province_reaches_no_community(api: Api, db: Database) -> None:
    for code in ("000000", "000000000000", "0", "abc"):
        zeros = f"<geocode><valueName>GB/T 2260</valueName><value>{code}</value></geocode>"
        answer = await send(api, message(area=zeros)[1])
        assert answer.status_code == 200, answer.text
        assert answer.json()["shownIn"] == [], code
    assert await headlines(api, ELDER) == []
    # A province's own code still covers its communities (重庆市: 500000).
    province = "<geocode><valueName>GB/T 2260</valueName><value>500000</value></geocode>"
    assert len((await send(api, message(area=province)[1])).json()["shownIn"]) == 2


async def test_a_signed_message_with_a_doctype_is_refused_with_a_400(api: Api, db: Database) -> None:
    _, body = message(headline="大风&ent;降温")
    declared = body.replace(b"?>", b'?>\n<!DOCTYPE alert [<!ENTITY ent "x">]>', 1)
    for sent in (declared, body):  # declared, and an entity nobody declared
        answer = await send(api, sent)
        assert answer.status_code == 400, answer.text
        assert answer.json()["accepted"] is False
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(OfficialWarning)) == 0
