"""The elder's own view: me, the home screen with read-aloud, and who may see whom."""

from __future__ import annotations

import asyncio
import io
import wave

from sqlalchemy import text

from tests.conftest import (
    ELDER,
    ELDER_2,
    FAMILY,
    FAMILY_2,
    GRID_WORKER,
    HEPING_ELDER,
    HEPING_WORKER,
    SERVICE_CENTRE,
    Api,
    QueryCounter,
)


async def test_me_shows_the_elder_their_own_details(api: Api) -> None:
    token = await api.sign_in(ELDER)
    me = (await api.op("app/Me", {}, token))["data"]["me"]
    assert me["phone"] == ELDER and me["isElder"] is True and me["age"] >= 80
    assert me["accessibility"] == {"fontScale": 1.5, "readAloud": True, "slowSpeech": True}
    assert me["household"]["address"].startswith("幸福街道幸福社区")
    assert me["roles"] == [
        {"role": "RESIDENT", "community": {"id": me["household"]["community"]["id"], "name": "幸福社区"}}
    ]
    (link,) = me["familyLinks"]["nodes"]
    assert link["status"] == "ACTIVE" and link["familyMember"]["phone"] == FAMILY


async def test_home_shows_big_buttons_each_with_words_and_audio(api: Api) -> None:
    token = await api.sign_in(ELDER)
    home = (await api.op("app/Home", {}, token))["data"]["home"]
    assert home["community"]["name"] == "幸福社区"
    assert [(b["digit"], b["label"]) for b in home["buttons"]] == [
        ("9", "紧急呼叫"),
        ("1", "助餐"),
        ("2", "上门服务"),
        ("3", "我的订单"),
        ("4", "消息"),
        ("5", "咨询"),
        ("6", "邻里互助"),
        ("7", "活动和课程"),
        ("8", "公告和政策"),
        ("0", "请社区回电话"),
        (None, "常用电话"),
        (None, "联系家人"),
    ]
    assert home["greeting"]["text"].endswith("您好！")
    for button in home["buttons"]:
        assert button["plainText"] and button["icon"]
        assert button["readAloudUrl"].startswith("http://testserver/read-aloud/")
    assert home["fontScale"] == 1.5


async def test_a_read_aloud_url_serves_a_real_wav_in_mandarin(api: Api) -> None:
    token = await api.sign_in(ELDER)
    home = (await api.op("app/Home", {}, token))["data"]["home"]
    url = home["buttons"][0]["readAloudUrl"]
    response = await api.client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
    assert seconds > 2.0  # "紧急呼叫。有危险或身体不舒服……" read slowly takes several seconds
    again = await api.client.get(url)  # cached: the same bytes
    assert again.content == response.content


async def test_read_aloud_refuses_forged_urls(api: Api) -> None:
    token = await api.sign_in(ELDER)
    url = (await api.op("app/Home", {}, token))["data"]["home"]["buttons"][0]["readAloudUrl"]
    body, sig, _ = url.rsplit("/", 1)[1].split(".")
    forged = url.replace(sig, "A" * len(sig))
    assert (await api.client.get(forged)).status_code == 404
    assert (await api.client.get("/read-aloud/not-a-token.wav")).status_code == 404


async def test_a_cantonese_speaker_gets_their_language(api: Api) -> None:
    token = await api.sign_in("+8613800000007")  # the demo's Cantonese-speaking elder
    home = (await api.op("app/Home", {}, token))["data"]["home"]
    assert home["buttons"][0]["label"] == "緊急求助"
    wav = await api.client.get(home["buttons"][0]["readAloudUrl"])
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"


async def test_each_community_orders_its_own_buttons(api: Api) -> None:
    token = await api.sign_in(HEPING_ELDER)
    home = (await api.op("app/Home", {}, token))["data"]["home"]
    assert home["community"]["name"] == "和平社区"
    keys = [b["key"] for b in home["buttons"]]
    assert keys[:3] == ["sos", "call_family", "meals"] and len(keys) == 12  # the rest as everywhere


async def test_the_home_query_runs_a_fixed_number_of_sql_statements(api: Api) -> None:
    token = await api.sign_in(ELDER)
    busy = asyncio.Event()

    async def background_work() -> None:  # as the job runner's queries on the same engine
        while True:
            async with api.runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            busy.set()
            await asyncio.sleep(0)

    elsewhere = asyncio.create_task(background_work())
    await busy.wait()
    try:
        with QueryCounter(api.runtime.engine) as counter:
            await api.op("app/Home", {}, token)
    finally:
        elsewhere.cancel()
    # person, memberships, community: nothing per button, nothing per field; not the others'.
    assert counter.count == 3, counter.statements


async def test_staff_see_residents_of_their_community_only(api: Api, people: dict[str, int]) -> None:
    worker = await api.sign_in(GRID_WORKER)
    me = (await api.op("app/Me", {}, worker))["data"]["me"]
    xingfu = me["roles"][0]["community"]["id"]
    centre = await api.sign_in(SERVICE_CENTRE)  # the centre's list is the whole community's
    page = (await api.op("staff/Residents", {"communityId": xingfu, "eldersOnly": True, "first": 10}, centre))["data"]
    nodes = page["residents"]["nodes"]
    assert len(nodes) == 10 and all(n["isElder"] for n in nodes)
    assert page["residents"]["pageInfo"]["hasNextPage"] is True
    rest = await api.op(
        "staff/Residents",
        {"communityId": xingfu, "eldersOnly": True, "first": 100, "after": page["residents"]["pageInfo"]["endCursor"]},
        centre,
    )
    assert len(rest["data"]["residents"]["nodes"]) == 10  # 20 elders in 幸福社区
    assert not {n["id"] for n in nodes} & {n["id"] for n in rest["data"]["residents"]["nodes"]}
    # The grid worker's list is her own grids' elders, some of them.
    hers = await api.op("staff/Residents", {"communityId": xingfu, "eldersOnly": True, "first": 100}, worker)
    assert 0 < len(hers["data"]["residents"]["nodes"]) < 20

    heping_worker = await api.sign_in(HEPING_WORKER)
    refused = await api.op("staff/Residents", {"communityId": xingfu}, heping_worker)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    cross = await api.op("app/Person", {"id": str(people[ELDER])}, heping_worker)
    assert cross["data"] is None and cross["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    same = await api.op("app/Person", {"id": str(people[ELDER])}, worker)
    assert same["data"]["person"]["phone"] == ELDER


async def test_residents_and_other_families_cannot_see_an_elder(api: Api, people: dict[str, int]) -> None:
    for phone in (ELDER_2, FAMILY_2, HEPING_ELDER):
        token = await api.sign_in(phone)
        result = await api.op("app/Person", {"id": str(people[ELDER])}, token)
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert "没有找到" in result["errors"][0]["message"]
    resident = await api.sign_in(ELDER_2)
    staff_only = await api.op("staff/Residents", {"communityId": "1"}, resident)
    assert staff_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_elder_makes_text_bigger_and_bad_values_change_nothing(api: Api) -> None:
    token = await api.sign_in(ELDER_2)
    ok = await api.op("app/UpdateAccessibility", {"fontScale": 2.0, "slowSpeech": False}, token)
    assert ok["data"]["updateAccessibility"]["accessibility"]["fontScale"] == 2.0
    bad = await api.op("app/UpdateAccessibility", {"fontScale": 7.5, "readAloud": False, "locale": "xx"}, token)
    assert bad["data"]["updateAccessibility"]["code"] == "INVALID_INPUT"
    me = (await api.op("app/Me", {}, token))["data"]["me"]
    assert me["accessibility"] == {"fontScale": 2.0, "readAloud": True, "slowSpeech": False}


async def test_a_family_member_with_manage_settings_sets_up_the_elders_screen(api: Api, people: dict[str, int]) -> None:
    # FAMILY (link 1) has no manage_settings; the third demo family member does.
    elder_3 = str(people["+8613800000003"])
    with_scope = await api.sign_in("+8613900000003")
    ok = await api.op("app/UpdateAccessibility", {"personId": elder_3, "fontScale": 2.0}, with_scope)
    assert ok["data"]["updateAccessibility"]["__typename"] == "Person"
    without = await api.sign_in(FAMILY)
    refused = await api.op("app/UpdateAccessibility", {"personId": elder_3, "fontScale": 1.0}, without)
    assert refused["data"]["updateAccessibility"]["code"] == "NOT_FOUND"


async def test_no_token_means_sign_in_first(api: Api) -> None:
    result = await api.op("app/Home", {})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert result["errors"][0]["message"] == "请先登录。"
    korean = await api.op("app/Home", {}, **{"Accept-Language": "ko-KR"})
    assert korean["errors"][0]["message"] == "먼저 로그인해 주세요."


def _decodes_to(url: str) -> str:
    """What anyone who keeps the URL (a proxy, a log) can read out of it."""
    import base64

    token = url.rsplit("/", 1)[1].removesuffix(".wav")
    readable = []
    for part in token.replace("p-", "").split("."):
        try:
            readable.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace"))
        except ValueError:
            pass
    return " ".join(readable)


async def test_personal_audio_is_opaque_private_and_expires(api: Api, local_clock) -> None:  # type: ignore[no-untyped-def]
    token = await api.sign_in(ELDER)
    home = (await api.op("app/Home", {}, token))["data"]["home"]
    name = home["greeting"]["text"].split("，")[0].split(",")[0]
    assert name and name in home["greeting"]["text"]
    # Given a greeting that names the elder: the URL does not, in any decoding.
    greeting_url = home["greeting"]["readAloudUrl"]
    assert name[:2] not in _decodes_to(greeting_url)
    personal = await api.client.get(greeting_url)
    assert personal.status_code == 200 and personal.content[:4] == b"RIFF"
    assert personal.headers["cache-control"] == "private, no-store"
    # A shared label stays cacheable by anyone.
    shared = await api.client.get(home["buttons"][0]["readAloudUrl"])
    assert shared.headers["cache-control"].startswith("public")
    # Eight days later the personal URL is gone.
    local_clock("09:00", days_later=8)
    assert (await api.client.get(greeting_url)).status_code == 404
