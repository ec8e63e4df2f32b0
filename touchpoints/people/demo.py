"""The demo company: about sixty believable people in five teams, in every lifecycle stage."""
from __future__ import annotations

import random
from datetime import date, time, timedelta

import click
from sqlalchemy import func, select

from touchpoints.audit.services import record
from touchpoints.auth.models import Role, User
from touchpoints.auth.services import hash_password
from touchpoints.extensions import db
from touchpoints.people.models import Employee, LifecycleStatus, Team

DEMO_PASSWORD = "touchpoints-demo"  # noqa: S105 - published demo credential, demo data only
DOMAIN = "northwind.example"
DEMO_LOGINS = (
    ("HR partner", f"hana.okafor@{DOMAIN}"),
    ("Manager", f"marco.rossi@{DOMAIN}"),
    ("Employee", f"emma.schmidt@{DOMAIN}"),
)

# (team, description, location, country, subdivision, time zone)
TEAMS = [
    ("Engineering", "Builds and runs the product", "Berlin", "DE", "BE", "Europe/Berlin"),
    ("Customer Success", "Keeps customers happy", "London", "GB", "", "Europe/London"),
    ("Sales", "Finds new customers", "New York", "US", "NY", "America/New_York"),
    ("Design", "Research and product design", "Lisbon", "PT", "", "Europe/Lisbon"),
    ("Operations", "Finance, facilities and people operations", "London", "GB", "", "Europe/London"),
]
# The named people the demo logins and walk-throughs refer to: (name, title, team, manager name).
NAMED = [
    ("Amara Nwosu", "Chief Executive Officer", "Operations", None),
    ("Hana Okafor", "HR Partner", "Operations", "Amara Nwosu"),
    ("Lucas Meyer", "HR Partner", "Operations", "Amara Nwosu"),
    ("Marco Rossi", "Engineering Manager", "Engineering", "Amara Nwosu"),
    ("Priya Raman", "Head of Customer Success", "Customer Success", "Amara Nwosu"),
    ("Daniel Brooks", "Sales Director", "Sales", "Amara Nwosu"),
    ("Inês Carvalho", "Design Lead", "Design", "Amara Nwosu"),
    ("Emma Schmidt", "Software Engineer", "Engineering", "Marco Rossi"),
]
FIRST = ["Aisha", "Ben", "Chloe", "Dmitri", "Elif", "Felix", "Grace", "Hiro", "Isla", "Jonas",
         "Kofi", "Lena", "Mateo", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Sami", "Tara",
         "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe", "Anton", "Bea", "Caleb", "Dalia",
         "Emil", "Freya", "Gus", "Hanna", "Ivan", "Jade", "Karim", "Lotte", "Milo", "Nora",
         "Omar", "Pia", "Rafael", "Sofia", "Theo", "Ulla", "Viktor", "Willa", "Yara", "Zain"]
LAST = ["Adeyemi", "Bauer", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
        "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Olsen", "Pereira", "Quinn",
        "Rahman", "Santos", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zimmer"]
TITLES = {
    "Engineering": ["Software Engineer", "Senior Engineer", "Site Reliability Engineer", "QA Engineer"],
    "Customer Success": ["Customer Success Manager", "Support Specialist", "Onboarding Specialist"],
    "Sales": ["Account Executive", "Sales Development Rep", "Solutions Consultant"],
    "Design": ["Product Designer", "UX Researcher", "Content Designer"],
    "Operations": ["Finance Analyst", "Office Manager", "People Operations Specialist"],
}
PER_TEAM = {"Engineering": 14, "Customer Success": 11, "Sales": 10, "Design": 8, "Operations": 7}


def email_for(name: str) -> str:
    ascii_name = name.lower().replace("ê", "e").replace("í", "i").replace("é", "e").replace("ç", "c")
    return ascii_name.replace(" ", ".") + "@" + DOMAIN


def demo_logins_text() -> str:
    """The demo sign-ins, as printed by `make run`."""
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {role:<11} {email}" for role, email in DEMO_LOGINS]
    return "\n".join(lines)


def _status_and_dates(rng: random.Random, today: date, index: int):
    """Spread people over every lifecycle stage, most of them active."""
    stage = [LifecycleStatus.PRE_BOARDING, LifecycleStatus.ONBOARDING, LifecycleStatus.ONBOARDING,
             LifecycleStatus.ON_LEAVE, LifecycleStatus.OFFBOARDING, LifecycleStatus.ALUMNI]
    status = stage[index] if index < len(stage) else LifecycleStatus.ACTIVE
    if status is LifecycleStatus.PRE_BOARDING:
        start = today + timedelta(days=rng.randint(5, 20))
        return status, start - timedelta(days=30), start, None
    if status is LifecycleStatus.ONBOARDING:
        start = today - timedelta(days=rng.randint(3, 60))
        return status, start - timedelta(days=30), start, None
    start = today - timedelta(days=rng.randint(120, 2400))
    exit_date = None
    if status is LifecycleStatus.OFFBOARDING:
        exit_date = today + timedelta(days=rng.randint(7, 25))
    elif status is LifecycleStatus.ALUMNI:
        exit_date = today - timedelta(days=rng.randint(10, 90))
    return status, start - timedelta(days=rng.randint(14, 45)), start, exit_date


def load_demo_company(*, if_empty: bool = False, today: date | None = None, seed: int = 7) -> int:
    """Create the demo company; returns how many people were added."""
    if db.session.scalar(select(func.count()).select_from(Employee)):
        if if_empty:
            click.echo("People already exist; demo data left as it is.")
            return 0
        raise click.ClickException("The database already has people; demo data needs an empty one.")
    rng = random.Random(seed)
    today = today or date.today()
    password_hash = hash_password(DEMO_PASSWORD)
    teams = {}
    for name, description, *_ in TEAMS:
        teams[name] = Team(name=name, description=description)
    db.session.add_all(teams.values())
    where = {name: (loc, country, sub, tz) for name, _, loc, country, sub, tz in TEAMS}

    people: dict[str, Employee] = {}

    def add(name: str, title: str, team: str, manager: Employee | None,
            status=LifecycleStatus.ACTIVE, hire=None, start=None, exit_date=None) -> Employee:
        loc, country, sub, tz = where[team]
        if start is None:
            start = today - timedelta(days=rng.randint(400, 3000))
            hire = start - timedelta(days=30)
        person = Employee(
            email=email_for(name), full_name=name, job_title=title, team=teams[team],
            manager=manager, location=loc, country_code=country, subdivision=sub, timezone=tz,
            work_start=time(9, 0), work_end=time(17, 30) if country != "US" else time(17, 0),
            hire_date=hire, start_date=start, exit_date=exit_date, status=status,
        )
        people[name] = person
        db.session.add(person)
        return person

    for name, title, team, manager in NAMED:
        add(name, title, team, people.get(manager) if manager else None)
    leads = {"Engineering": "Marco Rossi", "Customer Success": "Priya Raman",
             "Sales": "Daniel Brooks", "Design": "Inês Carvalho", "Operations": "Hana Okafor"}
    used = {n for n, *_ in NAMED}
    for team, count in PER_TEAM.items():
        lead = people[leads[team]]
        for index in range(count):
            while True:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                if name not in used:
                    used.add(name)
                    break
            status, hire, start, exit_date = _status_and_dates(rng, today, index)
            add(name, rng.choice(TITLES[team]), team, lead, status, hire, start, exit_date)
    # Operations: HR partners look after the other teams, split between the two of them.
    for index, team in enumerate(teams.values()):
        team.hr_partner = people["Hana Okafor"] if index % 2 == 0 else people["Lucas Meyer"]
    db.session.flush()

    managers = {p.manager_id for p in people.values() if p.manager_id}
    hr = {people["Hana Okafor"].id, people["Lucas Meyer"].id}
    for person in people.values():
        user = User(employee=person, password_hash=password_hash, must_change_password=False)
        roles = set()
        if person.id in managers:
            roles.add(Role.MANAGER)
        if person.id in hr:
            roles.add(Role.HR_PARTNER)
        user.set_roles(roles)
        db.session.add(user)
    record("demo.loaded", "company", None, actor_id=None,
           summary=f"Loaded the demo company ({len(people)} people)")
    db.session.commit()
    click.echo(f"Demo company loaded: {len(people)} people in {len(teams)} teams.")
    return len(people)
