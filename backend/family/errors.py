from __future__ import annotations

from backend.errors import DomainError


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
