"""Imports every domain's event consumers and job handlers, so any process that runs them
(the api in embedded mode, `./dev worker`) has them all registered."""

from backend.commerce import tasks as commerce_tasks
from backend.emergency import tasks as emergency_tasks
from backend.family import tasks as family_tasks
from backend.notify import tasks as notify_tasks
from backend.privacy import tasks as privacy_tasks
from backend.services import tasks as services_tasks
from backend.wallet import tasks as wallet_tasks

__all__ = [
    "commerce_tasks",
    "emergency_tasks",
    "family_tasks",
    "notify_tasks",
    "privacy_tasks",
    "services_tasks",
    "wallet_tasks",
]
