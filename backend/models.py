"""Imports every domain's models so Base.metadata knows every table (migrations, tests)."""

from backend import events, jobs
from backend.auth import models as auth_models
from backend.commerce import models as commerce_models
from backend.community import models as community_models
from backend.emergency import models as emergency_models
from backend.family import models as family_models
from backend.health import models as health_models
from backend.notify import models as notify_models
from backend.privacy import models as privacy_models
from backend.services import models as services_models
from backend.wallet import models as wallet_models

__all__ = [
    "auth_models",
    "commerce_models",
    "community_models",
    "emergency_models",
    "events",
    "family_models",
    "health_models",
    "jobs",
    "notify_models",
    "privacy_models",
    "services_models",
    "wallet_models",
]
