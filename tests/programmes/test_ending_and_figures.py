"""Ending a pair politely (meetings cancelled, a kind note, history on both sides); programme figures."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.programmes.conftest import user_of
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    Enrolment,
    EnrolmentStatus,
    LifecycleEventKind,
    Mode,
    SupportAssignment,
    Touchpoint,
    TouchpointStatus,
)
from touchpoints.journeys.services import record_lifecycle_event
from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind
from touchpoints.programmes.models import EndedBy, EndReason, MatchStatus
from touchpoints.programmes.services import (
    NotAllowed,
    ProgrammeError,
    ProgrammeValidationError,
    close_departed_matches,
    create_match,
    end_match,
    matches_of,
    programme_figures,
)


def ended_notes(recipient_id: int) -> list[Nudge]:
    return list(db.session.scalars(select(Nudge).where(Nudge.recipient_id == recipient_id,
                                                       Nudge.dedup_key.like("%:ended:%"))))


@pytest.fixture
def pair(company):
    made = create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    return made


def test_the_buddy_ends_the_pair_its_meetings_are_cancelled_and_the_newcomer_gets_a_kind_note(company, pair):
    end_match(pair, actor=user_of(company.designer), reason="no_time",
              note="  Sorry, a big launch is coming.  It was lovely to meet you. ")
    db.session.commit()
    statuses = set(db.session.scalars(select(Touchpoint.status)
                                      .where(Touchpoint.enrolment_id == pair.enrolment_id)))
    assert statuses == {TouchpointStatus.CANCELLED}
    assert db.session.get(Enrolment, pair.enrolment_id).status is EnrolmentStatus.ENDED
    assert db.session.get(SupportAssignment, pair.assignment_id).ended_on is not None
    assert (pair.status, pair.ended_by, pair.end_reason) == \
        (MatchStatus.ENDED, EndedBy.PARTNER, EndReason.NO_TIME)
    assert pair.end_note == "Sorry, a big launch is coming. It was lovely to meet you."
    [note] = ended_notes(company.newcomer.id)
    assert note.kind is NudgeKind.NOTICE and note.channel is DeliveryChannel.IN_APP
    assert note.payload["headline"] == "Dan Designer has closed your buddy pair"
    assert "Thank you for the time you gave each other" in note.payload["detail"]
    assert "It was lovely to meet you." in note.payload["detail"]
    assert ended_notes(company.designer.id) == []  # they ended it: nothing to tell them
    # Both people's history keeps the pair, ended.
    for person in (company.newcomer, company.designer):
        [history] = matches_of(person.id)
        assert history.id == pair.id and history.status is MatchStatus.ENDED


def test_meetings_already_held_stay_held_when_a_pair_ends(company, pair):
    first = db.session.scalars(select(Touchpoint).where(Touchpoint.enrolment_id == pair.enrolment_id)
                               .order_by(Touchpoint.due_at)).first()
    first.status, first.actual_mode, first.happened_at = TouchpointStatus.DONE, Mode.IN_PERSON, utcnow()
    db.session.commit()
    end_match(pair, actor=user_of(company.newcomer), reason="ran_its_course")
    db.session.commit()
    assert db.session.get(Touchpoint, first.id).status is TouchpointStatus.DONE
    assert [n.payload["headline"] for n in ended_notes(company.designer.id)] == \
        ["Eli Newcomer has closed your buddy pair"]


def test_hr_ending_a_pair_tells_both_and_a_second_end_is_refused(company, pair):
    end_match(pair, actor=user_of(company.hr), reason="role_change")
    db.session.commit()
    assert pair.ended_by is EndedBy.HR
    assert len(ended_notes(company.newcomer.id)) == len(ended_notes(company.designer.id)) == 1
    with pytest.raises(ProgrammeError, match="already ended"):
        end_match(pair, actor=user_of(company.hr), reason="other")


def test_only_the_pair_or_hr_may_end_it_and_the_note_stays_short(company, pair):
    with pytest.raises(NotAllowed):
        end_match(pair, actor=user_of(company.manager), reason="other")
    with pytest.raises(ProgrammeValidationError) as refused:
        end_match(pair, actor=user_of(company.newcomer), reason="bored", note="x" * 300)
    assert set(refused.value.errors) == {"reason", "note"}
    assert pair.status is MatchStatus.ACTIVE


def test_the_freed_buddy_can_be_matched_again_the_same_day(company, pair):
    end_match(pair, actor=user_of(company.hr), reason="not_a_fit")
    db.session.commit()
    again = create_match(company.buddy, company.newcomer, company.new_yorker, actor=user_of(company.hr))
    db.session.commit()
    owners = set(db.session.scalars(select(Touchpoint.owner_id)
                                    .where(Touchpoint.enrolment_id == again.enrolment_id)))
    assert owners == {company.new_yorker.id}


def test_pairs_end_when_someone_leaves(company, pair):
    record_lifecycle_event(company.designer, LifecycleEventKind.EXIT, effective_on=utcnow().date(),
                           actor_id=None)
    db.session.commit()
    assert close_departed_matches() == 1
    db.session.commit()
    assert (pair.status, pair.end_reason) == (MatchStatus.ENDED, EndReason.LEFT_COMPANY)
    assert close_departed_matches() == 0


def test_programme_figures(company):
    hr = user_of(company.hr)
    company.buddy.load_cap = 1
    kept = create_match(company.buddy, company.newcomer, company.designer, actor=hr)
    ended = create_match(company.buddy, company.teammate, company.new_yorker, actor=hr)
    other = create_match(company.buddy, company.junior, company.berliner, actor=hr)
    db.session.commit()
    now = utcnow()
    meetings = {p.id: db.session.scalars(select(Touchpoint).where(Touchpoint.enrolment_id == p.enrolment_id)
                                          .order_by(Touchpoint.due_at)).all() for p in (kept, ended, other)}
    # Held this month in person, held by video long ago (counts overall), held over chat (not a meeting).
    for tp, mode, when in ((meetings[kept.id][0], Mode.IN_PERSON, now),
                           (meetings[ended.id][0], Mode.VIDEO, now - timedelta(days=70)),
                           (meetings[other.id][0], Mode.CHAT, now)):
        tp.status, tp.actual_mode, tp.happened_at = TouchpointStatus.DONE, mode, when
    db.session.commit()
    end_match(ended, actor=user_of(company.teammate), reason="not_a_fit")
    end_match(other, actor=hr, reason="not_a_fit")
    db.session.commit()
    figures = programme_figures(company.buddy, timezone="Europe/London", now=now)
    assert figures.active_pairs == 1
    assert (figures.meetings_this_month, figures.meetings_overall) == (1, 2)
    assert figures.ended == 2
    assert figures.ended_by_reason == [(EndReason.NOT_A_FIT, 2)]
    assert figures.at_cap == [(company.designer.id, "Dan Designer", 1)]
    # The other programme's figures are its own.
    assert programme_figures(company.mentoring, timezone="Europe/London").active_pairs == 0


def test_a_pairing_ended_on_the_journeys_page_ends_the_programme_pair_too(company, pair):
    from touchpoints.journeys.services import end_support
    from touchpoints.programmes.services import close_orphaned_matches

    end_support(db.session.get(SupportAssignment, pair.assignment_id), actor_id=user_of(company.hr).id)
    db.session.commit()
    assert close_orphaned_matches() == 1
    db.session.commit()
    assert (pair.status, pair.end_reason) == (MatchStatus.ENDED, EndReason.OTHER)
    open_left = db.session.scalars(select(Touchpoint).where(Touchpoint.enrolment_id == pair.enrolment_id,
                                                            Touchpoint.status == TouchpointStatus.PLANNED))
    assert list(open_left) == []
    assert close_orphaned_matches() == 0


def test_new_colleagues_without_a_buddy_are_listed_until_they_have_one(company):
    from touchpoints.programmes.services import waiting_for_a_buddy

    waiting, total = waiting_for_a_buddy()
    assert [row[1] for row in waiting] == ["Eli Newcomer"] and total == 1
    create_match(company.buddy, company.newcomer, company.designer, actor=user_of(company.hr))
    db.session.commit()
    assert waiting_for_a_buddy() == ([], 0)


def test_both_peoples_exports_carry_the_pair_and_how_it_ended(company, pair):
    from touchpoints.privacy.export import export_person

    end_match(pair, actor=user_of(company.designer), reason="no_time", note="A big launch is coming.")
    db.session.commit()
    [mine] = export_person(company.newcomer.id)["programme_pairs"]
    [theirs] = export_person(company.designer.id)["programme_pairs"]
    assert (mine["role"], mine["with"], mine["status"]) == ("supported", "Dan Designer", "ended")
    assert (theirs["role"], theirs["with"]) == ("supporting", company.newcomer.full_name)
    assert mine["end_reason"] == "no_time" and mine["end_note"] == "A big launch is coming."
    assert export_person(company.hr.id)["programme_pairs"] == []
