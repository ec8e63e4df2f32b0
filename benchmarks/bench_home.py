"""Home pages at 10,000 employees with a year of activity, for each role, against /healthz."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from benchmarks.company import BENCH_PASSWORD
from benchmarks.core import LARGE_SIZE, CompanyDatabase, Context, Result, Stopwatch, run_alone
from benchmarks.serving import Server, memory_results, page_results, query_count_results, session_cookie

SMALL_SIZE = 10
MAX_P95_MS = 100
MIN_SHARE_OF_TRIVIAL = 40  # percent of /healthz throughput in the same run
MAX_QUERIES = 30  # the HR partner's home composes six read models; the count must not grow with size
VIEWS = ("hr", "manager", "me")


def add_activity(*, now: datetime | None = None) -> dict[str, int]:
    """Give a synthetic company (benchmarks/company.py) a working life, in set-based statements.

    Everyone still here follows the development journey (recurring one-on-ones) from four months
    ago, newcomers onboarding and leavers offboarding; past moments are mostly done (in person or
    live), some missed, some still open (overdue); upcoming one-on-ones carry talking points; new
    starters have buddies; the outbox holds reminders, escalations and delivery problems; a pulse
    round is open and half have answered; the shipped policies are active with four weeks of
    compliance snapshots. Deterministic: the same company gets the same activity. Commits.
    """
    from sqlalchemy import case, func, insert, select, update

    from touchpoints.extensions import db
    from touchpoints.journeys.defaults import load_defaults
    from touchpoints.journeys.enrolment import active_journey, enrol_many
    from touchpoints.journeys.models import (
        OPEN_STATUSES,
        AgendaItem,
        Confirmation,
        SupportAssignment,
        SupportKind,
        Touchpoint,
        TouchpointKind,
        TouchpointStatus,
    )
    from touchpoints.nudges.models import DeliveryChannel, Nudge, NudgeKind, NudgeStatus
    from touchpoints.people.models import Employee, LifecycleStatus, Team
    from touchpoints.policies.compliance import backfill_snapshots, record_compliance_snapshot
    from touchpoints.policies.services import DEFAULT_POLICY_DIR, load_policy_files
    from touchpoints.surveys import services as surveys
    from touchpoints.surveys.models import Survey, SurveyInvitation, SurveyParticipation, SurveyRound
    from touchpoints.surveys.pack import load_pack

    now = now or datetime.now(UTC)
    today = now.date()
    load_defaults()
    db.session.commit()
    people = db.session.execute(
        select(Employee.id, Employee.status, Employee.team_id, Employee.manager_id)
        .where(Employee.deactivated_at.is_(None)).order_by(Employee.id)).all()
    stages = {LifecycleStatus.PRE_BOARDING: [], LifecycleStatus.ONBOARDING: [], LifecycleStatus.ACTIVE: [],
              LifecycleStatus.ON_LEAVE: [], LifecycleStatus.OFFBOARDING: [], LifecycleStatus.ALUMNI: []}
    for person_id, status, _, _ in people:
        stages[LifecycleStatus(status)].append(person_id)
    working = (stages[LifecycleStatus.ONBOARDING] + stages[LifecycleStatus.ACTIVE]
               + stages[LifecycleStatus.OFFBOARDING])
    newcomers = stages[LifecycleStatus.PRE_BOARDING] + stages[LifecycleStatus.ONBOARDING]
    def days_ago(days: int) -> datetime:
        return datetime.combine(today - timedelta(days=days), time(8), tzinfo=UTC)

    for group, key, since in ((sorted(working), "development", 120), (newcomers, "onboarding", 60),
                              (stages[LifecycleStatus.OFFBOARDING], "offboarding", 20)):
        enrol_many(group, active_journey(key), actor_id=None, source="benchmark", enrolled_at=days_ago(since),
                   today=today, audit=False)
    db.session.commit()

    # The past: seven in ten done as planned, one missed, two still open (overdue).
    past = (Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at < now)
    db.session.execute(update(Touchpoint).where(*past, Touchpoint.id % 10 < 7).values(
        status=TouchpointStatus.DONE, actual_mode=Touchpoint.planned_mode, happened_at=Touchpoint.due_at,
        logged_by_id=Touchpoint.owner_id, logged_at=Touchpoint.due_at,
        confirmation=case((Touchpoint.id % 4 == 0, Confirmation.PENDING.value),
                          else_=Confirmation.CONFIRMED.value)).execution_options(synchronize_session=False))
    db.session.execute(update(Touchpoint).where(*past, Touchpoint.id % 10 == 7).values(
        status=TouchpointStatus.MISSED, status_reason="Nobody turned up")
        .execution_options(synchronize_session=False))
    upcoming = db.session.execute(
        select(Touchpoint.id, Touchpoint.employee_id, Touchpoint.owner_id)
        .where(Touchpoint.kind == TouchpointKind.ONE_ON_ONE, Touchpoint.status.in_(OPEN_STATUSES),
               Touchpoint.due_at >= now, Touchpoint.due_at < now + timedelta(days=14), Touchpoint.id % 2 == 0)
    ).all()
    agenda = [{"touchpoint_id": tp_id, "author_id": author, "text": text, "done": False, "created_at": now}
              for tp_id, employee_id, owner_id in upcoming
              for author, text in ((employee_id, "What is getting in the way right now"),
                                   (owner_id or employee_id, "Plans for the next quarter"))]
    if agenda:
        db.session.execute(insert(AgendaItem), agenda)
    by_team: dict[int | None, list[int]] = {}
    for person_id, status, team_id, _ in people:
        if LifecycleStatus(status) is LifecycleStatus.ACTIVE:
            by_team.setdefault(team_id, []).append(person_id)
    buddies = [{"employee_id": person_id, "kind": SupportKind.BUDDY, "partner_id": by_team[team_id][0],
                "started_on": today - timedelta(days=7), "created_at": now}
               for person_id, status, team_id, _ in people
               if person_id in set(newcomers[::2]) and by_team.get(team_id)]
    if buddies:
        db.session.execute(insert(SupportAssignment), buddies)

    # The outbox: a reminder for each upcoming touchpoint of the week, escalations, delivery problems.
    hr_of_team = dict(db.session.execute(select(Team.id, Team.hr_partner_id)).all())
    team_of = {person_id: team_id for person_id, _, team_id, _ in people}
    soon = db.session.execute(
        select(Touchpoint.id, Touchpoint.owner_id).where(
            Touchpoint.status.in_(OPEN_STATUSES), Touchpoint.due_at >= now,
            Touchpoint.due_at < now + timedelta(days=7), Touchpoint.owner_id.is_not(None))).all()
    problems = [NudgeStatus.SENT] * 16 + [NudgeStatus.FAILED, NudgeStatus.DEAD, NudgeStatus.UNKNOWN,
                                          NudgeStatus.PENDING]
    nudges = []
    for tp_id, owner_id in soon:
        status = problems[tp_id % len(problems)]
        nudges.append({
            "dedup_key": f"reminder:{tp_id}:{owner_id}", "kind": NudgeKind.REMINDER, "recipient_id": owner_id,
            "touchpoint_id": tp_id, "channel": DeliveryChannel.SLACK, "status": status, "payload": {},
            "next_attempt_at": now, "attempts": 1, "created_at": now, "updated_at": now,
            "last_error": "users_not_found" if status is NudgeStatus.DEAD else "",
            "sent_at": now if status is NudgeStatus.SENT else None})
    late = db.session.execute(select(Touchpoint.id, Touchpoint.employee_id).where(
        *past, Touchpoint.due_at < now - timedelta(days=3))).all()
    nudges += [{"dedup_key": f"escalation:{tp_id}:{hr_of_team.get(team_of.get(employee_id))}",
                "kind": NudgeKind.ESCALATION, "recipient_id": hr_of_team.get(team_of.get(employee_id)),
                "touchpoint_id": tp_id, "channel": DeliveryChannel.IN_APP, "status": NudgeStatus.SENT,
                "payload": {"overdue_days": 3}, "next_attempt_at": now, "attempts": 1, "created_at": now,
                "updated_at": now, "sent_at": now, "last_error": ""}
               for tp_id, employee_id in late if hr_of_team.get(team_of.get(employee_id))]
    for start in range(0, len(nudges), 5000):
        db.session.execute(insert(Nudge), nudges[start:start + 5000])
    db.session.commit()

    # A pulse round open since yesterday, answered by half so far.
    created = load_pack()
    db.session.commit()
    survey = created[0] if created else db.session.scalar(select(Survey).order_by(Survey.id))
    plan = surveys.plan_round({"opens_on": today, "open_days": 7, "min_group_size": 5}, tz="UTC", today=today)
    round_ = SurveyRound(survey=survey, sequence=1)
    plan.apply(round_)
    db.session.add(round_)
    db.session.commit()
    surveys.open_round(round_.id, now=now - timedelta(days=1))
    invited = db.session.scalars(select(SurveyInvitation.employee_id)
                                 .where(SurveyInvitation.round_id == round_.id)).all()
    answered = [{"round_id": round_.id, "employee_id": person_id, "responded_on": today}
                for person_id in invited if person_id % 2 == 0]
    if answered:
        db.session.execute(insert(SurveyParticipation), answered)

    # The shipped policies, a month of weekly compliance figures and today's.
    load_policy_files([DEFAULT_POLICY_DIR], if_empty=True)
    db.session.commit()
    backfill_snapshots(4, now=now)
    db.session.commit()
    record_compliance_snapshot(now)
    total = db.session.scalar(select(func.count()).select_from(Touchpoint)) or 0
    return {"touchpoints": total, "nudges": len(nudges), "invited": len(invited), "agenda": len(agenda)}


@dataclass(frozen=True)
class DrawnAfresh:
    """A benchmark company whose app draws every home page afresh: queries are counted, not cached."""

    company: CompanyDatabase

    @property
    def plan(self):
        return self.company.plan

    def app(self, **overrides: object):
        return self.company.app(HOME_CACHE_SECONDS=0, **overrides)


def _company_with_activity(ctx: Context, size: int):
    """A copy of the synthetic company with activity added (once per run and size)."""
    company = ctx.company(size, fresh="home")
    app = company.app()
    with app.app_context(), Stopwatch() as took:
        from touchpoints.extensions import db

        figures = add_activity()
        db.engine.dispose()
    ctx.log(f"home: {size:,} people given {figures['touchpoints']:,} touchpoints, {figures['nudges']:,} "
            f"nudges, {figures['invited']:,} invitations in {took.wall:.1f}s")
    return company


def fresh_draw_ms(company, email: str, view: str, *, times: int = 15) -> tuple[float, float, float]:
    """Median and worst milliseconds to draw a home page from scratch (cache off), in-process, and
    the median CPU milliseconds (what a busy, shared machine steals shows as wall minus CPU)."""
    import statistics

    from benchmarks.serving import csrf_token

    app = company.app(HOME_CACHE_SECONDS=0)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token or ""})
    client.get(f"/?view={view}")
    took, cpu = [], []
    for _ in range(times):
        with Stopwatch() as clock:
            response = client.get(f"/?view={view}")
        took.append(clock.wall * 1000)
        cpu.append(clock.cpu * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/?view={view} answered {response.status_code} to {email}")
    return statistics.median(took), max(took), statistics.median(cpu)


def browser_cookie(server: Server, cookie: str, path: str) -> str:
    """The session cookie a browser holds after opening the page once (wrk replays one cookie as is).

    The first page of a session adds its CSRF secret (and the chosen view) to the session; a browser
    keeps the updated cookie, so later requests meet the page cache, and so must wrk's.
    """
    for _ in range(3):
        updated = session_cookie(server.get(path, cookie=cookie))
        if updated is None or updated == cookie:
            return cookie
        cookie = updated
    return cookie


def run(ctx: Context) -> list[Result]:
    """Queries per home page and view in-process at 10 and 10,000 people, then each role's home under wrk.

    Under load each person's page is served from the one-minute home page cache (touchpoints/home/
    cache.py) after its first draw, as in production; the rows "drawn afresh" time the draw itself.
    """
    small = _company_with_activity(ctx, SMALL_SIZE)
    large = _company_with_activity(ctx, LARGE_SIZE)
    results = query_count_results("home page", [DrawnAfresh(small), DrawnAfresh(large)],
                                  ["/?view=hr", "/?view=manager", "/?view=me"],
                                  roles=("hr_partner", "manager", "employee"), max_queries=MAX_QUERIES)
    people = [("HR partner", large.plan.hr_partner, "hr"), ("director", large.plan.manager, "manager"),
              ("employee", large.plan.employee, "me")]
    for role, person, view in people:
        median, worst, cpu = fresh_draw_ms(large, person.email, view)
        results.append(Result(f"home page, {role}, {large.plan.size:,} people: drawn afresh (cache off, "
                              "in-process, median of 15)", median, "ms",
                              note=f"{cpu:.0f} ms of CPU; slowest {worst:.0f} ms"))
    with Server(ctx, large.path) as server:
        trivial = server.load("/healthz", label="/healthz (trivial route)")
        results.append(Result("/healthz (trivial route): throughput", trivial.rps, "req/s"))
        for role, person, view in people:
            cookie = browser_cookie(server, server.sign_in(person.email, BENCH_PASSWORD), f"/?view={view}")
            load = server.load(f"/?view={view}", cookie=cookie,
                               label=f"home page, {role}, {large.plan.size:,} people")
            results += page_results(load, trivial, max_p95_ms=MAX_P95_MS, min_ratio=MIN_SHARE_OF_TRIVIAL)
        results += memory_results(server)
    return results


if __name__ == "__main__":
    raise SystemExit(run_alone(__spec__.name))
