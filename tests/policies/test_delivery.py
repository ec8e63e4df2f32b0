"""Quiet hours for the nudges: working hours in the person's own zone, across a change of clocks."""
from __future__ import annotations

from datetime import UTC, datetime, time

from tests.factories import make_employee
from tests.policies.conftest import policy
from touchpoints.journeys.models import TouchpointKind
from touchpoints.people.models import Channel
from touchpoints.policies.delivery import (
    channel_allows_content,
    delivery_window_for,
    is_quiet_now,
    next_allowed_delivery,
)

QUIET = {"key": "quiet", "name": "No nudges outside working hours", "rule": "quiet_hours", "params": {}}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_without_a_policy_a_nudge_goes_at_once(org):
    moment = utc(2026, 3, 14, 3, 0)
    assert delivery_window_for(org.employee) == []
    assert next_allowed_delivery(org.employee, moment) == moment


def test_a_nudge_waits_for_working_hours_in_the_persons_zone(org):
    policy(QUIET)
    berlin = make_employee("Bea Berlin", timezone="Europe/Berlin", country_code="DE", subdivision="BE")
    # Tuesday 17 March 2026, 06:00 UTC = 07:00 in Berlin: wait until 09:00 Berlin (08:00 UTC).
    assert next_allowed_delivery(berlin, utc(2026, 3, 17, 6, 0)) == utc(2026, 3, 17, 8, 0)
    # Inside working hours: at once.
    assert next_allowed_delivery(berlin, utc(2026, 3, 17, 10, 0)) == utc(2026, 3, 17, 10, 0)
    # 17:30 Berlin is the end: from then on, the next working morning.
    assert next_allowed_delivery(berlin, utc(2026, 3, 17, 16, 30)) == utc(2026, 3, 18, 8, 0)
    # Friday evening waits for Monday morning.
    assert next_allowed_delivery(berlin, utc(2026, 3, 20, 19, 0)) == utc(2026, 3, 23, 8, 0)
    assert is_quiet_now(berlin, utc(2026, 3, 21, 12, 0))


def test_the_window_follows_the_clocks_across_a_daylight_saving_change(org):
    policy(QUIET)
    london = make_employee("Lou London", timezone="Europe/London")
    # Clocks go forward on Sunday 29 March 2026: 09:00 London is 09:00 UTC on Friday, 08:00 UTC on Monday.
    assert next_allowed_delivery(london, utc(2026, 3, 27, 18, 0)) == utc(2026, 3, 30, 8, 0)
    assert next_allowed_delivery(london, utc(2026, 3, 27, 6, 0)) == utc(2026, 3, 27, 9, 0)
    # And back on 25 October 2026.
    assert next_allowed_delivery(london, utc(2026, 10, 23, 18, 0)) == utc(2026, 10, 26, 9, 0)
    new_york = make_employee("Nia York", timezone="America/New_York", country_code="US", subdivision="NY")
    # US clocks changed on 8 March 2026: 09:00 New York is 14:00 UTC before, 13:00 UTC after.
    assert next_allowed_delivery(new_york, utc(2026, 3, 6, 23, 0)) == utc(2026, 3, 9, 13, 0)


def test_public_holidays_personal_quiet_hours_and_working_days(org):
    policy(QUIET)
    london = make_employee("Lou London", timezone="Europe/London", quiet_hours_start=time(12, 0),
                           quiet_hours_end=time(13, 30))
    # Good Friday (3 April 2026) and Easter Monday are bank holidays in England: Tuesday morning.
    assert next_allowed_delivery(london, utc(2026, 4, 2, 17, 0)) == utc(2026, 4, 7, 8, 0)
    # The person's own lunch-time quiet hours (BST): 12:15 local waits until 13:30 local.
    assert next_allowed_delivery(london, utc(2026, 4, 8, 11, 15)) == utc(2026, 4, 8, 12, 30)
    night_owl = make_employee("Nora Night", timezone="Europe/London", work_days="6",
                              quiet_hours_start=time(20, 0), quiet_hours_end=time(10, 0))
    # Works Saturdays only, and is quiet until 10:00 (an overnight span): Saturday 10:00 BST.
    assert next_allowed_delivery(night_owl, utc(2026, 4, 8, 11, 0)) == utc(2026, 4, 11, 9, 0)


def test_quiet_hours_follow_their_scope(org):
    policy({**QUIET, "scope": {"teams": ["Sales"]}, "params": {"working_days_only": False,
                                                              "respect_personal_quiet_hours": False}})
    saturday_night = utc(2026, 3, 21, 23, 0)
    assert next_allowed_delivery(org.employee, saturday_night) == saturday_night  # Platform: not covered
    # Sales, in New York: no working-days limit, so Sunday 09:00 New York.
    assert next_allowed_delivery(org.outsider, saturday_night) == utc(2026, 3, 22, 13, 0)


def test_channel_guidelines_keep_sensitive_content_out_of_chat_and_email(org):
    assert channel_allows_content(TouchpointKind.GRIEVANCE_MEETING, Channel.SLACK)
    policy({"key": "no-chat", "name": "Sensitive never in chat", "rule": "channel_guidelines",
            "scope": {"kinds": ["grievance_meeting"]}, "params": {"forbidden_modes": ["chat", "email"]}})
    assert not channel_allows_content(TouchpointKind.GRIEVANCE_MEETING, Channel.SLACK)
    assert not channel_allows_content(TouchpointKind.GRIEVANCE_MEETING, "email")
    assert channel_allows_content(TouchpointKind.GRIEVANCE_MEETING, Channel.IN_APP)
    assert channel_allows_content(TouchpointKind.ONE_ON_ONE, Channel.TEAMS)
