"""The house's domains, one entry each: what every process needs to know of a domain (its
tables, its GraphQL root types and error types, its event consumers and jobs, its HTTP routes).

A new domain is its folder and one entry in DOMAINS; the schema, the app, the worker and the
migrations read this list and nothing else names the domains. Domains never import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from fastapi import APIRouter

from backend import events, jobs
from backend.auth import errors as auth_errors
from backend.auth import models as auth_models
from backend.auth import personal as auth_personal
from backend.auth import tasks as auth_tasks
from backend.auth import tv_device
from backend.auth.gql import AuthMutation, AuthQuery
from backend.bulletin import errors as bulletin_errors
from backend.bulletin import models as bulletin_models
from backend.bulletin import personal as bulletin_personal
from backend.bulletin import screens as bulletin_screens
from backend.bulletin import service as bulletin_service
from backend.bulletin import tasks as bulletin_tasks
from backend.bulletin.gql import BulletinMutation, BulletinQuery
from backend.commerce import errors as commerce_errors
from backend.commerce import models as commerce_models
from backend.commerce import personal as commerce_personal
from backend.commerce import screens as commerce_screens
from backend.commerce import service as commerce_service
from backend.commerce import tasks as commerce_tasks
from backend.commerce.gql import CommerceMutation, CommerceQuery, CommerceSubscription
from backend.community import errors as community_errors
from backend.community import models as community_models
from backend.community import personal as community_personal
from backend.community.gql import CommunityMutation, CommunityQuery
from backend.consultation import errors as consultation_errors
from backend.consultation import models as consultation_models
from backend.consultation import personal as consultation_personal
from backend.consultation import service as consultation_service
from backend.consultation import tasks as consultation_tasks
from backend.consultation.gql import ConsultationMutation, ConsultationQuery
from backend.emergency import errors as emergency_errors
from backend.emergency import models as emergency_models
from backend.emergency import personal as emergency_personal
from backend.emergency import sos_webhook
from backend.emergency import tasks as emergency_tasks
from backend.emergency.gql import EmergencyMutation, EmergencyQuery, EmergencySubscription
from backend.errors import DomainError
from backend.family import errors as family_errors
from backend.family import models as family_models
from backend.family import personal as family_personal
from backend.family import tasks as family_tasks
from backend.family.gql import FamilyMutation, FamilyQuery, FamilySubscription
from backend.health import errors as health_errors
from backend.health import models as health_models
from backend.health import personal as health_personal
from backend.health.gql import ProfileMutation, ProfileQuery
from backend.mutual_help import errors as mutual_help_errors
from backend.mutual_help import models as mutual_help_models
from backend.mutual_help import personal as mutual_help_personal
from backend.mutual_help import screens as mutual_help_screens
from backend.mutual_help import service as mutual_help_service
from backend.mutual_help import tasks as mutual_help_tasks
from backend.mutual_help.gql import MutualHelpMutation, MutualHelpQuery
from backend.notify import callbacks as notify_callbacks
from backend.notify import models as notify_models
from backend.notify import personal as notify_personal
from backend.notify import screens as notify_screens
from backend.notify import tasks as notify_tasks
from backend.notify.gql import NotifyMutation, NotifyQuery, NotifySubscription
from backend.parts import Parts, Reader
from backend.personal import Declared, EndWork, EraseStep, NotPersonal, Plan
from backend.phone import models as phone_models
from backend.phone import personal as phone_personal
from backend.phone import service as phone_service
from backend.phone.gql import PhoneMutation, PhoneQuery
from backend.privacy import gql as privacy_gql
from backend.privacy import models as privacy_models
from backend.privacy import personal as privacy_personal
from backend.privacy import tasks as privacy_tasks
from backend.safety import cap_webhook
from backend.safety import models as safety_models
from backend.safety import personal as safety_personal
from backend.safety import tasks as safety_tasks
from backend.safety.gql import SafetyMutation, SafetyQuery
from backend.services import errors as services_errors
from backend.services import models as services_models
from backend.services import personal as services_personal
from backend.services import service as services_service
from backend.services import tasks as services_tasks
from backend.services.gql import ServicesMutation, ServicesQuery
from backend.wallet import errors as wallet_errors
from backend.wallet import models as wallet_models
from backend.wallet import personal as wallet_personal
from backend.wallet import points_webhook
from backend.wallet import tasks as wallet_tasks
from backend.wallet.gql import WalletMutation, WalletQuery
from backend.wellbeing import errors as wellbeing_errors
from backend.wellbeing import models as wellbeing_models
from backend.wellbeing import personal as wellbeing_personal
from backend.wellbeing import service as wellbeing_service
from backend.wellbeing import signals_webhook
from backend.wellbeing import tasks as wellbeing_tasks
from backend.wellbeing.gql import WellbeingMutation, WellbeingQuery
from tv_channel import routes as tv_routes
from tv_channel import tasks as tv_tasks


@dataclass(frozen=True)
class Domain:
    name: str
    models: ModuleType | None  # its tables: importing it puts them on Base.metadata (a door may have none)
    query: type | None = None  # root fields, merged into the schema's Query (in list order)
    mutation: type | None = None
    subscription: type | None = None
    errors: Mapping[type[DomainError], type] = field(default_factory=dict)  # exception -> GraphQL type
    tasks: ModuleType | None = None  # its event consumers and job handlers: importing registers them
    routes: Callable[[Parts], APIRouter] | None = None  # HTTP endpoints besides /graphql
    # Its personal data (backend.personal): every table holding a person's id, phone, address
    # or words, what export shows and erasure does; and its steps when an account is deleted.
    personal: tuple[Declared, ...] = ()
    end_work: EndWork | None = None  # end her open work here and tell whoever expected it
    erase: EraseStep | None = None  # what the generic erasure cannot do (Erase.DOMAIN)
    # Its face on every door: the home entries (content/home) it shows, each its screen. A
    # door opens an entry through these and never composes a room's words itself.
    screens: Mapping[str, Reader] = field(default_factory=dict)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "auth",
        auth_models,
        AuthQuery,
        AuthMutation,
        errors=auth_errors.GRAPHQL_ERRORS,
        tasks=auth_tasks,
        routes=lambda p: tv_device.router(p.factory, p.settings, p.tokens),
        personal=auth_personal.DATA,
    ),
    Domain(
        "community",
        community_models,
        CommunityQuery,
        CommunityMutation,
        errors=community_errors.GRAPHQL_ERRORS,
        personal=community_personal.DATA,
    ),
    Domain(
        "family",
        family_models,
        FamilyQuery,
        FamilyMutation,
        FamilySubscription,
        errors=family_errors.GRAPHQL_ERRORS,
        tasks=family_tasks,
        personal=family_personal.DATA,
    ),
    Domain(
        "emergency",
        emergency_models,
        EmergencyQuery,
        EmergencyMutation,
        EmergencySubscription,
        errors=emergency_errors.GRAPHQL_ERRORS,
        tasks=emergency_tasks,
        routes=sos_webhook.router,
        personal=emergency_personal.DATA,
    ),
    Domain(
        "health",
        health_models,
        ProfileQuery,
        ProfileMutation,
        errors=health_errors.GRAPHQL_ERRORS,
        personal=health_personal.DATA,
    ),
    Domain(
        "notify",
        notify_models,
        NotifyQuery,
        NotifyMutation,
        NotifySubscription,
        tasks=notify_tasks,
        routes=notify_callbacks.router,
        personal=notify_personal.DATA,
        screens={"notices": notify_screens.notices},
    ),
    Domain(
        "wallet",
        wallet_models,
        WalletQuery,
        WalletMutation,
        errors=wallet_errors.GRAPHQL_ERRORS,
        tasks=wallet_tasks,
        routes=points_webhook.router,
        personal=wallet_personal.DATA,
    ),
    Domain(
        "services",
        services_models,
        ServicesQuery,
        ServicesMutation,
        errors=services_errors.GRAPHQL_ERRORS,
        tasks=services_tasks,
        personal=services_personal.DATA,
        end_work=services_service.end_work,
    ),
    Domain(
        "commerce",
        commerce_models,
        CommerceQuery,
        CommerceMutation,
        CommerceSubscription,
        errors=commerce_errors.GRAPHQL_ERRORS,
        tasks=commerce_tasks,
        personal=commerce_personal.DATA,
        end_work=commerce_service.end_work,
        screens={"meals": commerce_screens.menu},
    ),
    Domain(
        "phone", phone_models, PhoneQuery, PhoneMutation, personal=phone_personal.DATA, end_work=phone_service.end_work
    ),
    Domain(
        "bulletin",
        bulletin_models,
        BulletinQuery,
        BulletinMutation,
        errors=bulletin_errors.GRAPHQL_ERRORS,
        tasks=bulletin_tasks,
        personal=bulletin_personal.DATA,
        end_work=bulletin_service.end_work,
        screens={"events": bulletin_screens.events, "announcements": bulletin_screens.announcements},
    ),
    Domain(
        "privacy",
        privacy_models,
        privacy_gql.PrivacyQuery,
        privacy_gql.PrivacyMutation,
        tasks=privacy_tasks,
        routes=lambda p: privacy_gql.router(p.factory, p.tokens),
        personal=privacy_personal.DATA,
    ),
    Domain(
        "safety",
        safety_models,
        SafetyQuery,
        SafetyMutation,
        tasks=safety_tasks,
        routes=cap_webhook.router,
        personal=safety_personal.DATA,
    ),
    Domain(
        "consultation",
        consultation_models,
        ConsultationQuery,
        ConsultationMutation,
        errors=consultation_errors.GRAPHQL_ERRORS,
        tasks=consultation_tasks,
        personal=consultation_personal.DATA,
        end_work=consultation_service.end_work,
    ),
    Domain(
        "mutual_help",
        mutual_help_models,
        MutualHelpQuery,
        MutualHelpMutation,
        errors=mutual_help_errors.GRAPHQL_ERRORS,
        tasks=mutual_help_tasks,
        personal=mutual_help_personal.DATA,
        end_work=mutual_help_service.end_work,
        screens={"mutual_help": mutual_help_screens.help_screen},
    ),
    Domain(
        "wellbeing",
        wellbeing_models,
        WellbeingQuery,
        WellbeingMutation,
        errors=wellbeing_errors.GRAPHQL_ERRORS,
        tasks=wellbeing_tasks,
        routes=signals_webhook.router,
        personal=wellbeing_personal.DATA,
        end_work=wellbeing_service.end_work,
        erase=wellbeing_service.erase_home,
    ),
    # The TV channel door: no tables of its own; its loop is rebuilt by jobs, served by routes.
    Domain("tv_channel", None, tasks=tv_tasks, routes=tv_routes.router),
)

# The house's own tables (the outbox, receipts, jobs), beside the domains'.
PLATFORM_MODELS: tuple[ModuleType, ...] = (events, jobs)
PLATFORM_PERSONAL: tuple[Declared, ...] = (
    NotPersonal(events.OutboxEvent, "the outbox: ids and kinds of what happened, done within days"),
    NotPersonal(jobs.Job, "durable jobs: ids and kinds of work to do, done within days"),
)


def personal_plan() -> Plan:
    """Every domain's personal data and steps, for the privacy room (handed down by the runtime)."""
    return Plan(
        declared=tuple(d for domain in DOMAINS for d in domain.personal) + PLATFORM_PERSONAL,
        end_work=tuple((domain.name, domain.end_work) for domain in DOMAINS if domain.end_work is not None),
        erase=tuple((domain.name, domain.erase) for domain in DOMAINS if domain.erase is not None),
    )


def screens() -> dict[str, Reader]:
    """Each home entry's screen, by the entry's key, from the room that shows it (one room per
    entry: a second is a mistake in this list)."""
    found: dict[str, Reader] = {}
    for domain in DOMAINS:
        for key, reader in domain.screens.items():
            if key in found:
                raise ValueError(f"two rooms show the home entry {key!r}")
            found[key] = reader
    return found


def error_types() -> dict[type[DomainError], type]:
    return {exc: gql_type for domain in DOMAINS for exc, gql_type in domain.errors.items()}
