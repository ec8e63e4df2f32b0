"""Every page of the app, found from its url_map, with its ids filled from the data for one person.

Nothing here names a page: the routes come from `app.url_map`, so a page a capability adds is
walked as soon as it is registered. For each GET route (API routes aside) and a signed-in person,
ids are taken from the table each argument names (`touchpoint_id` -> touchpoints), trying first
the rows about that person, then about their reports, then any; the first URL that answers 200
with HTML is the page. Routes that answer something else (JSON, CSV, calendar files) are downloads,
not pages; routes no candidate opens for this person (403, redirects) are someone else's pages.

The walk is used by the accessibility suite (tests/browser/test_accessibility.py) and by the
query-count test of every page (tests/web/test_page_queries.py); `probe(url)` says how a URL answers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Table, case, select
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from touchpoints.extensions import db

# Columns that tie a row to a person, in the order tried: what they run, then what is about them.
PERSON_COLUMNS = ("owner_id", "employee_id", "recipient_id", "author_id", "partner_id")
MAX_TRIES = 12  # candidate URLs per route and person
Probe = Callable[[str], tuple[int, str]]  # url -> (status, content type)


@dataclass(frozen=True)
class Page:
    endpoint: str
    url: str


@dataclass
class Walk:
    """The pages one person can open, and why the other routes were not walked."""

    pages: list[Page] = field(default_factory=list)
    downloads: dict[str, str] = field(default_factory=dict)  # endpoint -> content type
    closed: dict[str, int] = field(default_factory=dict)  # endpoint -> last status seen
    unfillable: dict[str, str] = field(default_factory=dict)  # endpoint -> argument without values


def page_routes(app: Flask) -> list[Rule]:
    """GET routes of the app that could be pages: not static files, not the JSON API."""
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in (r.methods or ()) and r.endpoint != "static" and not r.endpoint.endswith(".static")
             and not r.rule.startswith("/api/")]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


# Arguments whose table is not named after them.
TABLE_ALIASES = {"journey_id": "journey_templates", "batch_id": "import_batches", "token_id": "api_tokens"}


def table_for(argument: str) -> Table | None:
    """The table an id argument points to: `touchpoint_id` -> touchpoints, `item_id` -> agenda_items."""
    tables = db.metadata.tables
    if argument in TABLE_ALIASES:
        return tables[TABLE_ALIASES[argument]]
    stem = argument.removesuffix("_id")
    for plural in (stem + "s", stem + "es", stem[:-1] + "ies", stem):
        matches = [t for name, t in tables.items() if name == plural] or \
                  [t for name, t in tables.items() if name.endswith("_" + plural)]
        for table in matches:
            if "id" in table.c:
                return table
    return None


def _about(table: Table, person_id: int, report_ids: list[int]) -> list[int]:
    """Ids of rows about the person (each status once, when the table has one), then their reports'."""
    if table.name == "employees":
        return [person_id, *report_ids[:3]]
    ids: list[int] = []
    columns = [table.c[name] for name in PERSON_COLUMNS if name in table.c]
    status = table.c.get("status")
    for column in columns:
        query = select(table.c.id).where(column == person_id)
        if status is not None:
            rows = db.session.execute(select(status, table.c.id).where(column == person_id)
                                      .order_by(table.c.id.desc())).all()
            seen: dict[object, int] = {}
            for value, row_id in rows:
                seen.setdefault(value, row_id)
            ids += list(seen.values())
        else:
            ids += list(db.session.scalars(query.order_by(table.c.id.desc()).limit(3)))
        if report_ids:
            ids += list(db.session.scalars(select(table.c.id).where(column.in_(report_ids))
                                           .order_by(table.c.id.desc()).limit(2)))
    return ids


def candidate_ids(argument: str, person_id: int, report_ids: list[int]) -> list[int]:
    """Ids worth trying for an argument, the person's own rows first."""
    table = table_for(argument)
    if table is None:
        return []
    ids = _about(table, person_id, report_ids)
    first_columns = [table.c[name] for name in PERSON_COLUMNS if name in table.c]
    order = [case((first_columns[0] == person_id, 0), else_=1)] if first_columns else []
    ids += list(db.session.scalars(select(table.c.id).order_by(*order, table.c.id).limit(4)))
    return list(dict.fromkeys(ids))


# Values of arguments that are not ids, asked of the data (or the route) given the ids already chosen.
Provider = Callable[[dict[str, object], int], list[object]]


def _question_keys(chosen: dict[str, object], person_id: int) -> list[object]:
    from touchpoints.surveys.models import SurveyQuestion, SurveyVersion

    return list(db.session.scalars(
        select(SurveyQuestion.key).join(SurveyVersion, SurveyVersion.id == SurveyQuestion.version_id)
        .where(SurveyVersion.survey_id == chosen.get("survey_id")).order_by(SurveyVersion.number.desc())
        .limit(2)))


def _version_numbers(chosen: dict[str, object], person_id: int) -> list[object]:
    from touchpoints.policies.models import PolicyVersion

    return list(db.session.scalars(select(PolicyVersion.number)
                                   .where(PolicyVersion.policy_id == chosen.get("policy_id"))
                                   .order_by(PolicyVersion.number).limit(3)))


def _lifecycle_kinds(chosen: dict[str, object], person_id: int) -> list[object]:
    from touchpoints.journeys.models import LifecycleEventKind

    return [kind.value for kind in LifecycleEventKind]


def _action_link(chosen: dict[str, object], person_id: int) -> list[object]:
    from touchpoints.journeys.models import OPEN_STATUSES, Touchpoint
    from touchpoints.nudges.compose import DONE_IN_PERSON
    from touchpoints.nudges.links import sign_action

    owned = db.session.scalar(select(Touchpoint.id).where(Touchpoint.owner_id == person_id,
                                                          Touchpoint.status.in_(OPEN_STATUSES))
                              .order_by(Touchpoint.due_at).limit(1))
    return [sign_action(DONE_IN_PERSON, owned, person_id)] if owned else []


PROVIDERS: dict[tuple[str, str], Provider] = {
    ("surveys.edit_question", "key"): _question_keys,
    ("policies.version", "number"): _version_numbers,
    ("journeys.record_event", "kind"): _lifecycle_kinds,
    ("nudges.act", "token"): _action_link,
}


def _fillings(rule: Rule, person_id: int, report_ids: list[int]
              ) -> tuple[list[dict[str, object]], str | None]:
    """Argument sets to try for a route (ids, then what depends on them), or the argument without values."""
    converters = rule._converters  # the public API has no other way to read a rule's arguments
    ints = [name for name, conv in converters.items() if isinstance(conv, IntegerConverter)
            and (rule.endpoint, name) not in PROVIDERS]
    others = [name for name in converters if name not in ints]
    fillings: list[dict[str, object]] = [{}]
    for name in ints:
        values = candidate_ids(name, person_id, report_ids)
        if not values:
            return [], name
        fillings = [{**f, name: v} for f in fillings for v in values][:MAX_TRIES]
    for name in others:
        converter = converters[name]
        expanded = []
        for filling in fillings:
            if isinstance(converter, AnyConverter):
                values: Iterable[object] = sorted(converter.items)
            elif (rule.endpoint, name) in PROVIDERS:
                values = PROVIDERS[(rule.endpoint, name)](filling, person_id)
            else:
                return [], name
            expanded += [{**filling, name: value} for value in values]
        fillings = expanded[:MAX_TRIES]
        if not fillings:
            return [], name
    return fillings, None


def walk(app: Flask, person_id: int, probe: Probe) -> Walk:
    """Open every route as this person (through `probe`) and sort them into pages and the rest.

    Runs inside an app context on the data the pages are served from.
    """
    from touchpoints.people.access import report_ids_query

    report_ids = list(db.session.scalars(report_ids_query(person_id)))
    result = Walk()
    for rule in page_routes(app):
        fillings, missing = _fillings(rule, person_id, report_ids)
        if missing:
            result.unfillable[rule.endpoint] = missing
            continue
        for values in fillings:
            url = rule.build(values)[1]
            status, content_type = probe(url)
            if status == 200 and content_type.startswith("text/html"):
                result.pages.append(Page(rule.endpoint, url))
                result.closed.pop(rule.endpoint, None)
                break
            if status == 200:
                result.downloads[rule.endpoint] = content_type
                break
            result.closed[rule.endpoint] = status
    return result
