"""What can go wrong when booking a service, in words the person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class SlotFull(DomainError):
    code = "SLOT_FULL"


class BookingClosed(DomainError):
    """Cancelled, completed or under way: this change no longer applies."""

    code = "BOOKING_CLOSED"


class WrongCheckInCode(DomainError):
    """The code given at the door is not the elder's; the try is counted."""

    code = "WRONG_CHECK_IN_CODE"
    keeps_changes = True

    def __init__(self, remaining: int) -> None:
        super().__init__(remaining=remaining)


class WrongCommunityCard(WrongCheckInCode):
    """The card number given at the door is not the elder's; counted with wrong codes."""

    code = "WRONG_COMMUNITY_CARD"


class NotCompleted(DomainError):
    """A service is rated once it is done."""

    code = "NOT_COMPLETED"


class AlreadyRated(DomainError):
    code = "ALREADY_RATED"


class TooEarly(DomainError):
    """Nobody can be missed at the door before the visit's time."""

    code = "TOO_EARLY"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class SlotFullError(UserError):
    pass


@strawberry.type
class BookingClosedError(UserError):
    pass


@strawberry.type
class WrongCheckInCodeError(UserError):
    remaining_attempts: int

    @staticmethod
    def fields_of(e: DomainError) -> dict[str, object]:
        return {"remaining_attempts": e.params["remaining"]}


@strawberry.type
class TooEarlyError(UserError):
    pass


@strawberry.type
class NotCompletedError(UserError):
    pass


@strawberry.type
class AlreadyRatedError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    SlotFull: SlotFullError,
    BookingClosed: BookingClosedError,
    WrongCheckInCode: WrongCheckInCodeError,
    TooEarly: TooEarlyError,
    NotCompleted: NotCompletedError,
    AlreadyRated: AlreadyRatedError,
}
