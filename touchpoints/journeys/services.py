"""The journeys capability's public services, in one place for pages, the API, chat buttons and jobs.

Import from here; the modules behind it are split by what HR would call the work: templates,
enrolment, lifecycle, outcomes (logging what happened) and insights (timeline, journey map).
Services never commit: the caller commits (or rolls back) the unit of work.
"""
from __future__ import annotations

from touchpoints.extensions import db
from touchpoints.journeys.access import (
    can_manage_touchpoint,
    can_view_touchpoint,
    visible_touchpoints,
)
from touchpoints.journeys.enrolment import (
    EnrolmentResult,
    active_journey,
    cadence_days_for,
    complete_finished_enrolments,
    employee_ids_for,
    end_enrolment,
    enrol,
    enrol_many,
    enrolments_of,
    extend_horizon,
    materialise,
    resolve_owner,
)
from touchpoints.journeys.errors import (
    HumanTouchRefusal,
    JourneyError,
    JourneyValidationError,
    NotAllowed,
    TouchpointActionError,
)
from touchpoints.journeys.insights import JourneyMap, Timeline, employee_timeline, journey_map_figures
from touchpoints.journeys.lifecycle import (
    assign_support,
    current_support,
    end_support,
    lifecycle_events_of,
    on_employee_changed,
    on_employee_created,
    record_due_starts,
    record_lifecycle_event,
    set_one_on_one_cadence,
)
from touchpoints.journeys.outcomes import (
    LogAttempt,
    PlanAttempt,
    add_agenda_item,
    cancel_touchpoint,
    confirm_touchpoint,
    log_touchpoint,
    mark_missed,
    mode_advice,
    plan_touchpoint,
    private_note_for,
    register_log_check,
    register_plan_check,
    remove_agenda_item,
    reschedule,
    save_private_note,
    set_agenda_item_done,
)
from touchpoints.journeys.templates import (
    RevisionImpact,
    clone_journey,
    create_journey,
    discard_draft,
    journey_to_data,
    latest_versions,
    publish,
    retire_journey,
    revision_impact,
    start_revision,
    update_draft,
    versions_of,
)


def run_daily_journey_upkeep() -> dict[str, int]:
    """The scheduler's journeys job: record starts, extend recurring series, close finished enrolments.

    Idempotent and safe to run late or twice; commits its own work.
    """
    try:
        started = record_due_starts()
        created = extend_horizon()
        completed = complete_finished_enrolments()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"started": started, "touchpoints_created": created, "enrolments_completed": completed}


__all__ = [
    "EnrolmentResult", "HumanTouchRefusal", "JourneyError", "JourneyMap", "JourneyValidationError",
    "LogAttempt", "NotAllowed", "PlanAttempt", "RevisionImpact", "Timeline", "TouchpointActionError",
    "active_journey",
    "add_agenda_item", "assign_support", "cadence_days_for", "can_manage_touchpoint",
    "can_view_touchpoint", "cancel_touchpoint", "clone_journey", "complete_finished_enrolments",
    "confirm_touchpoint", "create_journey", "current_support", "discard_draft", "employee_ids_for",
    "employee_timeline", "end_enrolment", "end_support", "enrol", "enrol_many", "enrolments_of",
    "extend_horizon", "journey_map_figures", "journey_to_data", "latest_versions",
    "lifecycle_events_of", "log_touchpoint", "mark_missed", "materialise", "mode_advice",
    "on_employee_changed",
    "on_employee_created", "plan_touchpoint", "private_note_for", "publish", "record_due_starts",
    "record_lifecycle_event", "register_log_check", "register_plan_check", "remove_agenda_item",
    "reschedule",
    "resolve_owner", "retire_journey", "revision_impact", "run_daily_journey_upkeep",
    "save_private_note", "set_agenda_item_done", "set_one_on_one_cadence", "start_revision",
    "update_draft", "versions_of", "visible_touchpoints",
]
