"""A person's page: dates and sign-in times as people read them, in the reader's own zone."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.factories import make_employee, make_hr
from touchpoints.auth.models import User
from touchpoints.extensions import db


def test_sign_in_and_dates_read_as_words_in_the_readers_zone(client, login):
    reader = make_hr("Nia New York", timezone="America/New_York")
    person = make_employee("Pia Person", hire_date=date(2024, 1, 11), start_date=date(2024, 2, 10))
    user = db.session.scalar(select(User).where(User.employee_id == person.id))
    user.last_login_at = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # 08:00 in New York (summer time)
    db.session.commit()
    login(reader)
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Last signed in 18 Mar 2026, 08:00 (America/New_York)" in page
    assert "<dd>11 Jan 2024</dd>" in page and "<dd>10 Feb 2024</dd>" in page
    assert "2026-03-18" not in page and "2024-02-10" not in page
