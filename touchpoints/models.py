"""Imports every capability's models so SQLAlchemy and Alembic see the whole schema."""
from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import LoginAttempt, PasswordResetToken, User, UserRole
from touchpoints.people.models import Employee, ImportBatch, Team

__all__ = [
    "ApiToken", "AuditEntry", "Employee", "ImportBatch", "LoginAttempt", "PasswordResetToken",
    "Team", "User", "UserRole",
]
