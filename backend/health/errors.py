from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class NoHealthConsent(DomainError):
    """Health data may only be kept with the elder's own, separate consent."""

    code = "NO_HEALTH_CONSENT"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class NoHealthConsentError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    NoHealthConsent: NoHealthConsentError,
}
