from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class AlreadyLinked(DomainError):
    code = "ALREADY_LINKED"


class CannotLinkSelf(DomainError):
    code = "CANNOT_LINK_SELF"


class InvitationClosed(DomainError):
    code = "INVITATION_CLOSED"


class NotYourTurn(DomainError):
    code = "NOT_YOUR_TURN"


class InvalidScopes(DomainError):
    code = "INVALID_SCOPES"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class AlreadyLinkedError(UserError):
    pass


@strawberry.type
class CannotLinkSelfError(UserError):
    pass


@strawberry.type
class InvitationClosedError(UserError):
    pass


@strawberry.type
class NotYourTurnError(UserError):
    pass


@strawberry.type
class InvalidScopesError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    AlreadyLinked: AlreadyLinkedError,
    CannotLinkSelf: CannotLinkSelfError,
    InvitationClosed: InvitationClosedError,
    NotYourTurn: NotYourTurnError,
    InvalidScopes: InvalidScopesError,
}
