"""Building survey situations for tests: a pulse survey, rounds opened and closed, people answering."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from tests.factories import make_employee, make_team
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.surveys import services
from touchpoints.surveys.models import Survey, SurveyRound
from touchpoints.surveys.pack import load_pack


def pulse_survey() -> Survey:
    """The default connection pulse, loaded from defaults.yaml."""
    (survey,) = load_pack()
    db.session.commit()
    return survey


def people(count: int, team: Team | None, *, prefix: str = "Person", **fields: Any) -> list[Employee]:
    """Several employees in one team, all at work."""
    return [make_employee(f"{prefix} {team.name if team else 'NoTeam'} {i}", team=team, **fields)
            for i in range(count)]


def team_of(name: str, count: int, **fields: Any) -> tuple[Team, list[Employee]]:
    team = make_team(name)
    return team, people(count, team, **fields)


def open_round(survey: Survey, *, min_group_size: int = 5, **plan: Any) -> SurveyRound:
    """A round of the survey for everyone (unless plan says otherwise), opened now."""
    data = {"opens_on": date.today() - timedelta(days=1), "open_days": 7,
            "min_group_size": min_group_size, **plan}
    round_ = services.schedule_round(survey, data, tz="UTC", actor_id=None,
                                     today=date.today() - timedelta(days=1))
    db.session.commit()
    assert services.open_round(round_.id, now=utcnow())
    return db.session.get(SurveyRound, round_.id)


def answers(survey_or_round: Survey | SurveyRound, *, score: int = 4, enps: int = 8,
            comment: str | None = None, new_hire: bool = False) -> dict[str, Any]:
    """Answers to every question a respondent is asked, with the same agreement score."""
    version = survey_or_round.version if isinstance(survey_or_round, SurveyRound) else \
        survey_or_round.current_version
    out: dict[str, Any] = {}
    for q in version.questions:
        if not q.applies_to(new_hire):
            continue
        if q.kind.value == "agreement":
            out[q.key] = score
        elif q.kind.value == "enps":
            out[q.key] = enps
        elif q.kind.value == "single_choice":
            out[q.key] = q.choices[0]["key"]
        elif comment is not None:
            out[q.key] = comment
    return out


def answer(round_: SurveyRound, who: Iterable[Employee], **kwargs: Any) -> None:
    """Each person answers the round (their invitation decides the new-hire questions)."""
    for person in who:
        invitation = services.invitation_for(round_.id, person.id)
        services.submit_response(round_.id, person.id,
                                 answers(round_, new_hire=invitation.new_hire, **kwargs))


def close(round_: SurveyRound) -> SurveyRound:
    assert services.close_round(round_.id, now=utcnow())
    return db.session.get(SurveyRound, round_.id)


def stage(status: str) -> dict[str, Any]:
    return {"status": LifecycleStatus(status)}
