from __future__ import annotations

from backend.errors import DomainError


class NoHealthConsent(DomainError):
    """Health data may only be kept with the elder's own, separate consent."""

    code = "NO_HEALTH_CONSENT"
