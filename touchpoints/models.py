"""Imports every capability's models so SQLAlchemy and Alembic see the whole schema."""
from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import LoginAttempt, PasswordResetToken, User, UserRole
from touchpoints.coffee.models import (
    CoffeeMatch,
    CoffeeMember,
    CoffeeParticipant,
    CoffeeProgramme,
    CoffeeRound,
    CoffeeUnpaired,
)
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
from touchpoints.nudges.models import ChannelState, DeliveryProfile, Nudge, PassWatermark, TeamChannel
from touchpoints.people.models import Employee, ImportBatch, Team
from touchpoints.policies.models import ComplianceSnapshot, Policy, PolicyOverride, PolicyVersion
from touchpoints.programmes.models import Programme, ProgrammeMatch
from touchpoints.rituals.models import Ritual, RitualAttendance, RitualOccurrence
from touchpoints.scheduling.models import JobRun
from touchpoints.surveys.models import (
    ConnectionAlert,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyResultCell,
    SurveyRound,
    SurveyVersion,
)

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AuditEntry",
    "ChannelState",
    "CoffeeMatch",
    "CoffeeMember",
    "CoffeeParticipant",
    "CoffeeProgramme",
    "CoffeeRound",
    "CoffeeUnpaired",
    "ComplianceSnapshot",
    "ConnectionAlert",
    "DeliveryProfile",
    "Employee",
    "Enrolment",
    "ImportBatch",
    "JobRun",
    "JourneyTemplate",
    "LifecycleEvent",
    "LoginAttempt",
    "Nudge",
    "PassWatermark",
    "PasswordResetToken",
    "Policy",
    "PolicyOverride",
    "PolicyVersion",
    "PrivateNote",
    "Programme",
    "ProgrammeMatch",
    "Ritual",
    "RitualAttendance",
    "RitualOccurrence",
    "SupportAssignment",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyParticipation",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyResultCell",
    "SurveyRound",
    "SurveyVersion",
    "Team",
    "TeamChannel",
    "Touchpoint",
    "TouchpointTemplate",
    "User",
    "UserRole",
]
