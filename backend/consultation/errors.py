"""What can go wrong in a consultation, in words a person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class NoSuchDesk(DomainError):
    """The community has not set up this desk (no doctor, no legal adviser yet)."""

    code = "NO_SUCH_DESK"


class ThreadClosed(DomainError):
    code = "THREAD_CLOSED"


class NothingToRate(DomainError):
    """No reply yet: there is nothing to be satisfied with or not."""

    code = "NOTHING_TO_RATE"


class ThreadRated(DomainError):
    code = "THREAD_RATED"


@strawberry.type
class NoSuchDeskError(UserError):
    pass


@strawberry.type
class ThreadClosedError(UserError):
    pass


@strawberry.type
class NothingToRateError(UserError):
    pass


@strawberry.type
class ThreadRatedError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    NoSuchDesk: NoSuchDeskError,
    ThreadClosed: ThreadClosedError,
    NothingToRate: NothingToRateError,
    ThreadRated: ThreadRatedError,
}
