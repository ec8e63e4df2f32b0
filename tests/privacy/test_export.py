"""The export: everything held about a person, and nothing about anyone else."""
from __future__ import annotations

import json

from sqlalchemy import select

from touchpoints.auth.models import User
from touchpoints.extensions import db
from touchpoints.privacy.export import COVERED, export_person


def dump(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_the_export_holds_every_kind_of_their_data(life):
    data = export_person(life.subject.id)
    text = dump(data)
    for marker in ("ZOE one-on-one", "ZOE grievance meeting", "ZOE own talking point",
                   "ZOE manager's talking point", "ZOE own private note", "ZOE confirmation comment",
                   "ZOE started", "ZOE engineer",
                   "ZOE message to", "ZOE delivery error", "ZOE token", "Connection pulse"):
        assert marker in text, f"{marker!r} missing from the export"
    assert data["person"]["email"] == life.email and data["person"]["manager"] == "Mia Manager"
    assert data["sign_in"]["roles"] == ["employee"]
    assert data["sign_in"]["recent_sign_in_attempts"][0]["from_address"] == "192.0.2.7"
    assert data["buddies_and_mentors"][0]["with"] == "Mia Manager"
    assert data["survey_rounds"][0]["answered_on"] is not None
    assert data["delivery_settings"] == {**data["delivery_settings"], "daily_digest": True,
                                         "teams_workflow": "set", "calendar_feed": "set"}
    actions = {entry["action"] for entry in data["audit_entries_about_you"]}
    assert "employee.updated" in actions


def test_the_export_holds_nothing_about_anyone_else_and_no_secrets(life):
    text = dump(export_person(life.subject.id))
    # Others' notes, even on the subject's own touchpoints, are theirs alone.
    assert "ZOE manager's private note" not in text and "ZOE HR grievance note" not in text
    assert "CARL" not in text and "carl@example.com" not in text
    user = db.session.scalar(select(User).where(User.employee_id == life.subject.id))
    assert user.password_hash not in text and user.session_token not in text
    assert "ZOE-calendar-secret" not in text and "ZOE-webhook" not in text
    # Survey answers carry no name and are never tied back to a person.
    assert "answer: thanks" not in text


def test_every_table_that_refers_to_a_person_is_covered_by_the_export_or_says_why_not():
    tables_about_people = {
        table.name for table in db.metadata.sorted_tables
        if any(fk.column.table.name in ("employees", "users") for fk in table.foreign_keys)}
    assert tables_about_people - set(COVERED) == set(), (
        "a table refers to a person but the export does not say whether it carries it: add it to "
        "touchpoints/privacy/export.py COVERED")


def test_an_unknown_person_has_no_export(app):
    assert export_person(10_000) is None
