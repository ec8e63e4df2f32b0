"""What Touchpoints holds about a person: each kind of data, where it comes from, who can see it,
how long it is kept, and how many such records exist about this person.

The catalogue is data, so the page, the README and the tests read the same list. Counts come in
one query whatever the person's history.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from touchpoints.audit.models import AuditEntry
from touchpoints.auth.models import User
from touchpoints.coffee.models import CoffeeMember, CoffeeParticipant, CoffeeUnpaired
from touchpoints.extensions import db
from touchpoints.journeys.models import (
    AgendaItem,
    Enrolment,
    LifecycleEvent,
    PrivateNote,
    SupportAssignment,
    Touchpoint,
)
from touchpoints.nudges.models import DeliveryProfile, Nudge
from touchpoints.policies.models import PolicyOverride
from touchpoints.privacy.retention import GRIEVANCE_KINDS, GRIEVANCES, IMPORT_UPLOADS, RESET_LINKS
from touchpoints.programmes.models import ProgrammeMatch
from touchpoints.rituals.models import RitualAttendance
from touchpoints.surveys.models import SurveyInvitation

WHILE_EMPLOYED = ("While you work here. After you leave, an HR partner can erase it: it is then kept "
                  "only under a pseudonym, without your name or contact details.")


@dataclass(frozen=True)
class DataKind:
    """One kind of data held about a person."""

    key: str
    title: str
    what: str
    source: str
    who_sees: str
    kept: str
    in_export: bool = True


CATALOGUE: tuple[DataKind, ...] = (
    DataKind("record", "Your record",
             "Name, work email, job title, team, manager, location, country, time zone, working days "
             "and hours, hire, start and exit dates, lifecycle stage.",
             "Your HR partner, by hand or imported from the HR system.",
             "You, your managers (direct and above), HR partners.", WHILE_EMPLOYED),
    DataKind("preferences", "Your preferences",
             "Time zone, quiet hours, preferred channel, daily digest, Slack and Teams details, "
             "calendar feed.",
             "You (My preferences, Notification settings); Slack tells us your Slack user id.",
             "You; HR partners see delivery problems (for example Slack cannot find you).",
             "While you work here; deleted when your data is erased."),
    DataKind("sign_in", "Your sign-in",
             "Roles, when you last signed in, API tokens issued to you. Your password is stored only as a "
             "one-way hash that no one can read, and is never exported. Sign-in attempts (email and "
             "network address) are kept for throttling.",
             "HR partners create the login; you set the password.",
             "You; HR partners see your roles and last sign-in.",
             f"While you work here. Sign-in attempts: one day. Reset links: {RESET_LINKS.kept}."),
    DataKind("touchpoints", "Touchpoints about you",
             "Each planned moment (one-on-ones, check-ins, reviews, welcome, exit), when and how it was "
             "planned, what actually happened, who logged it, and your confirmation.",
             "Your journeys, planned by the scheduler; logged by whoever ran the moment; confirmed by you.",
             "You, whoever runs the moment, your managers (never grievance meetings), HR partners.",
             WHILE_EMPLOYED),
    DataKind("agendas", "Shared agendas",
             "Talking points you or the other person added before a meeting.",
             "You and the other person.",
             "Both of you, your managers and HR partners.",
             "With the touchpoint; deleted when your data is erased."),
    DataKind("private_notes", "Your private notes",
             "Notes you wrote on a touchpoint for yourself.",
             "You.", "Only you. Not your manager, not HR, not the API.",
             "Until you delete them; deleted when your data is erased."),
    DataKind("journeys", "Journeys, lifecycle events, buddies and mentors",
             "The journeys you follow, events such as starting, a manager change, leave and exit, and who "
             "your buddy or mentor is (or whom you support).",
             "HR partners, and the HR system through imports.",
             "You, your managers, HR partners.", WHILE_EMPLOYED),
    DataKind("rituals", "Team rituals attended",
             "Whether you came to each team meeting, town hall or retreat, in person or remotely, once "
             "someone marked it.",
             "The organiser, your team's manager or an HR partner when they log the meeting; you, when you "
             "mark your own attendance.",
             "You, the ritual's organiser, your team's manager, HR partners. Compliance figures use only "
             "totals per meeting.",
             WHILE_EMPLOYED),
    DataKind("connections", "Coffee pairing and programme pairs",
             "Whether you take part in coffee pairing and how often, whom you were paired with and rounds "
             "that left you out (with the reason); your buddy and mentor programme pairs, how they ended "
             "and the short note left when they did.",
             "You (opting in, ending a pair), the pairing rounds, HR partners and managers who make pairs.",
             "You and the people paired with you; HR partners see pairs, and only totals of coffee rounds.",
             WHILE_EMPLOYED),
    DataKind("grievances", "Grievance records",
             "Grievance meetings about you, with their agenda and notes.",
             "HR partners.", "HR partners, you, and whoever runs the meeting. Never your manager.",
             f"Kept {GRIEVANCES.kept}, even after your data is erased, as employment law may require."),
    DataKind("messages", "Messages sent to you",
             "Reminders, confirmation requests and survey invitations, on Slack, Teams, email or in the app, "
             "with whether they arrived.",
             "Touchpoints, from your touchpoints and surveys.",
             "You; HR partners see delivery status and errors, never the content of sensitive moments.",
             "With your record; the content is deleted when your data is erased."),
    DataKind("surveys", "Pulse survey participation",
             "Which survey rounds you were invited to, and the day you answered, so that only people who "
             "have not answered get a reminder. Your answers themselves are stored without your name or any "
             "link to you: no one can find yours, so they are not part of your data.",
             "Touchpoints, when a round opens and when you answer.",
             "No one sees who answered; HR sees only totals per group of five or more.",
             "With your record; deleted when your data is erased. Anonymous answers and totals stay."),
    DataKind("audit", "Changes to your record",
             "Who changed what about you and when (audit log), and overrides of human-touch policies "
             "about your touchpoints, with their written justification.",
             "Touchpoints, whenever someone changes your record or overrides a policy.",
             "HR partners.",
             "Kept as the company's record of changes; your personal values in it are replaced when your "
             "data is erased."),
    DataKind("imports", "Uploaded people files",
             "CSV files HR uploaded to add or update people, which may list you.",
             "HR partners, from the HR system.", "HR partners.", IMPORT_UPLOADS.kept.capitalize() + ".",
             in_export=False),
)


def holdings(employee_id: int) -> dict[str, int]:
    """How many records of each kind exist about this person (one query)."""
    theirs = select(Touchpoint.id).where(Touchpoint.employee_id == employee_id)
    count = lambda model, *where: select(func.count()).select_from(model).where(*where).scalar_subquery()  # noqa: E731
    row = db.session.execute(select(
        count(User, User.employee_id == employee_id),
        count(DeliveryProfile, DeliveryProfile.employee_id == employee_id),
        count(Touchpoint, Touchpoint.employee_id == employee_id, Touchpoint.kind.not_in(GRIEVANCE_KINDS)),
        count(AgendaItem, AgendaItem.touchpoint_id.in_(theirs)),
        count(PrivateNote, PrivateNote.author_id == employee_id),
        count(Enrolment, Enrolment.employee_id == employee_id),
        count(LifecycleEvent, LifecycleEvent.employee_id == employee_id),
        count(SupportAssignment, or_(SupportAssignment.employee_id == employee_id,
                                     SupportAssignment.partner_id == employee_id)),
        count(Touchpoint, Touchpoint.employee_id == employee_id, Touchpoint.kind.in_(GRIEVANCE_KINDS)),
        count(Nudge, Nudge.recipient_id == employee_id),
        count(SurveyInvitation, SurveyInvitation.employee_id == employee_id),
        count(AuditEntry, and_(AuditEntry.subject_type == "employee", AuditEntry.subject_id == employee_id)),
        count(PolicyOverride, PolicyOverride.employee_id == employee_id),
        count(RitualAttendance, RitualAttendance.employee_id == employee_id),
        count(CoffeeParticipant, CoffeeParticipant.employee_id == employee_id),
        count(CoffeeMember, CoffeeMember.employee_id == employee_id),
        count(CoffeeUnpaired, CoffeeUnpaired.employee_id == employee_id),
        count(ProgrammeMatch, or_(ProgrammeMatch.employee_id == employee_id,
                                  ProgrammeMatch.partner_id == employee_id)),
    )).one()
    (login, profile, touchpoints, agenda, notes, enrolments, events, support, grievances, messages,
     invitations, audit, overrides, rituals, coffee_opt_in, coffee_pairs, coffee_unpaired,
     programme_pairs) = (int(v or 0) for v in row)
    return {"record": 1, "preferences": 1 + profile, "sign_in": login, "touchpoints": touchpoints,
            "agendas": agenda, "private_notes": notes, "journeys": enrolments + events + support,
            "grievances": grievances, "messages": messages, "surveys": invitations,
            "audit": audit + overrides, "rituals": rituals,
            "connections": coffee_opt_in + coffee_pairs + coffee_unpaired + programme_pairs}
