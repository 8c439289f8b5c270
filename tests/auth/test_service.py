"""Sign-in by phone code, sessions, voice PIN and caller id, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from backend.access.subject import Actor, Door, load_subject
from backend.auth import service
from backend.auth.errors import CodeExpired, InvalidCode, InvalidPin, InvalidRefreshToken, TooManyAttempts
from backend.auth.models import LoginCode
from backend.community.models import Device, DeviceKind, Person
from backend.config import REPO_ROOT, Settings
from backend.content.catalog import catalog_for
from backend.db import transaction, utcnow
from backend.errors import RateLimited
from backend.gateways.sms import DevOutboxSms, Sms, Templates
from backend.phones import InvalidPhone
from backend.tokens import Tokens
from tests.conftest import ELDER, STRANGER, Api, Database


@pytest.fixture
def sms(tmp_path: Path) -> DevOutboxSms:
    content = REPO_ROOT / "content"
    return DevOutboxSms(tmp_path / "outbox.jsonl", Templates(content, catalog_for(content)))


@pytest.fixture
def tokens(settings: Settings) -> Tokens:
    return Tokens(settings)


class SignIn:
    def __init__(self, db: Database, settings: Settings, tokens: Tokens, sms: DevOutboxSms) -> None:
        self.db, self.settings, self.tokens, self.sms = db, settings, tokens, sms
        self.catalog = catalog_for(REPO_ROOT / "content")

    async def request(self, phone: str, ip: str = "198.51.100.1") -> service.CodeSent:
        async with transaction(self.db.factory) as session:
            return await service.request_login_code(session, self, raw_phone=phone, ip=ip)

    def code_sent_to(self, phone: str) -> str:
        found = re.search(r"\d{6}", self.sms.messages(phone)[0]["text"])
        assert found
        return found.group(0)

    async def attempt(self, phone: str, code: str) -> service.IssuedSession:
        """One try, committed as the request would commit it (kept changes included)."""
        async with self.db.factory() as session:
            try:
                issued = await service.sign_in(
                    session, settings=self.settings, tokens=self.tokens, raw_phone=phone, code=code
                )
            except (InvalidCode, TooManyAttempts):
                await session.commit()  # these errors keep what they wrote: the counted try
                raise
            await session.commit()
            return issued


async def age_codes(db: Database, *, seconds: int) -> None:
    """Move every code's creation back in time, as if the person had waited."""
    async with transaction(db.factory) as session:
        for row in (await session.execute(select(LoginCode))).scalars():
            row.created_at -= dt.timedelta(seconds=seconds)


@pytest.fixture
def flow(db: Database, settings: Settings, tokens: Tokens, sms: DevOutboxSms) -> SignIn:
    return SignIn(db, settings, tokens, sms)


async def test_code_arrives_by_sms_and_signs_the_elder_in(flow: SignIn, people: dict[str, int]) -> None:
    sent = await flow.request("138 0000 0001")
    assert sent.phone == ELDER and sent.expires_in_s == 300
    text = flow.sms.messages(ELDER)[0]["text"]
    assert "验证码" in text and "5分钟" in text
    issued = await flow.attempt(ELDER, flow.code_sent_to(ELDER))
    assert issued.person.phone == ELDER
    claims = flow.tokens.decode_access(issued.access_token)
    async with flow.db.factory() as session:
        subject = await load_subject(session, claims)
    assert subject is not None and subject.door == Door.APP
    assert subject.actor is not None and subject.actor.person.id == people[ELDER]


async def test_codes_are_stored_hashed(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(ELDER)
    code = flow.code_sent_to(ELDER)
    async with flow.db.factory() as session:
        row = (await session.execute(select(LoginCode))).scalar_one()
    assert code not in row.code_hash and len(row.code_hash) == 64


async def test_brute_force_stops_after_five_tries(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(ELDER)
    right = flow.code_sent_to(ELDER)
    wrong = "000000" if right != "000000" else "111111"
    remaining = []
    for _ in range(4):
        with pytest.raises(InvalidCode) as err:
            await flow.attempt(ELDER, wrong)
        remaining.append(err.value.params["remaining"])
    assert remaining == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts):
        await flow.attempt(ELDER, wrong)
    # The right code no longer helps: a new one must be asked for.
    with pytest.raises(CodeExpired):
        await flow.attempt(ELDER, right)


async def test_an_expired_code_is_refused(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(ELDER)
    async with transaction(flow.db.factory) as session:
        await session.execute(update(LoginCode).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    with pytest.raises(CodeExpired):
        await flow.attempt(ELDER, flow.code_sent_to(ELDER))


async def test_a_new_code_replaces_the_old_one(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(ELDER)
    first = flow.code_sent_to(ELDER)
    await age_codes(flow.db, seconds=61)  # let the resend wait pass
    await flow.request(ELDER)
    second = flow.code_sent_to(ELDER)
    if first != second:
        with pytest.raises(InvalidCode):
            await flow.attempt(ELDER, first)
    assert (await flow.attempt(ELDER, second)).person.phone == ELDER


async def test_asking_again_within_a_minute_is_rate_limited(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(ELDER)
    with pytest.raises(RateLimited) as err:
        await flow.request(ELDER)
    assert 1 <= err.value.params["seconds"] <= 61


async def test_codes_per_phone_per_hour_are_limited(flow: SignIn, people: dict[str, int]) -> None:
    for _ in range(5):
        await flow.request(ELDER)
        await age_codes(flow.db, seconds=70)
    with pytest.raises(RateLimited) as err:
        await flow.request(ELDER)
    assert err.value.params["seconds"] > 60


async def test_codes_per_ip_per_hour_are_limited(flow: SignIn, people: dict[str, int]) -> None:
    flow.settings.login_codes_per_ip_per_hour = 3
    for n in range(3):
        await flow.request(f"+86138000000{n + 1:02d}", ip="192.0.2.9")
    with pytest.raises(RateLimited):
        await flow.request("+8613800000004", ip="192.0.2.9")
    await flow.request("+8613800000004", ip="192.0.2.10")  # another address is not affected


async def test_an_unknown_number_gets_no_code_but_is_told_what_to_do(flow: SignIn, people: dict[str, int]) -> None:
    await flow.request(STRANGER)
    text = flow.sms.messages(STRANGER)[0]["text"]
    assert "尚未" in text and not re.search(r"\d{6}", text)


async def test_a_bad_phone_number_is_refused(flow: SignIn) -> None:
    for bad in ("12345", "2380000000a", "+1 415 555 0100", ""):
        with pytest.raises(InvalidPhone):
            await flow.request(bad)


async def signed_in(flow: SignIn) -> service.IssuedSession:
    await flow.request(ELDER)
    return await flow.attempt(ELDER, flow.code_sent_to(ELDER))


async def test_refresh_rotates_and_a_reused_token_ends_the_chain(flow: SignIn, people: dict[str, int]) -> None:
    first = await signed_in(flow)
    async with transaction(flow.db.factory) as session:
        second = await service.refresh_session(session, tokens=flow.tokens, refresh_token=first.refresh_token)
    assert second.refresh_token != first.refresh_token
    # The old token comes back (stolen): refused, and the new one dies with it.
    async with flow.db.factory() as session:
        with pytest.raises(InvalidRefreshToken):
            await service.refresh_session(session, tokens=flow.tokens, refresh_token=first.refresh_token)
        await session.commit()
    async with flow.db.factory() as session:
        with pytest.raises(InvalidRefreshToken):
            await service.refresh_session(session, tokens=flow.tokens, refresh_token=second.refresh_token)


async def test_sign_out_everywhere_refuses_old_access_tokens(flow: SignIn, people: dict[str, int]) -> None:
    issued = await signed_in(flow)
    claims = flow.tokens.decode_access(issued.access_token)
    async with transaction(flow.db.factory) as session:
        subject = await load_subject(session, claims)
        assert subject is not None and subject.actor is not None
        actor = subject.actor
        await service.sign_out(session, actor, tokens=flow.tokens, refresh_token=None, everywhere=True)
    async with flow.db.factory() as session:
        assert await load_subject(session, claims) is None
        with pytest.raises(InvalidRefreshToken):
            await service.refresh_session(session, tokens=flow.tokens, refresh_token=issued.refresh_token)


async def test_voice_pin_is_hashed_and_locks_after_five_wrong(flow: SignIn, people: dict[str, int]) -> None:
    async with transaction(flow.db.factory) as session:
        person = await session.get(Person, people[ELDER])
        actor = Actor(person=person, memberships=())
        with pytest.raises(InvalidPin):
            await service.set_voice_pin(session, actor, pin="12a4")
        await service.set_voice_pin(session, actor, pin="2468")
        assert person.voice_pin_hash and "2468" not in person.voice_pin_hash
        assert service.verify_voice_pin(person, "2468")
        for _ in range(5):
            assert not service.verify_voice_pin(person, "0000")
        assert not service.verify_voice_pin(person, "2468")  # locked until a new PIN is set


async def test_caller_id_finds_the_person_by_mobile_or_registered_landline(
    db: Database, people: dict[str, int]
) -> None:
    async with transaction(db.factory) as session:
        session.add(Device(kind=DeviceKind.PHONE_LINE, identifier="+862988776655", person_id=people[ELDER]))
    async with db.factory() as session:
        by_mobile = await service.person_for_caller(session, caller_id="13800000001")
        by_landline = await service.person_for_caller(session, caller_id="029-8877-6655")
        unknown = await service.person_for_caller(session, caller_id="02911112222")
    assert by_mobile is not None and by_mobile.id == people[ELDER]
    assert by_landline is not None and by_landline.id == people[ELDER]
    assert unknown is None


async def test_staff_set_a_residents_phone_pin_at_the_counter_and_nobody_else_can(
    api: Api, people: dict[str, int]
) -> None:
    centre = await api.sign_in("+8613700000004")  # 幸福社区's service centre
    other_staff = await api.sign_in("+8613700000003")  # a grid worker of 和平社区 only
    son = await api.sign_in("+8613900000001")
    ask = {"personId": str(people["+8613800000001"]), "pin": "2468"}

    for outsider in (other_staff, son):
        refused = await api.op("staff/SetVoicePinFor", ask, outsider)
        assert refused.get("data") is None or refused["data"]["setVoicePinFor"]["__typename"] != "Person", refused
    bad = await api.op("staff/SetVoicePinFor", {**ask, "pin": "24a8"}, centre)
    assert bad["data"]["setVoicePinFor"]["__typename"] == "InvalidPinError"
    async with api.runtime.factory() as session:
        elder = await session.get(Person, people["+8613800000001"])
        assert elder is not None and elder.voice_pin_hash is None  # nothing set by any of those

    done = await api.op("staff/SetVoicePinFor", ask, centre)
    assert done["data"]["setVoicePinFor"] == {"__typename": "Person", "id": ask["personId"], "hasVoicePin": True}
    async with api.runtime.factory() as session:
        elder = await session.get(Person, people["+8613800000001"])
        assert elder is not None and service.verify_voice_pin(elder, "2468")


async def test_the_outbox_reads_only_whole_messages_while_another_is_being_written(sms: DevOutboxSms) -> None:
    await sms.send("+8613800000001", Sms("login_code", {"code": "123456"}))
    with sms.path.open("a", encoding="utf-8") as half:  # another thread, part way through its line
        half.write('{"to": "+8613800000002", "template": "login_code", "text": "您的验')
    [message] = sms.messages()
    assert message["to"] == "+8613800000001" and "123456" in message["text"]
