from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class AlertClosed(DomainError):
    code = "ALERT_CLOSED"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class AlertClosedError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    AlertClosed: AlertClosedError,
}
