"""Compliance for people: who sees which violations, weekly snapshots, the trend, the overrides list.

HR partners see every violation. Managers see those of their direct and indirect reports, except
anything about grievances, which stays with HR. Employees see no one's (their own journey shows
them what is planned). The scheduler stores a snapshot per week; the current week is always
computed live, so the trend's last point is today's figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, delete, func, literal, select
from sqlalchemy.orm import joinedload

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.access import report_ids_query
from touchpoints.policies.engine.evaluation import ComplianceReport, active_policies, evaluate
from touchpoints.policies.models import ComplianceSnapshot, PolicyOverride

COMPANY = "company"
TREND_WEEKS = 12


def scope_for(user) -> Select | None:
    """The employees whose violations this user may see: None for everyone (HR)."""
    if user.is_hr:
        return None
    if user.is_manager:
        return report_ids_query(user.employee_id)
    return select(literal(-1))  # no one


def report_for(user, *, now: datetime | None = None) -> ComplianceReport:
    """The violations this user may see, evaluated only over the people they may see."""
    report = evaluate(now=now, restrict=scope_for(user))
    return report if user.is_hr else report.without_hr_only()


def week_start(day: date) -> date:
    """The Monday of the week a day is in."""
    return day - timedelta(days=day.weekday())


def _subject(policy_id: int | None) -> str:
    return COMPANY if policy_id is None else f"policy:{policy_id}"


def store_snapshot(report: ComplianceReport, *, week: date | None = None) -> int:
    """Keep a report's figures as its week's snapshot (replacing that week's earlier one); returns rows."""
    week = week or week_start(report.now.astimezone(UTC).date())
    rows = [{"week_start": week, "subject": COMPANY, "policy_id": None,
             "violations": len(report.violations), "people": report.people_out_of_compliance,
             "taken_at": utcnow()}]
    for policy, violations, people in report.by_policy():
        rows.append({"week_start": week, "subject": _subject(policy.policy_id), "policy_id": policy.policy_id,
                     "violations": violations, "people": people, "taken_at": utcnow()})
    db.session.execute(delete(ComplianceSnapshot).where(ComplianceSnapshot.week_start == week))
    db.session.execute(ComplianceSnapshot.__table__.insert(), rows)
    return len(rows)


def record_compliance_snapshot(now: datetime | None = None) -> dict[str, int]:
    """The scheduler's job: evaluate the whole company and keep this week's figures. Commits."""
    try:
        report = evaluate(now=now)
        rows = store_snapshot(report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"violations": len(report.violations), "people": report.people_out_of_compliance, "rows": rows}


def backfill_snapshots(weeks: int, *, now: datetime | None = None) -> int:
    """Snapshots for past weeks, each evaluated as of that week's last moment (the demo's history)."""
    now = now or utcnow()
    policies = active_policies()
    this_week = week_start(now.date())
    stored = 0
    for back in range(weeks, 0, -1):
        week = this_week - timedelta(weeks=back)
        end = datetime.combine(week + timedelta(days=6), time(23, 59), tzinfo=UTC)
        stored += store_snapshot(evaluate(policies, now=end), week=week)
    return stored


@dataclass(frozen=True)
class TrendPoint:
    week: date
    people: int | None
    violations: int | None
    live: bool = False

    @property
    def label(self) -> str:
        return f"{self.week.day} {self.week:%b}"


def weekly_trend(report: ComplianceReport, *, weeks: int = TREND_WEEKS, policy_id: int | None = None
                 ) -> list[TrendPoint]:
    """People and violations per week for the last weeks (stored), ending with this week (live).

    Weeks without a snapshot (the scheduler was not running) stay empty rather than guessed.
    """
    this_week = week_start(report.now.astimezone(UTC).date())
    first = this_week - timedelta(weeks=weeks - 1)
    stored = {row.week_start: row for row in db.session.scalars(
        select(ComplianceSnapshot).where(ComplianceSnapshot.subject == _subject(policy_id),
                                         ComplianceSnapshot.week_start >= first,
                                         ComplianceSnapshot.week_start < this_week))}
    points = []
    for index in range(weeks - 1):
        week = first + timedelta(weeks=index)
        row = stored.get(week)
        points.append(TrendPoint(week, row.people if row else None, row.violations if row else None))
    if policy_id is None:
        live = TrendPoint(this_week, report.people_out_of_compliance, len(report.violations), True)
    else:
        live = TrendPoint(this_week, report.people_of_policy(policy_id), len(report.of_policy(policy_id)),
                          True)
    return [*points, live]


def list_overrides(*, page: int = 1, per_page: int = 50, policy_id: int | None = None):
    """Every override HR granted, newest first, with who, for whom and why (a fixed number of queries)."""
    query = (select(PolicyOverride)
             .options(joinedload(PolicyOverride.policy), joinedload(PolicyOverride.version),
                      joinedload(PolicyOverride.employee), joinedload(PolicyOverride.actor),
                      joinedload(PolicyOverride.touchpoint))
             .order_by(PolicyOverride.created_at.desc(), PolicyOverride.id.desc()))
    if policy_id is not None:
        query = query.where(PolicyOverride.policy_id == policy_id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def override_count() -> int:
    return db.session.scalar(select(func.count()).select_from(PolicyOverride)) or 0
