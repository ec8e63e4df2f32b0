"""Imports every capability's models so SQLAlchemy and Alembic see the whole schema."""
from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import LoginAttempt, PasswordResetToken, User, UserRole
from touchpoints.journeys.models import (
    AgendaItem,
    Enrolment,
    JourneyTemplate,
    LifecycleEvent,
    PrivateNote,
    SupportAssignment,
    Touchpoint,
    TouchpointTemplate,
)
from touchpoints.people.models import Employee, ImportBatch, Team

__all__ = [
    "AgendaItem", "ApiToken", "AuditEntry", "Employee", "Enrolment", "ImportBatch",
    "JourneyTemplate", "LifecycleEvent", "LoginAttempt", "PasswordResetToken", "PrivateNote",
    "SupportAssignment", "Team", "Touchpoint", "TouchpointTemplate", "User", "UserRole",
]
