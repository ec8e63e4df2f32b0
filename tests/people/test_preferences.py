"""Employees set their own time zone, quiet hours and channel; every mistake is named."""
from __future__ import annotations

from datetime import time

import pytest

from tests.factories import make_employee
from touchpoints.extensions import db
from touchpoints.people.models import Channel


def prefs(**changes) -> dict[str, str]:
    data = {"timezone": "Europe/Berlin", "quiet_hours_start": "", "quiet_hours_end": "",
            "preferred_channel": "email"}
    data.update(changes)
    return data


def test_an_employee_saves_their_preferences(client, login):
    me = make_employee("Pia Prefs")
    login(me)
    response = client.post("/people/me/preferences", data=prefs(
        quiet_hours_start="19:00", quiet_hours_end="08:00", preferred_channel="slack"))
    assert response.status_code == 302
    db.session.expire_all()
    assert me.timezone == "Europe/Berlin" and me.preferred_channel is Channel.SLACK
    assert (me.quiet_hours_start, me.quiet_hours_end) == (time(19, 0), time(8, 0))
    page = client.get("/people/me/preferences").get_data(as_text=True)
    assert '<option selected value="slack">' in page and 'value="19:00"' in page


def test_an_unknown_time_zone_is_refused(client, login):
    me = make_employee("Pia Prefs", timezone="Europe/London")
    login(me)
    response = client.post("/people/me/preferences", data=prefs(timezone="Europe/Atlantis"))
    assert "not a known IANA time zone" in response.get_data(as_text=True)
    db.session.expire_all()
    assert me.timezone == "Europe/London"


@pytest.mark.parametrize(("start", "end"), [("22:00", ""), ("", "07:00")])
def test_quiet_hours_need_both_ends_or_neither(client, login, start, end):
    me = make_employee("Pia Prefs")
    login(me)
    response = client.post("/people/me/preferences", data=prefs(quiet_hours_start=start,
                                                                quiet_hours_end=end))
    assert "Quiet hours need both a start and an end, or neither." in response.get_data(as_text=True)
    db.session.expire_all()
    assert me.quiet_hours_start is None and me.quiet_hours_end is None


def test_quiet_hours_can_be_cleared(client, login):
    me = make_employee("Pia Prefs", quiet_hours_start=time(20), quiet_hours_end=time(7))
    login(me)
    client.post("/people/me/preferences", data=prefs())
    db.session.expire_all()
    assert me.quiet_hours_start is None and me.quiet_hours_end is None


def test_an_unknown_channel_is_refused(client, login):
    me = make_employee("Pia Prefs")
    login(me)
    response = client.post("/people/me/preferences", data=prefs(preferred_channel="pigeon"))
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert me.preferred_channel is Channel.IN_APP
