"""Everything held about one person, as plain JSON-ready data: what the export download contains.

What is in it: the person's record, their sign-in (never the password hash or any token), their
delivery settings (secrets only as "set"), the touchpoints about them with their shared agendas,
the private notes they wrote (never anyone else's), what they added to others' agendas, lifecycle
events, journeys, buddies and mentors, audit entries about them, policy overrides about them,
the messages sent to them, and which survey rounds they were invited to and answered (never the
answers: those carry no name, by design, so no one can tie them to a person). A fixed number of
queries whatever the size of the company or of the person's history.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from touchpoints.api.models import ApiToken
from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import LoginAttempt, User
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    AgendaItem,
    Enrolment,
    LifecycleEvent,
    PrivateNote,
    SupportAssignment,
    Touchpoint,
)
from touchpoints.nudges.models import DeliveryProfile, Nudge
from touchpoints.people.models import Employee
from touchpoints.people.services import snapshot
from touchpoints.policies.models import PolicyOverride
from touchpoints.surveys.models import Survey, SurveyInvitation, SurveyParticipation, SurveyRound

FORMAT = "touchpoints-personal-data/1"
# Every table that refers to a person, and where the export carries it (or why it does not). A test
# fails when a capability adds a table that refers to people without saying so here.
COVERED: dict[str, str] = {
    "employees": "person, preferences",
    "users": "sign_in",
    "user_roles": "sign_in.roles",
    "api_tokens": "sign_in.api_tokens (name and first characters, never the token)",
    "password_reset_tokens": "not exported: a hash of a one-time secret, deleted 30 days after expiry",
    "login_attempts": "sign_in.recent_sign_in_attempts",
    "delivery_profiles": "delivery_settings (secrets only as 'set')",
    "touchpoints": "touchpoints",
    "agenda_items": "touchpoints[].agenda, talking_points_you_added_for_others",
    "private_notes": "your_private_notes (never anyone else's)",
    "lifecycle_events": "lifecycle_events",
    "enrolments": "journeys",
    "support_assignments": "buddies_and_mentors",
    "audit_log": "audit_entries_about_you",
    "policy_overrides": "policy_overrides_about_you",
    "nudges": "messages_to_you",
    "survey_invitations": "survey_rounds",
    "survey_participation": "survey_rounds[].answered_on",
    "teams": "person.team (the team's HR partner is a role, not data about the person)",
    "import_batches": "not exported: HR's uploaded files, deleted 30 days after upload",
    "journey_templates": "not about a person: who created or edited a journey",
    "policies": "not about a person: who created a policy",
    "policy_versions": "not about a person: who edited a policy",
    "surveys": "not about a person: who created a survey",
    "survey_versions": "not about a person: who edited a survey",
    "survey_rounds": "not about a person: who planned a round",
    "survey_connection_alerts": "not about a person: a team's alert and its HR partner",
    "channel_states": "not about a person: who resumed a paused channel",
    "coffee_participants": "coffee_pairing.taking_part",
    "coffee_members": "coffee_pairing.pairs",
    "coffee_unpaired": "coffee_pairing.left_unpaired",
    "coffee_rounds": "not about a person: who ran a pairing round by hand",
    "coffee_programmes": "not about a person: who changed the coffee pairing settings",
    "programme_matches": "programme_pairs (the programme, with whom, how it ended and its note)",
    "programmes": "not about a person: who created a buddy or mentor programme",
    "ritual_attendance": "team_rituals_attendance",
    "rituals": "not about a person: a team's ritual, who organises it and who planned it",
    "ritual_occurrences": "not about a person: when a team met, how, and who logged it",
}


def plain(value: Any) -> Any:
    """A value as JSON has it: moments and days in ISO 8601, enums as their stored value."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def _name(person) -> str | None:
    return person.full_name if person is not None else None


def _person(employee: Employee) -> dict[str, Any]:
    return {
        "id": employee.id, **snapshot(employee),
        "team": employee.team.name if employee.team else None,
        "manager": _name(employee.manager),
        "slack_user_id": employee.slack_user_id,
        "one_on_one_cadence_days": employee.one_on_one_cadence_days,
        "deactivated_at": employee.deactivated_at, "created_at": employee.created_at,
        "updated_at": employee.updated_at,
    }


def _login(user: User | None, tokens: list[ApiToken], attempts: list[LoginAttempt]) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "roles": sorted(role.value for role in user.roles),
        "created_at": user.created_at, "last_login_at": user.last_login_at,
        "must_change_password": user.must_change_password,
        "password": "set" if user.password_hash else "not set",  # the hash itself never leaves
        "api_tokens": [{"name": t.name, "starts_with": t.token_prefix, "created_at": t.created_at,
                        "last_used_at": t.last_used_at, "revoked_at": t.revoked_at} for t in tokens],
        "recent_sign_in_attempts": [{"at": a.attempted_at, "from_address": a.address,
                                     "succeeded": a.succeeded} for a in attempts],
    }


def _delivery(profile: DeliveryProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "daily_digest": profile.daily_digest,
        "teams_workflow": "set" if profile.teams_webhook_url else "not set",
        "teams_workflow_broken_at": profile.teams_webhook_broken_at,
        "slack_not_found_at": profile.slack_not_found_at,
        "calendar_feed": "set" if profile.calendar_token else "not set",
        "updated_at": profile.updated_at,
    }


def _touchpoint(tp: Touchpoint) -> dict[str, Any]:
    return {
        "id": tp.id, "title": tp.title, "kind": tp.kind, "status": tp.status,
        "status_reason": tp.status_reason, "due_at": tp.due_at, "duration_minutes": tp.duration_minutes,
        "planned_mode": tp.planned_mode, "actual_mode": tp.actual_mode, "happened_at": tp.happened_at,
        "owner_role": tp.owner_role, "owner": _name(tp.owner), "logged_by": _name(tp.logged_by),
        "logged_at": tp.logged_at, "sensitive": tp.sensitive,
        "your_confirmation": tp.confirmation, "confirmed_at": tp.confirmed_at,
        "your_confirmation_comment": tp.confirmation_comment,
        "agenda": [{"text": item.text, "by": _name(item.author), "done": item.done,
                    "added_at": item.created_at} for item in tp.agenda_items],
    }


def export_person(employee_id: int, *, now: datetime | None = None) -> dict[str, Any] | None:
    """Everything held about this person, or None when there is no such person."""
    employee = db.session.scalar(
        select(Employee).options(joinedload(Employee.team), joinedload(Employee.manager))
        .where(Employee.id == employee_id))
    if employee is None:
        return None
    user = db.session.scalar(select(User).where(User.employee_id == employee_id))
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                     .order_by(ApiToken.created_at))) if user else []
    attempts = list(db.session.scalars(
        select(LoginAttempt).where(LoginAttempt.email_key == func.lower(employee.email))
        .order_by(LoginAttempt.attempted_at)))
    touchpoints = list(db.session.scalars(
        select(Touchpoint)
        .options(joinedload(Touchpoint.owner), joinedload(Touchpoint.logged_by),
                 selectinload(Touchpoint.agenda_items).joinedload(AgendaItem.author))
        .where(Touchpoint.employee_id == employee_id).order_by(Touchpoint.due_at, Touchpoint.id)).unique())
    notes = db.session.execute(
        select(PrivateNote, Touchpoint.title, Touchpoint.due_at)
        .join(Touchpoint, Touchpoint.id == PrivateNote.touchpoint_id)
        .where(PrivateNote.author_id == employee_id).order_by(PrivateNote.created_at)).all()
    written = db.session.execute(
        select(AgendaItem, Touchpoint.due_at).join(Touchpoint, Touchpoint.id == AgendaItem.touchpoint_id)
        .where(AgendaItem.author_id == employee_id, Touchpoint.employee_id != employee_id)
        .order_by(AgendaItem.created_at)).all()
    events = list(db.session.scalars(select(LifecycleEvent).where(LifecycleEvent.employee_id == employee_id)
                                     .order_by(LifecycleEvent.effective_on, LifecycleEvent.id)))
    enrolments = list(db.session.scalars(select(Enrolment).options(joinedload(Enrolment.journey))
                                         .where(Enrolment.employee_id == employee_id)
                                         .order_by(Enrolment.enrolled_at)))
    support = list(db.session.scalars(
        select(SupportAssignment).options(joinedload(SupportAssignment.employee),
                                          joinedload(SupportAssignment.partner))
        .where(or_(SupportAssignment.employee_id == employee_id, SupportAssignment.partner_id == employee_id))
        .order_by(SupportAssignment.started_on)))
    touchpoint_ids = [t.id for t in touchpoints]
    about_me = and_(AuditEntry.subject_type == "employee", AuditEntry.subject_id == employee_id)
    if touchpoint_ids:
        about_me = or_(about_me, and_(AuditEntry.subject_type == "touchpoint",
                                      AuditEntry.subject_id.in_(touchpoint_ids)))
    audit = list(db.session.scalars(select(AuditEntry).options(joinedload(AuditEntry.actor))
                                    .where(about_me).order_by(AuditEntry.occurred_at, AuditEntry.id)))
    overrides = list(db.session.scalars(
        select(PolicyOverride).options(joinedload(PolicyOverride.policy), joinedload(PolicyOverride.actor))
        .where(PolicyOverride.employee_id == employee_id).order_by(PolicyOverride.created_at)))
    messages = list(db.session.scalars(select(Nudge).where(Nudge.recipient_id == employee_id)
                                       .order_by(Nudge.created_at, Nudge.id)))
    invitations = db.session.execute(
        select(SurveyInvitation, SurveyRound, Survey.title, SurveyParticipation.responded_on)
        .join(SurveyRound, SurveyRound.id == SurveyInvitation.round_id)
        .join(Survey, Survey.id == SurveyRound.survey_id)
        .outerjoin(SurveyParticipation, and_(SurveyParticipation.round_id == SurveyInvitation.round_id,
                                             SurveyParticipation.employee_id == SurveyInvitation.employee_id))
        .where(SurveyInvitation.employee_id == employee_id)
        .order_by(SurveyRound.opens_at, SurveyRound.id)).all()
    profile = db.session.get(DeliveryProfile, employee_id)
    coffee = _coffee(employee_id)
    rituals = _rituals(employee_id)
    pairs = _programme_pairs(employee_id)

    data = {
        "format": FORMAT,
        "generated_at": now or utcnow(),
        "about": "Everything Touchpoints holds about you. Pulse survey answers are not here: they are "
                 "stored without your name, so no one can find yours, not even to show them to you.",
        "person": _person(employee),
        "preferences": {
            "timezone": employee.timezone, "work_days": employee.work_days,
            "work_start": employee.work_start, "work_end": employee.work_end,
            "quiet_hours_start": employee.quiet_hours_start, "quiet_hours_end": employee.quiet_hours_end,
            "preferred_channel": employee.preferred_channel,
        },
        "sign_in": _login(user, tokens, attempts),
        "delivery_settings": _delivery(profile),
        "touchpoints": [_touchpoint(t) for t in touchpoints],
        "your_private_notes": [{"touchpoint_id": note.touchpoint_id, "touchpoint": title, "due_at": due,
                                "note": note.body, "created_at": note.created_at,
                                "updated_at": note.updated_at} for note, title, due in notes],
        "talking_points_you_added_for_others": [
            {"touchpoint_id": item.touchpoint_id, "meeting_due_at": due, "text": item.text,
             "added_at": item.created_at} for item, due in written],
        "lifecycle_events": [{"kind": e.kind, "effective_on": e.effective_on, "details": e.details,
                              "recorded_at": e.recorded_at} for e in events],
        "journeys": [{"journey": e.journey.name, "version": e.journey.version, "status": e.status,
                      "enrolled_at": e.enrolled_at, "source": e.source, "ended_at": e.ended_at,
                      "end_reason": e.end_reason} for e in enrolments],
        "buddies_and_mentors": [
            {"kind": s.kind, "role": "supported" if s.employee_id == employee_id else "supporting",
             "with": _name(s.partner if s.employee_id == employee_id else s.employee),
             "started_on": s.started_on, "ended_on": s.ended_on} for s in support],
        "audit_entries_about_you": [
            {"at": a.occurred_at, "action": a.action, "by": _name(a.actor.employee) if a.actor else None,
             "summary": a.summary, "before": a.before, "after": a.after, "justification": a.justification}
            for a in audit],
        "policy_overrides_about_you": [
            {"touchpoint_id": o.touchpoint_id, "policy": o.policy.name, "action": o.action, "mode": o.mode,
             "reason": o.reason, "justification": o.justification,
             "by": _name(o.actor.employee) if o.actor else None, "at": o.created_at} for o in overrides],
        "messages_to_you": [
            {"kind": m.kind, "channel": m.channel, "status": m.status, "touchpoint_id": m.touchpoint_id,
             "content": m.payload, "created_at": m.created_at, "sent_at": m.sent_at, "read_at": m.read_at,
             "attempts": m.attempts, "last_error": m.last_error} for m in messages],
        "survey_rounds": [
            {"survey": title, "round": round_.sequence, "opens_at": round_.opens_at,
             "closes_at": round_.closes_at, "invited_at": invitation.invited_at,
             "reminded_at": invitation.reminded_at, "answered_on": answered_on}
            for invitation, round_, title, answered_on in invitations],
        "coffee_pairing": coffee,
        "team_rituals_attendance": rituals,
        "programme_pairs": pairs,
    }
    return plain(data)


def _programme_pairs(employee_id: int) -> list[dict[str, Any]]:
    """One's buddy and mentor programme pairs, on either side, with how each ended."""
    from touchpoints.programmes.models import Programme, ProgrammeMatch

    mentee, partner = aliased(Employee), aliased(Employee)
    rows = db.session.execute(
        select(ProgrammeMatch, Programme.name, mentee.full_name, partner.full_name)
        .join(Programme, Programme.id == ProgrammeMatch.programme_id)
        .join(mentee, mentee.id == ProgrammeMatch.employee_id)
        .join(partner, partner.id == ProgrammeMatch.partner_id)
        .where(or_(ProgrammeMatch.employee_id == employee_id, ProgrammeMatch.partner_id == employee_id))
        .order_by(ProgrammeMatch.started_on, ProgrammeMatch.id)).all()
    return [{"programme": programme, "role": "supported" if m.employee_id == employee_id else "supporting",
             "with": partner_name if m.employee_id == employee_id else mentee_name,
             "status": m.status, "started_on": m.started_on, "ended_on": m.ended_on,
             "ended_by": m.ended_by, "end_reason": m.end_reason, "end_note": m.end_note}
            for m, programme, mentee_name, partner_name in rows]


def _rituals(employee_id: int) -> list[dict[str, Any]]:
    """Whether one came to each team meeting, town hall or retreat that was marked (one query)."""
    from touchpoints.people.models import Team
    from touchpoints.rituals.models import Ritual, RitualAttendance, RitualOccurrence

    rows = db.session.execute(
        select(Ritual.title, Ritual.kind, Team.name, RitualOccurrence.due_at, RitualAttendance.presence,
               RitualAttendance.marked_at)
        .join(RitualOccurrence, RitualOccurrence.id == RitualAttendance.occurrence_id)
        .join(Ritual, Ritual.id == RitualOccurrence.ritual_id)
        .outerjoin(Team, Team.id == Ritual.team_id)
        .where(RitualAttendance.employee_id == employee_id).order_by(RitualOccurrence.due_at)).all()
    return [{"ritual": title, "kind": kind, "team": team, "held_at": due, "presence": presence,
             "marked_at": marked} for title, kind, team, due, presence, marked in rows]


def _coffee(employee_id: int) -> dict[str, Any]:
    """One's coffee pairing: the opt-in, every pair or group (with whom), and rounds that left one out."""
    from touchpoints.coffee.models import CoffeeMember, CoffeeParticipant, CoffeeRound, CoffeeUnpaired

    participant = db.session.get(CoffeeParticipant, employee_id)
    mine = select(CoffeeMember.match_id).where(CoffeeMember.employee_id == employee_id)
    rows = db.session.execute(
        select(CoffeeMember.match_id, CoffeeRound.round_on, CoffeeMember.employee_id, Employee.full_name,
               CoffeeMember.touchpoint_id)
        .join(CoffeeRound, CoffeeRound.id == CoffeeMember.round_id)
        .join(Employee, Employee.id == CoffeeMember.employee_id)
        .where(CoffeeMember.match_id.in_(mine)).order_by(CoffeeRound.round_on, CoffeeMember.id)).all()
    pairs: dict[int, dict[str, Any]] = {}
    for match_id, round_on, member_id, name, touchpoint_id in rows:
        pair = pairs.setdefault(match_id, {"round_on": round_on, "with": [], "touchpoint_id": None})
        if member_id == employee_id:
            pair["touchpoint_id"] = touchpoint_id
        else:
            pair["with"].append(name)
    unpaired = db.session.execute(
        select(CoffeeRound.round_on, CoffeeUnpaired.reason)
        .join(CoffeeRound, CoffeeRound.id == CoffeeUnpaired.round_id)
        .where(CoffeeUnpaired.employee_id == employee_id).order_by(CoffeeRound.round_on)).all()
    return {
        "taking_part": None if participant is None else {
            "active": participant.active, "frequency_weeks": participant.frequency_weeks,
            "paused_until": participant.paused_until, "joined_at": participant.joined_at,
            "left_at": participant.left_at},
        "pairs": list(pairs.values()),
        "left_unpaired": [{"round_on": on, "reason": reason} for on, reason in unpaired],
    }
