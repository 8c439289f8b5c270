"""What can go wrong with the daily check-in, in words a person can act on."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class NoCheckInPlan(DomainError):
    """Nobody has turned the daily check-in on for this elder."""

    code = "NO_CHECK_IN_PLAN"


@strawberry.type
class NoCheckInPlanError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {NoCheckInPlan: NoCheckInPlanError}
