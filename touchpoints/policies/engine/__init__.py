"""The policies engine: set-based evaluation of human-touch policies over the whole company."""
from touchpoints.policies.engine.evaluation import (
    ActivePolicy,
    ComplianceReport,
    Person,
    TeamViolation,
    Violation,
    active_policies,
    evaluate,
    first_days_deadline,
    load_people,
)

__all__ = ["ActivePolicy", "ComplianceReport", "Person", "TeamViolation", "Violation", "active_policies",
           "evaluate", "first_days_deadline", "load_people"]
