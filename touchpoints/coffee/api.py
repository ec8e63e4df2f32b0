"""Coffee pairing over the API: one's own opt-in (read and change) and pairs; pairing rounds for HR.

A token acts for its person: the opt-in and pairs are always the token person's own, never someone
else's; rounds (with their unpaired people and reasons) are HR's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from sqlalchemy import select

from touchpoints.api import openapi as doc
from touchpoints.api.auth import api_token_required
from touchpoints.api.helpers import (
    ApiProblem,
    check_types,
    iso,
    not_found,
    paginated,
    read_json_object,
    require_hr,
)
from touchpoints.api.views import bp
from touchpoints.coffee import services
from touchpoints.coffee.models import CoffeeParticipant, CoffeeRound
from touchpoints.extensions import db


def participation_json(participant: CoffeeParticipant | None) -> dict[str, Any]:
    """One's opt-in as the API shows it (not taking part when never opted in)."""
    offered = list(services.programme().frequency_options)
    if participant is None:
        return {
            "taking_part": False,
            "frequency_weeks": None,
            "paused_until": None,
            "joined_at": None,
            "left_at": None,
            "next_due_on": None,
            "frequencies_offered": offered,
        }
    return {
        "taking_part": participant.active,
        "frequency_weeks": participant.frequency_weeks,
        "paused_until": iso(participant.paused_until),
        "joined_at": iso(participant.joined_at),
        "left_at": iso(participant.left_at),
        "next_due_on": iso(participant.next_due_on),
        "frequencies_offered": offered,
    }


def round_json(made: CoffeeRound) -> dict[str, Any]:
    """A round's figures."""
    return {
        "id": made.id,
        "round_on": iso(made.round_on),
        "seed": made.seed,
        "repeat_window_days": made.repeat_window_days,
        "min_overlap_minutes": made.min_overlap_minutes,
        "participants": made.participants,
        "pairs": made.pairs,
        "groups_of_three": made.trios,
        "unpaired": made.unpaired,
        "cross_team_groups": made.cross_team_groups,
        "cross_team_share": made.cross_team_share,
        "created_at": iso(made.created_at),
    }


@bp.get("/me/coffee")
@api_token_required
def my_coffee():
    """The token person's own coffee pairing opt-in."""
    return {"data": participation_json(services.participant_for(g.api_user.employee_id))}


@bp.put("/me/coffee")
@api_token_required
def set_my_coffee():
    """Opt in, change frequency, pause, or leave (for the token person only)."""
    data = read_json_object()
    problems = check_types(
        data, {"taking_part": "boolean", "frequency_weeks": "integer?", "paused_until": "string?"}
    )
    if "taking_part" not in data and "taking_part" not in problems:
        problems["taking_part"] = "Say whether to take part (true or false)."
    paused_until = None
    if data.get("paused_until") and "paused_until" not in problems:
        try:
            paused_until = date.fromisoformat(data["paused_until"])
        except ValueError:
            problems["paused_until"] = "Give a date as YYYY-MM-DD, or null."
    if problems:
        raise ApiProblem(422, "Some fields are not valid.", problems)
    employee = g.api_user.employee
    try:
        services.save_participation(
            employee,
            taking_part=data["taking_part"],
            frequency_weeks=data.get("frequency_weeks"),
            paused_until=paused_until,
            actor=g.api_user,
        )
    except services.CoffeeValidationError as error:
        db.session.rollback()
        raise ApiProblem(422, "Some fields are not valid.", error.errors) from None
    db.session.commit()
    return {"data": participation_json(services.participant_for(employee.id))}


@bp.get("/me/coffee/pairs")
@api_token_required
def my_coffee_pairs():
    """The token person's own coffees, newest first: who with, shared hours, how it went."""
    pairs = services.my_pairs(g.api_user.employee)
    return {
        "data": [
            {
                "round_on": iso(p.round_on),
                "with": [{"full_name": name, "team": team} for name, team in p.partners],
                "shared_hours": p.overlap or None,
                "cross_team": p.cross_team,
                "outcome": p.outcome.lower().replace(" ", "_"),
                "touchpoint_id": p.touchpoint.id if p.touchpoint else None,
                "due_at": iso(p.touchpoint.due_at) if p.touchpoint else None,
            }
            for p in pairs
        ]
    }


@bp.get("/coffee/rounds")
@api_token_required
def list_coffee_rounds():
    """Pairing rounds, newest first (HR partners)."""
    require_hr("read pairing rounds")
    return paginated(select(CoffeeRound).order_by(CoffeeRound.round_on.desc()), round_json)


@bp.get("/coffee/rounds/<int:round_id>")
@api_token_required
def get_coffee_round(round_id: int):
    """One round with who it left unpaired and why (HR partners)."""
    require_hr("read pairing rounds")
    made = db.session.get(CoffeeRound, round_id)
    if made is None:
        raise not_found("pairing round")
    outcome = services.outcome_counts([made.id])[made.id]
    return {
        "data": {
            **round_json(made),
            "outcomes": outcome,
            "unpaired_people": [
                {"employee_id": eid, "full_name": name, "team": team, "reason": reason}
                for eid, name, team, reason in services.unpaired_of(made.id)
            ],
        }
    }


_DATE = {"type": ["string", "null"], "format": "date"}
_SCHEMAS = {
    "CoffeeParticipation": {
        "type": "object",
        "properties": {
            "taking_part": {"type": "boolean"},
            "frequency_weeks": {"type": ["integer", "null"], "enum": [1, 2, 4, None]},
            "paused_until": _DATE,
            "joined_at": {"type": ["string", "null"], "format": "date-time"},
            "left_at": {"type": ["string", "null"], "format": "date-time"},
            "next_due_on": _DATE,
            "frequencies_offered": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "CoffeeParticipationChange": {
        "type": "object",
        "required": ["taking_part"],
        "properties": {
            "taking_part": {"type": "boolean"},
            "frequency_weeks": {"type": ["integer", "null"]},
            "paused_until": _DATE,
        },
    },
    "CoffeePair": {
        "type": "object",
        "properties": {
            "round_on": {"type": "string", "format": "date"},
            "with": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"full_name": {"type": "string"}, "team": {"type": "string"}},
                },
            },
            "shared_hours": {
                "type": ["string", "null"],
                "description": "The shared working hours in the person's own zone.",
            },
            "cross_team": {"type": "boolean"},
            "outcome": {
                "type": "string",
                "enum": ["coming_up", "held", "skipped", "not_logged", "not_recorded"],
            },
            "touchpoint_id": {"type": ["integer", "null"]},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "CoffeeRound": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "round_on": {"type": "string", "format": "date"},
            "seed": {"type": "integer"},
            "repeat_window_days": {"type": "integer"},
            "min_overlap_minutes": {"type": "integer"},
            "participants": {"type": "integer"},
            "pairs": {"type": "integer"},
            "groups_of_three": {"type": "integer"},
            "unpaired": {"type": "integer"},
            "cross_team_groups": {"type": "integer"},
            "cross_team_share": {"type": ["number", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
            "unpaired_people": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "employee_id": {"type": "integer"},
                        "full_name": {"type": "string"},
                        "team": {"type": ["string", "null"]},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    },
}
_MINE = doc.json_response("Your coffee pairing.", doc.data_envelope(doc.ref("CoffeeParticipation")))

doc.register_paths(
    {
        "/me/coffee": {
            "get": doc.operation(
                "getMyCoffee",
                "Coffee pairing",
                "Your coffee pairing opt-in",
                "Whether the token's person takes part, how often, and any pause. Nobody "
                "takes part until they opt in.",
                {"200": _MINE},
                (401,),
            ),
            "put": doc.operation(
                "setMyCoffee",
                "Coffee pairing",
                "Opt in, change, pause or leave",
                "For the token's person only. `frequency_weeks` must be one HR offers; "
                "`paused_until` a date within a year, or null.",
                {"200": _MINE},
                (400, 401, 415, 422),
                body=doc.ref("CoffeeParticipationChange"),
            ),
        },
        "/me/coffee/pairs": {
            "get": doc.operation(
                "listMyCoffeePairs",
                "Coffee pairing",
                "Your coffee pairs",
                "The token person's own pairs and groups, newest first (up to 50).",
                {
                    "200": doc.json_response(
                        "Your pairs.", doc.data_envelope({"type": "array", "items": doc.ref("CoffeePair")})
                    )
                },
                (401,),
            ),
        },
        "/coffee/rounds": {
            "get": doc.operation(
                "listCoffeeRounds",
                "Coffee pairing",
                "List pairing rounds (HR partners)",
                "Each round's figures, newest first.",
                {"200": doc.json_response("One page of rounds.", doc.page_envelope(doc.ref("CoffeeRound")))},
                (400, 401, 403),
                parameters=doc.PAGE_PARAMETERS,
            ),
        },
        "/coffee/rounds/{round_id}": {
            "get": doc.operation(
                "getCoffeeRound",
                "Coffee pairing",
                "Get one pairing round (HR partners)",
                "Its figures, how its coffee chats went, and who it left unpaired with the reason.",
                {"200": doc.json_response("The round.", doc.data_envelope(doc.ref("CoffeeRound")))},
                (401, 403, 404),
                parameters=[doc.path_id("round_id")],
            ),
        },
    },
    _SCHEMAS,
    tags={"Coffee pairing": "Opt-in coffee pairing across teams: one's own opt-in and pairs; rounds for HR."},
)
