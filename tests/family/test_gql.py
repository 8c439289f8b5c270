"""Family links through the app's own documents: invite, see, accept, revoke."""

from __future__ import annotations

import pytest

from tests.conftest import ELDER, ELDER_2, FAMILY, FAMILY_2, GRID_WORKER, HEPING_ELDER, HEPING_WORKER, Api

NEW_CHILD = "+8613955550001"


async def invite(api: Api, token: str, phone: str = NEW_CHILD, scopes: list[str] | None = None) -> dict:
    result = await api.op(
        "app/InviteFamilyMember",
        {
            "input": {
                "phone": phone,
                "relation": "孙女",
                "name": "小雨",
                "scopes": scopes or ["ORDER_FOR", "RECEIVE_ALERTS"],
            }
        },
        token,
    )
    return result["data"]["inviteFamilyMember"]


async def test_an_elder_invites_a_family_member_who_sees_and_accepts_the_link(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    link = await invite(api, elder)
    assert link["__typename"] == "FamilyLink"
    assert link["status"] == "PENDING" and link["awaitingMyAnswer"] is False
    assert link["familyMember"]["phone"] == "139****0001"  # masked until the link is active

    await api.settle()
    assert "邀请您成为" in await api.last_sms(NEW_CHILD)

    child = await api.sign_in(NEW_CHILD)  # the invitation gave them an account
    links = (await api.op("app/FamilyLinks", {}, child))["data"]["familyLinks"]["nodes"]
    assert len(links) == 1
    seen = links[0]
    assert seen["awaitingMyAnswer"] is True and seen["mySide"] == "FAMILY_MEMBER"
    assert seen["elder"]["phone"] == "138****0001"

    accepted = await api.op("app/RespondToFamilyInvitation", {"linkId": seen["id"], "accept": True}, child)
    body = accepted["data"]["respondToFamilyInvitation"]
    assert body["status"] == "ACTIVE" and body["canOrderFor"] is True
    assert body["elder"]["phone"] == ELDER

    me = (await api.op("app/Me", {}, elder))["data"]["me"]
    assert {link["familyMember"]["phone"] for link in me["familyLinks"]["nodes"]} >= {NEW_CHILD, FAMILY}
    history = (await api.op("app/FamilyLinks", {}, child))["data"]["familyLinks"]["nodes"][0]["history"]
    assert [h["action"] for h in history] == ["invited", "accepted"]


async def test_invalid_invitations_get_clear_errors_and_change_nothing(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    cases = [
        ({"phone": "12345", "relation": "女儿", "scopes": ["ORDER_FOR"]}, "INVALID_PHONE", "手机号码不正确"),
        ({"phone": NEW_CHILD, "relation": "女儿", "scopes": []}, "INVALID_SCOPES", "至少选择一项"),
        ({"phone": ELDER, "relation": "儿子", "scopes": ["ORDER_FOR"]}, "CANNOT_LINK_SELF", "不能邀请自己"),
        ({"phone": FAMILY, "relation": "儿子", "scopes": ["ORDER_FOR"]}, "ALREADY_LINKED", "已经是家人"),
        ({"phone": NEW_CHILD, "relation": " ", "scopes": ["ORDER_FOR"]}, "INVALID_INPUT", "有误"),
    ]
    for payload, code, words in cases:
        result = (await api.op("app/InviteFamilyMember", {"input": payload}, elder))["data"]["inviteFamilyMember"]
        assert result["code"] == code and words in result["message"], result
    links = (await api.op("app/FamilyLinks", {"includeEnded": True}, elder))["data"]["familyLinks"]["nodes"]
    assert len(links) == 1  # only the demo link to FAMILY


async def test_the_invitee_cannot_accept_on_the_elders_behalf_and_strangers_see_nothing(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    link = await invite(api, elder)
    # The elder already consented by inviting: answering again is not their turn.
    again = await api.op("app/RespondToFamilyInvitation", {"linkId": link["id"], "accept": True}, elder)
    assert again["data"]["respondToFamilyInvitation"]["code"] == "NOT_YOUR_TURN"
    # Another family's member cannot touch it, and cannot tell it exists.
    other = await api.sign_in(FAMILY_2)
    for doc, variables in (
        ("app/RespondToFamilyInvitation", {"linkId": link["id"], "accept": True}),
        ("app/RevokeFamilyLink", {"linkId": link["id"]}),
    ):
        result = await api.op(doc, variables, other)
        payload = next(iter(result["data"].values()))
        assert payload["code"] == "NOT_FOUND"


async def test_a_revoked_link_stops_working_at_once(api: Api, people: dict[str, int]) -> None:
    elder = await api.sign_in(ELDER)
    child = await api.sign_in(FAMILY)
    elder_id = str(people[ELDER])
    # While linked the family member may see the elder.
    seen = await api.op("app/Person", {"id": elder_id}, child)
    assert seen["data"]["person"]["phone"] == ELDER
    link_id = (await api.op("app/FamilyLinks", {}, elder))["data"]["familyLinks"]["nodes"][0]["id"]

    revoked = await api.op("app/RevokeFamilyLink", {"linkId": link_id, "reason": "不再需要"}, elder)
    assert revoked["data"]["revokeFamilyLink"]["status"] == "REVOKED"

    # The same access token, the very next request: refused.
    refused = await api.op("app/Person", {"id": elder_id}, child)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    tv = await api.op("app/ApproveTvDevice", {"userCode": "1234 5678", "elderId": elder_id}, child)
    assert tv["data"]["approveTvDevice"]["code"] in {"INVALID_DEVICE_CODE", "NOT_FOUND"}
    await api.settle()
    assert "解除" in await api.last_sms(FAMILY)


async def test_staff_confirm_consent_in_person_for_an_elder_without_a_smartphone(
    api: Api, people: dict[str, int]
) -> None:
    worker = await api.sign_in(GRID_WORKER)
    requester = "+8613955550002"  # a grandson with no account yet
    created = await api.op(
        "app/InviteFamilyMember",
        {
            "input": {
                "phone": requester,
                "relation": "外孙",
                "scopes": ["RECEIVE_ALERTS"],
                "elderId": str(people[ELDER_2]),
            }
        },
        worker,
    )
    link = created["data"]["inviteFamilyMember"]
    assert link["status"] == "PENDING"  # the staff member recorded the elder's consent; the grandson must accept
    grandson = await api.sign_in(requester)
    accepted = await api.op("app/RespondToFamilyInvitation", {"linkId": link["id"], "accept": True}, grandson)
    assert accepted["data"]["respondToFamilyInvitation"]["status"] == "ACTIVE"
    listed = (await api.op("app/FamilyLinks", {}, grandson))["data"]["familyLinks"]["nodes"][0]
    assert listed["consentGivenInPerson"] is True


async def test_family_asks_and_staff_confirm_with_the_elder_in_person(api: Api, people: dict[str, int]) -> None:
    child = await api.sign_in(FAMILY_2)
    asked = await api.op(
        "app/RequestFamilyLink",
        {"input": {"elderPhone": "13800000003", "relation": "干女儿", "scopes": ["ORDER_FOR"]}},
        child,
    )
    link = asked["data"]["requestFamilyLink"]
    assert link["status"] == "PENDING"
    await api.settle()
    assert "申请成为您的家人" in await api.last_sms("+8613800000003")

    heping = await api.sign_in(HEPING_WORKER)
    wrong_staff = await api.op("staff/ConfirmFamilyLinkInPerson", {"linkId": link["id"]}, heping)
    assert wrong_staff["data"]["confirmFamilyLinkInPerson"]["code"] == "NOT_FOUND"

    worker = await api.sign_in(GRID_WORKER)
    confirmed = await api.op("staff/ConfirmFamilyLinkInPerson", {"linkId": link["id"]}, worker)
    assert confirmed["data"]["confirmFamilyLinkInPerson"] == {
        "__typename": "FamilyLink",
        "id": link["id"],
        "status": "ACTIVE",
        "consentGivenInPerson": True,
    }


async def test_residents_cannot_confirm_in_person(api: Api) -> None:
    elder = await api.sign_in(HEPING_ELDER)
    result = await api.op("staff/ConfirmFamilyLinkInPerson", {"linkId": "1"}, elder)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "没有权限" in result["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, 101])
async def test_page_size_is_bounded(api: Api, first: int) -> None:
    elder = await api.sign_in(ELDER)
    result = await api.op("app/FamilyLinks", {"first": first}, elder)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_invitations_are_no_sms_cannon(api: Api) -> None:
    elder = await api.sign_in(ELDER)
    # A relation is one of the fixed words; the caller's own text never goes into an SMS.
    free_text = await api.op(
        "app/InviteFamilyMember",
        {"input": {"phone": "13955551000", "relation": "加微信领红包www.x.cn", "scopes": ["ORDER_FOR"]}},
        elder,
    )
    assert free_text["data"]["inviteFamilyMember"]["field"] == "relation"
    named = await api.op(
        "app/InviteFamilyMember",
        {"input": {"phone": "13955551000", "relation": "儿子", "name": "领红包 4006001234", "scopes": ["ORDER_FOR"]}},
        elder,
    )
    assert named["data"]["inviteFamilyMember"]["field"] == "name"
    words = (await api.op("app/FamilyRelations", {}, elder))["data"]["familyRelations"]
    assert {"value": "女儿", "label": "女儿"} in words and words[-1]["value"] == "其他"

    # Twelve invitations to twelve new numbers at once: five in the hour (her link to her son,
    # loaded with the demo just now, is the first), then a wait.
    results = []
    for i in range(12):
        result = await api.op(
            "app/InviteFamilyMember",
            {"input": {"phone": f"1395555{1001 + i:04d}", "relation": "其他", "scopes": ["ORDER_FOR"]}},
            elder,
        )
        results.append(result["data"]["inviteFamilyMember"])
    assert [r["__typename"] for r in results[:4]] == ["FamilyLink"] * 4
    assert {r["code"] for r in results[4:]} == {"RATE_LIMITED"}
    assert 3000 < results[4]["retryAfterSeconds"] <= 3601 and "秒后再试" in results[4]["message"]
    await api.settle()
    texted = [m for m in (await api.client.get("/dev/outbox")).json()["messages"] if m["to"].startswith("+861395555")]
    assert len(texted) == 4


async def test_one_number_is_not_invited_by_everyone(api: Api) -> None:
    target = "13955552000"
    answers = []
    for elder in ("+8613800000002", "+8613800000003", "+8613800000004", "+8613800000005"):
        result = await api.op(
            "app/InviteFamilyMember",
            {"input": {"phone": target, "relation": "邻居", "scopes": ["RECEIVE_ALERTS"]}},
            await api.sign_in(elder),
        )
        answers.append(result["data"]["inviteFamilyMember"]["__typename"])
    assert answers == ["FamilyLink", "FamilyLink", "FamilyLink", "RateLimitedError"]
