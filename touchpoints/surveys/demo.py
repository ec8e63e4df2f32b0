"""Demo surveys: the connection pulse with six fortnightly rounds of history and one open now.

The answers tell a small story HR can find on the results pages: most teams feel connected,
Sales drifts down and then drops in the latest closed round, so the feedback loop has planned a
live team conversation. Everyone answers through the real service, so every anonymity rule holds.
The demo employee (Emma Schmidt) has not answered the open round, so her home page invites her.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Employee, Team
from touchpoints.surveys import services
from touchpoints.surveys.models import QuestionKind, Survey, SurveyInvitation, SurveyRound
from touchpoints.surveys.pack import load_pack

PAST_ROUNDS = 6
EVERY_DAYS = 14
OPEN_DAYS = 5
HOLD_OUT_EMAIL = "emma.schmidt@northwind.example"
# Mean agreement per team, oldest round first; the last value is the open round's mood.
TEAM_MOOD = {
    "Engineering": [4.1, 4.0, 4.2, 4.1, 4.2, 4.3, 4.2],
    "Customer Success": [3.9, 3.9, 4.0, 3.8, 3.9, 4.0, 4.0],
    "Sales": [3.9, 3.9, 3.8, 3.7, 3.8, 3.1, 3.3],
    "Design": [4.2, 4.3, 4.1, 4.2, 4.3, 4.2, 4.2],
    "Operations": [3.7, 3.8, 3.8, 3.9, 3.8, 3.9, 3.9],
}
COMMENTS = [
    "More time together in person, even once a month, would help a lot.",
    "Our weekly team call is the best part of the week. Please keep it.",
    "Too many tools; I never know where a decision was written down.",
    "My one-on-ones were moved three times this month.",
    "I'd like a buddy for the first months, not only a checklist.",
    "The new chat channels make it easier to ask quick questions.",
    "Hard to reach anyone in HR without filling in a ticket.",
    "Pairing sessions helped me feel part of the team.",
    "Fewer automated reminders, more actual conversations.",
    "Leadership town halls feel more open lately.",
    "It would help to meet the other teams we depend on.",
    "I'd rather hear about changes from my manager than from an email.",
]


def _answers(rng: random.Random, round_: SurveyRound, mood: float, new_hire: bool) -> dict[str, object]:
    answers: dict[str, object] = {}
    for q in services.questions_for(round_, new_hire=new_hire):
        if q.kind is QuestionKind.AGREEMENT:
            answers[q.key] = max(1, min(5, round(rng.gauss(mood, 0.7))))
        elif q.kind is QuestionKind.ENPS:
            answers[q.key] = max(0, min(10, round(rng.gauss(mood * 2 - 0.5, 1.6))))
        elif q.kind is QuestionKind.SINGLE_CHOICE:
            weights = [5, 3, 2][: len(q.choices)]
            answers[q.key] = rng.choices([c["key"] for c in q.choices], weights=weights)[0]
        elif rng.random() < 0.35:
            answers[q.key] = rng.choice(COMMENTS)
    return answers


def _answer_round(rng: random.Random, round_: SurveyRound, moods: dict[int, float], rate: float,
                  at: datetime, hold_out: int | None) -> int:
    invitations = db.session.execute(
        select(SurveyInvitation.employee_id, SurveyInvitation.new_hire, Employee.team_id)
        .join(Employee, Employee.id == SurveyInvitation.employee_id)
        .where(SurveyInvitation.round_id == round_.id)
        .order_by(SurveyInvitation.employee_id)).all()
    latest = min(round_.closes_at, utcnow()) - timedelta(minutes=1)
    answered = 0
    for employee_id, new_hire, team_id in invitations:
        if employee_id == hold_out or rng.random() > rate:
            continue
        moment = min(at + timedelta(hours=rng.randint(1, 24 * (OPEN_DAYS - 1))), latest)
        services.submit_response(round_.id, employee_id,
                                 _answers(rng, round_, moods.get(team_id, 3.8), new_hire), now=moment)
        answered += 1
    return answered


def load_demo_surveys(*, today: date | None = None, seed: int = 11) -> None:
    """Add the connection pulse with past rounds and one open round (only on an empty survey list)."""
    if db.session.scalar(select(Survey.id).limit(1)) is not None:
        click.echo("Surveys already exist; demo surveys left as they are.")
        return
    rng = random.Random(seed)
    today = today or date.today()
    (survey,) = load_pack()
    db.session.commit()
    teams = {name: team_id for team_id, name in db.session.execute(select(Team.id, Team.name))}
    hold_out = db.session.scalar(select(Employee.id).where(Employee.email == HOLD_OUT_EMAIL))
    tz = "Europe/London"
    for index in range(PAST_ROUNDS + 1):
        opens_on = today - timedelta(days=EVERY_DAYS * (PAST_ROUNDS - index) + 2)
        is_open = index == PAST_ROUNDS
        # The open round repeats, so the scheduler keeps the fortnightly pulse going.
        plan = services.plan_round({"opens_on": opens_on, "open_days": OPEN_DAYS, "min_group_size": 5,
                                    "repeat_every_days": EVERY_DAYS if is_open else None},
                                   tz=tz, today=opens_on)
        round_ = SurveyRound(survey=survey, sequence=index + 1)
        plan.apply(round_)
        db.session.add(round_)
        db.session.commit()
        opened_at = datetime.combine(opens_on, time(8, 0), ZoneInfo(tz))
        services.open_round(round_.id, now=opened_at)
        round_ = db.session.get(SurveyRound, round_.id)
        moods = {teams[name]: values[index] for name, values in TEAM_MOOD.items() if name in teams}
        _answer_round(rng, round_, moods, 0.55 if is_open else 0.92, opened_at,
                      hold_out if is_open or index == 2 else None)
        if not is_open:
            services.close_round(round_.id, now=round_.closes_at)
    click.echo(f"Demo surveys loaded: '{survey.title}' with {PAST_ROUNDS} closed rounds and one open.")
