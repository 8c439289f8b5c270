"""What can go wrong when signing up for a community event, in words a person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class EventClosed(DomainError):
    """Called off, or already begun: sign-ups no longer change."""

    code = "EVENT_CLOSED"


class NotSignedUp(DomainError):
    code = "NOT_SIGNED_UP"


@strawberry.type
class EventClosedError(UserError):
    pass


@strawberry.type
class NotSignedUpError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {EventClosed: EventClosedError, NotSignedUp: NotSignedUpError}
