"""What can go wrong with a person's community records."""

from __future__ import annotations

from backend.errors import DomainError


class CardInUse(DomainError):
    """One community card belongs to one person."""

    code = "CARD_IN_USE"
