"""Privacy pages: what is held about me, my download, HR's list of departed people and erasure."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from tests.privacy.conftest import mark_departed
from tests.querycount import count_queries
from tests.web.test_home import text_of
from touchpoints.audit.models import AuditEntry
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import AgendaItem, Mode, OwnerRole, PrivateNote, Touchpoint, TouchpointKind
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind
from touchpoints.people.models import Employee
from touchpoints.privacy.erasure import pseudonym
from touchpoints.privacy.inventory import CATALOGUE


def test_the_page_lists_each_kind_with_source_audience_retention_and_my_counts(life, client, login):
    login(life.subject)
    response = client.get("/me/privacy")
    assert response.status_code == 200
    page = text_of(response)
    for kind in CATALOGUE:
        assert kind.title in page and kind.who_sees in page
    assert "Your private notes" in page and "Only you. Not your manager, not HR, not the API." in page
    assert "two years after the person's exit date, then deleted" in page
    # Counts are this person's: one touchpoint besides the grievance, one private note of their own.
    assert "Touchpoints about you" in page


def test_my_download_is_a_json_attachment_of_my_data_and_is_recorded(life, client, login):
    login(life.subject)
    response = client.get("/me/privacy/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="touchpoints-my-data-')
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["full_name"] == "Zoë Müller" and "CARL" not in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.exported",
                                                      AuditEntry.subject_id == life.subject.id))


def test_hr_lists_departed_people_and_finds_them(life, client, login):
    mark_departed(life.subject)
    login(life.hr)
    page = text_of(client.get("/privacy/people"))
    assert "Zoë Müller" in page and "Carl Colleague" not in page
    assert "Zoë" in text_of(client.get("/privacy/people?q=zoe.muller"))
    assert "No one matches" in text_of(client.get("/privacy/people?q=nobody"))


def test_hr_erases_after_reading_what_goes_and_typing_the_name(life, client, login):
    mark_departed(life.subject)
    login(life.hr)
    page = text_of(client.get(f"/privacy/people/{life.subject.id}/erase"))
    assert "What goes" in page and "What stays, under the pseudonym" in page
    assert "Grievance records (1): kept two years after the person's exit date" in page
    wrong = client.post(f"/privacy/people/{life.subject.id}/erase", data={"confirm_name": "Zoe"})
    assert wrong.status_code == 400
    html = wrong.get_data(as_text=True)
    assert 'value="Zoe"' in html and "Type their full name exactly as shown above" in html
    assert 'aria-invalid="true"' in html
    right = client.post(f"/privacy/people/{life.subject.id}/erase", data={"confirm_name": "Zoë Müller"})
    assert right.status_code == 302 and right.headers["Location"] == "/privacy/people"
    assert db.session.get(Employee, life.subject.id).full_name == pseudonym(life.subject.id)
    assert f"Erased. The record is now {pseudonym(life.subject.id)}" in text_of(client.get("/privacy/people"))


def test_someone_still_working_here_cannot_be_erased(life, client, login):
    login(life.hr)
    page = text_of(client.get(f"/privacy/people/{life.colleague.id}/erase"))
    assert "Only people who have left can be erased" in page
    response = client.post(f"/privacy/people/{life.colleague.id}/erase",
                           data={"confirm_name": "Carl Colleague"})
    assert response.status_code == 400
    assert db.session.get(Employee, life.colleague.id).full_name == "Carl Colleague"


def test_only_hr_reaches_erasure_and_others_exports(life, client, login):
    login(life.manager)
    assert client.get("/privacy/people").status_code == 403
    assert client.get(f"/privacy/people/{life.subject.id}/export.json").status_code == 403
    erase = client.post(f"/privacy/people/{life.subject.id}/erase", data={"confirm_name": "Zoë Müller"})
    assert erase.status_code == 403


def test_hr_downloads_a_persons_data_for_them(life, client, login):
    login(life.hr)
    response = client.get(f"/privacy/people/{life.subject.id}/export.json")
    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True))["person"]["email"] == life.email


def test_the_privacy_page_and_export_cost_a_fixed_number_of_queries(life, client, login):
    login(life.subject)
    client.get("/me/privacy")
    with count_queries() as small:
        client.get("/me/privacy")
        client.get("/me/privacy/export.json")
    # Ten more touchpoints, each with talking points from both sides, notes and a message.
    for n in range(10):
        tp = Touchpoint(employee_id=life.subject.id, owner_id=life.manager.id, kind=TouchpointKind.CHECK_IN,
                        title=f"Check-in {n}", planned_mode=Mode.VIDEO, owner_role=OwnerRole.MANAGER,
                        due_at=utcnow() + timedelta(days=n))
        db.session.add(tp)
        db.session.flush()
        db.session.add_all([
            AgendaItem(touchpoint_id=tp.id, author_id=life.subject.id, text=f"Point {n}"),
            AgendaItem(touchpoint_id=tp.id, author_id=life.manager.id, text=f"Answer {n}"),
            PrivateNote(touchpoint_id=tp.id, author_id=life.subject.id, body=f"Note {n}"),
            Nudge(dedup_key=f"more:{n}", kind=NudgeKind.REMINDER, recipient_id=life.subject.id,
                  touchpoint_id=tp.id, channel=DeliveryChannel.IN_APP, payload={}, next_attempt_at=utcnow()),
        ])
    db.session.commit()
    with count_queries() as large:
        client.get("/me/privacy")
        client.get("/me/privacy/export.json")
    assert large.count == small.count, large.report()
