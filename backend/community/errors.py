"""What can go wrong with a person's community records."""

from __future__ import annotations

import strawberry

from backend.errors import DomainError
from backend.gql.errors import UserError


class CardInUse(DomainError):
    """One community card belongs to one person."""

    code = "CARD_IN_USE"


# What each looks like in a GraphQL result union (a UserError, message in the asker's words).


@strawberry.type
class CardInUseError(UserError):
    pass


GRAPHQL_ERRORS: dict[type[DomainError], type] = {
    CardInUse: CardInUseError,
}
