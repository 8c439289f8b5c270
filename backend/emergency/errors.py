from __future__ import annotations

from backend.errors import DomainError


class AlertClosed(DomainError):
    code = "ALERT_CLOSED"
