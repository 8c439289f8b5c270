"""At the door: the community card proves a visit like the code does; nobody answering is a
no-show that refunds and gets someone to check on the elder; every 不满意 is listed for staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import ADMIN, ELDER, ELDER_2, FAMILY, GRID_WORKER, SERVICE_CENTRE, Api
from tests.services.test_booking import PROVIDER_STAFF, balance, book, done_visit, fill_wallet, me, slots

HER_CARD = "8800000000000001"  # the demo card of ELDER


async def started_bath(api: Api) -> dict[str, Any]:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 5000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    booked = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME")
    provider = await api.sign_in(PROVIDER_STAFF)
    for step in ("Confirm", "Start"):
        await api.op(f"staff/{step}Booking", {"bookingId": booked["id"]}, provider)
    return booked


async def complete(api: Api, booking: str, **proof: str) -> dict[str, Any]:
    result = await api.op("staff/CompleteBooking", {"bookingId": booking, **proof}, await api.sign_in(PROVIDER_STAFF))
    return result["data"]["completeBooking"]


async def test_the_worker_completes_a_visit_with_the_elders_community_card(api: Api) -> None:
    booked = await started_bath(api)
    neither = await complete(api, booked["id"])
    assert neither["code"] == "INVALID_INPUT" and "二选一" in neither["message"]
    both = await complete(api, booked["id"], checkInCode="1234", cardNumber=HER_CARD)
    assert both["code"] == "INVALID_INPUT"
    # Another elder's card is not hers, and the wrong try counts like a wrong code.
    wrong = await complete(api, booked["id"], cardNumber="8800 0000 0000 0002")
    assert wrong["code"] == "WRONG_COMMUNITY_CARD" and wrong["remainingAttempts"] == 4
    assert "社区卡号不对" in wrong["message"]
    # Read out in groups of four, as printed on the card.
    done = await complete(api, booked["id"], cardNumber="8800 0000 0000 0001")
    assert done["status"] == "COMPLETED"


async def test_staff_record_a_new_card_and_it_proves_the_next_visit(api: Api) -> None:
    mother = await me(api, ELDER)
    centre = await api.sign_in(SERVICE_CENTRE)
    taken = await api.op("staff/SetCommunityCard", {"personId": mother, "cardNumber": "8800000000000002"}, centre)
    assert taken["data"]["setCommunityCard"]["code"] == "CARD_IN_USE"
    short = await api.op("staff/SetCommunityCard", {"personId": mother, "cardNumber": "12-34"}, centre)
    assert short["data"]["setCommunityCard"]["code"] == "INVALID_INPUT"
    son = await api.op(
        "staff/SetCommunityCard", {"personId": mother, "cardNumber": "77001234"}, await api.sign_in(FAMILY)
    )
    assert son["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # only staff issue cards
    renewed = await api.op("staff/SetCommunityCard", {"personId": mother, "cardNumber": "7700 1234 5678"}, centre)
    assert renewed["data"]["setCommunityCard"] == {"__typename": "Person", "id": mother, "hasCommunityCard": True}
    booked = await started_bath(api)
    old = await complete(api, booked["id"], cardNumber=HER_CARD)
    assert old["code"] == "WRONG_COMMUNITY_CARD"  # the lost card no longer works
    assert (await complete(api, booked["id"], cardNumber="770012345678"))["status"] == "COMPLETED"


async def test_nobody_at_home_refunds_the_son_and_the_centre_is_asked_to_check(api: Api, local_clock: Any) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 5000)
    first = (await slots(api, FAMILY, "bath-at-home", mother))[0]
    booked = await book(api, FAMILY, "bath-at-home", first["start"], personId=mother, payFrom="ME")
    provider = await api.sign_in(PROVIDER_STAFF)
    early = await api.op("staff/MarkNoShow", {"bookingId": booked["id"]}, provider)
    assert early["data"]["markNoShow"]["code"] == "BOOKING_CLOSED"  # not even confirmed
    await api.op("staff/ConfirmBooking", {"bookingId": booked["id"]}, provider)
    early = await api.op("staff/MarkNoShow", {"bookingId": booked["id"]}, provider)
    assert early["data"]["markNoShow"]["code"] == "TOO_EARLY"
    assert await balance(api, FAMILY) == 5000 - 3000

    slot = dt.datetime.fromisoformat(first["start"]).astimezone(dt.timezone(dt.timedelta(hours=8)))
    after = slot + dt.timedelta(minutes=10)
    local_clock(f"{after:%H:%M}", on=after.date())
    api.tokens.clear()  # a day may have passed: sign in again
    missed = await api.op("staff/MarkNoShow", {"bookingId": booked["id"]}, await api.sign_in(PROVIDER_STAFF))
    assert missed["data"]["markNoShow"]["status"] == "NO_SHOW"
    assert await balance(api, FAMILY) == 5000  # nothing was done, nothing is paid
    await api.settle()
    for phone in (FAMILY, SERVICE_CENTRE):
        told = await api.last_sms(phone)
        assert "上门未遇" in told and "请确认老人是否安好" in told and f"{after:%H:%M}" in told
    again = await api.op("staff/MarkNoShow", {"bookingId": booked["id"]}, await api.sign_in(PROVIDER_STAFF))
    assert again["data"]["markNoShow"]["code"] == "BOOKING_CLOSED"


async def test_staff_see_every_unsatisfied_rating_of_their_community(api: Api) -> None:
    mother = await me(api, ELDER)
    await fill_wallet(api, FAMILY, 10_000)
    bad = await done_visit(api, FAMILY, mother, pay_from="ME")
    good = await done_visit(api, FAMILY, mother, pay_from="ME")
    family = await api.sign_in(FAMILY)
    await api.op("app/RateService", {"bookingId": bad, "rating": "UNSATISFIED", "comment": "来晚了"}, family)
    await api.op("app/RateService", {"bookingId": good, "rating": "SATISFIED"}, family)
    community = (await api.op("app/Me", {}, await api.sign_in(ELDER_2)))["data"]["me"]["household"]["community"]["id"]
    for phone in (SERVICE_CENTRE, ADMIN):
        listed = await api.op("staff/UnsatisfiedRatings", {"communityId": community}, await api.sign_in(phone))
        rows = listed["data"]["unsatisfiedRatings"]
        assert [(r["bookingId"], r["elderName"], r["serviceName"], r["comment"], r["ratedByFamily"]) for r in rows] == [
            (bad, "黎文华", "上门助浴", "来晚了", True)
        ]
    ratings = (await api.op("staff/ProviderRatings", {}, await api.sign_in(PROVIDER_STAFF)))["data"]["providerRatings"]
    assert [(r["satisfied"], r["unsatisfied"], r["average"]) for r in ratings] == [(1, 1, 2.0)]
    # A grid worker handles alarms, not service complaints; a family member sees nothing either.
    for phone in (GRID_WORKER, FAMILY):
        refused = await api.op("staff/UnsatisfiedRatings", {"communityId": community}, await api.sign_in(phone))
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
