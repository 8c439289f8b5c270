"""What can go wrong with a request for help, in words a person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class HelpTaken(DomainError):
    """Enough volunteers said 我去 before this one."""

    code = "HELP_TAKEN"


class HelpClosed(DomainError):
    """Done or called off."""

    code = "HELP_CLOSED"


class NothingToConfirm(DomainError):
    """Nobody has said they would go yet."""

    code = "NOTHING_TO_CONFIRM"


class WrongHelpCode(DomainError):
    # A wrong code counts a try.
    keeps_changes = True
    code = "WRONG_HELP_CODE"

    def __init__(self, left: int) -> None:
        super().__init__(left=left)


@strawberry.type
class HelpTakenError(UserError):
    pass


@strawberry.type
class HelpClosedError(UserError):
    pass


@strawberry.type
class NothingToConfirmError(UserError):
    pass


@strawberry.type
class WrongHelpCodeError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    HelpTaken: HelpTakenError,
    HelpClosed: HelpClosedError,
    NothingToConfirm: NothingToConfirmError,
    WrongHelpCode: WrongHelpCodeError,
}
