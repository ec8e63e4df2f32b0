"""A synthetic company of any size for benchmarks: teams, a manager hierarchy, logins with roles.

The plan is pure data (deterministic for a size, seed and day), so the same company can be
written straight into a database with bulk inserts or out as a CSV in the importer's format.

Shape: a CEO with one head per department; every manager has 5 to 9 direct reports (span of
control), filled level by level, so 10,000 people are six levels deep (the depth grows past six
only beyond about 66,000 people). Teams are the groups under the first manager whose
organisation has at most 60 people; those above sit in their department's leadership team.
Locations and time zones mix across four continents, lifecycle stages mix as in a real company
(mostly active, some pre-boarding, onboarding, on leave, offboarding, a few alumni whose
sign-in is deactivated), and about one person in 150 is an HR partner.
"""
from __future__ import annotations

import csv
import random
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from benchmarks.core import DEFAULT_SIZE, make_app

BENCH_PASSWORD = "touchpoints-benchmark"  # noqa: S105 - synthetic benchmark data only
DOMAIN = "bench.example"
SPAN = (5, 9)
TEAM_MAX = 60
HR_PARTNER_RATIO = 150
# The columns of a typical HR-system export, as the importer (touchpoints/people/importer.py) reads them.
CSV_COLUMNS = ("email", "name", "manager_email", "team", "location", "country", "time_zone",
               "hire_date", "start_date", "job_title")

# (city, country, subdivision, IANA zone, weight)
LOCATIONS = [
    ("London", "GB", "", "Europe/London", 14),
    ("Manchester", "GB", "", "Europe/London", 4),
    ("Dublin", "IE", "", "Europe/Dublin", 4),
    ("Berlin", "DE", "BE", "Europe/Berlin", 12),
    ("Amsterdam", "NL", "", "Europe/Amsterdam", 5),
    ("Lisbon", "PT", "", "Europe/Lisbon", 6),
    ("New York", "US", "NY", "America/New_York", 12),
    ("Austin", "US", "TX", "America/Chicago", 5),
    ("San Francisco", "US", "CA", "America/Los_Angeles", 8),
    ("Toronto", "CA", "ON", "America/Toronto", 5),
    ("São Paulo", "BR", "SP", "America/Sao_Paulo", 4),
    ("Bengaluru", "IN", "KA", "Asia/Kolkata", 9),
    ("Singapore", "SG", "", "Asia/Singapore", 5),
    ("Tokyo", "JP", "", "Asia/Tokyo", 3),
    ("Sydney", "AU", "NSW", "Australia/Sydney", 4),
]
# Span of control per department (within 5-9): engineering and sales grow wide, legal stays small.
DEPARTMENT_SPAN = {"Engineering": (7, 9), "Sales": (7, 9), "Customer Success": (6, 9),
                   "Product and Design": (5, 8), "Marketing": (5, 7), "People": (5, 7),
                   "Finance": (5, 6), "Operations": (5, 7), "Legal": (5, 5), "Executive": SPAN}


def words(text: str) -> list[str]:
    """The whitespace-separated words of a text block."""
    return text.split()


# Departments in the order the CEO's direct reports head them (People always exists).
DEPARTMENTS = {
    "Engineering": ("Chief Technology Officer", "Engineering Manager",
                    ["Software Engineer", "Senior Software Engineer", "Staff Engineer",
                     "Site Reliability Engineer", "QA Engineer", "Data Engineer"],
                    ["Payments", "Platform", "Mobile", "Data", "Identity", "Search",
                     "Infrastructure", "Security", "Developer Experience", "Billing",
                     "Integrations", "Reliability", "Growth", "Core API", "Web", "Analytics",
                     "Machine Learning", "Notifications", "Checkout", "Storage"]),
    "People": ("Chief People Officer", "People Partner Lead",
               ["People Operations Specialist", "Recruiter",
                "Payroll Specialist", "Learning and Development Specialist"],
               ["HR Partnering", "Talent Acquisition", "People Operations", "Total Rewards",
                "Learning", "Employee Experience"]),
    "Sales": ("Chief Revenue Officer", "Sales Manager",
              ["Account Executive", "Sales Development Representative", "Solutions Consultant",
               "Enterprise Account Executive"],
              ["EMEA North", "EMEA South", "DACH", "Nordics", "UK and Ireland", "North America East",
               "North America West", "LATAM", "APAC", "ANZ", "Japan", "Enterprise", "Mid-Market",
               "Partnerships"]),
    "Customer Success": ("VP Customer Success", "Customer Success Lead",
                         ["Customer Success Manager", "Support Specialist", "Onboarding Specialist",
                          "Technical Account Manager"],
                         ["Support Tier 1", "Support Tier 2", "Onboarding", "Renewals",
                          "Enterprise Success", "Community", "Knowledge Base"]),
    "Product and Design": ("Chief Product Officer", "Group Product Manager",
                           ["Product Manager", "Product Designer", "UX Researcher", "Content Designer"],
                           ["Core Product", "Design Systems", "Research", "Mobile Product",
                            "Admin Experience", "Growth Product"]),
    "Marketing": ("Chief Marketing Officer", "Marketing Manager",
                  ["Product Marketing Manager", "Content Strategist", "Campaign Manager",
                   "Marketing Analyst"],
                  ["Brand", "Demand Generation", "Product Marketing", "Events", "Communications"]),
    "Finance": ("Chief Financial Officer", "Finance Manager",
                ["Financial Analyst", "Accountant", "Procurement Specialist", "Controller"],
                ["Accounting", "FP&A", "Procurement", "Tax", "Treasury"]),
    "Operations": ("Chief Operating Officer", "Operations Manager",
                   ["Office Manager", "IT Support Specialist", "Facilities Coordinator",
                    "Business Operations Analyst"],
                   ["Workplace", "IT", "Business Operations", "Security and Compliance"]),
    "Legal": ("General Counsel", "Legal Manager",
              ["Legal Counsel", "Paralegal", "Privacy Specialist"],
              ["Commercial Legal", "Privacy", "Employment Law"]),
}
FIRST = words("""Aisha Ben Chloe Dmitri Elif Felix Grace Hiro Isla Jonas Kofi Lena Mateo Nadia Oscar Paula
Quentin Rosa Sami Tara Umar Vera Wen Ximena Yusuf Zoe Anton Bea Caleb Dalia Emil Freya Gus Hanna
Ivan Jade Karim Lotte Milo Nora Omar Pia Rafael Sofia Theo Ulla Viktor Willa Yara Zain Adele Bruno
Carmen Diego Esther Farid Gemma Hugo Ingrid Jun Kavya Liam Maya Nils Olga Pedro Rhea Stefan Tomas
Uma Valentina William Xavier Yuki Zofia Ama Chidi Deepa Eero Fatima Giulia Hassan Inès Joao Keiko
Leila Marek Noor Ola Priya Ravi Sana Tiago Ugo Wanjiru""")
LAST = words("""Adeyemi Bauer Chen Dubois Eriksen Fischer García Haddad Ito Jansen Kowalski Lindqvist
Moreau Novak Olsen Pereira Quinn Rahman Santos Tanaka Ueda Varga Weber Xu Yilmaz Zimmer Abbott
Brennan Castillo Dimitrov Ekström Ferreira Gallagher Hoffmann Iyer Jovanović Kim Larsen Müller
Nakamura Okafor Petrov Qureshi Rossi Schmidt Takahashi Umarov Vasquez Wagner Yamamoto Zhang Ahmed
Baker Costa Davies Evans Fontaine Gupta Hughes Ibrahim Jensen Khan Lopez Mensah Nguyen O'Brien
Park Reyes Silva Thompson Usman Virtanen Walsh Yadav Zielinski Andersen Bianchi Cruz Dlamini
Edwards Fernandes Goldberg Horvat Ivanova Jakobsen Kaur Lehmann Martin Nowak Osei Patel Ramos
Sato Torres Uddin Vogel Wright""")
# (status, share of individual contributors) — leaders, managers and HR partners stay active.
STAGES = [("pre_boarding", 0.02), ("onboarding", 0.05), ("on_leave", 0.03), ("offboarding", 0.02),
          ("alumni", 0.06)]
CHANNELS = [("slack", 50), ("teams", 20), ("email", 15), ("in_app", 15)]


@dataclass
class TeamPlan:
    id: int
    name: str
    description: str
    hr_partner_id: int | None = None


@dataclass
class Person:
    id: int
    email: str
    full_name: str
    job_title: str
    department: str
    level: int
    manager_id: int | None
    location: str = ""
    country_code: str = "GB"
    subdivision: str = ""
    timezone: str = "Europe/London"
    team_id: int | None = None
    status: str = "active"
    hire_date: date | None = None
    start_date: date | None = None
    exit_date: date | None = None
    work_start: time = time(9, 0)
    work_end: time = time(17, 30)
    preferred_channel: str = "in_app"
    quiet_hours: tuple[time, time] | None = None
    roles: set[str] = field(default_factory=lambda: {"employee"})
    report_ids: list[int] = field(default_factory=list)

    @property
    def deactivated(self) -> bool:
        return self.status == "alumni"


@dataclass
class Company:
    """A planned company: people in hierarchy order (every manager before their reports)."""

    people: list[Person]
    teams: list[TeamPlan]
    today: date

    def person(self, person_id: int) -> Person:
        return self.people[person_id - 1]

    @property
    def size(self) -> int:
        return len(self.people)

    @property
    def depth(self) -> int:
        """Levels from the CEO down to the deepest report (the CEO alone is depth 1)."""
        return max(p.level for p in self.people) + 1

    def spans(self) -> list[int]:
        """Direct-report counts of every manager."""
        return [len(p.report_ids) for p in self.people if p.report_ids]

    def org_size(self, person: Person) -> int:
        """How many people report to this person, directly or indirectly."""
        count, stack = 0, list(person.report_ids)
        while stack:
            count += 1
            stack.extend(self.person(stack.pop()).report_ids)
        return count

    def with_role(self, role: str) -> list[Person]:
        return [p for p in self.people if role in p.roles and not p.deactivated]

    @property
    def hr_partner(self) -> Person:
        """An HR partner to sign in as (sees everyone)."""
        partners = [p for p in self.with_role("hr_partner") if p.level > 1]
        return (partners or self.with_role("hr_partner"))[0]

    @property
    def manager(self) -> Person:
        """A director (two levels below the CEO) with the most direct reports: sees a whole org."""
        managers = [p for p in self.with_role("manager") if p.level >= 2] or self.with_role("manager")
        return max(managers, key=lambda p: (p.level == 2, len(p.report_ids)))

    @property
    def employee(self) -> Person:
        """An active individual contributor with no reports and no HR role."""
        return next(p for p in reversed(self.people)
                    if p.roles == {"employee"} and p.status == "active")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -")).lower()


def _dates_for(rng: random.Random, status: str, today: date, senior: bool):
    """Hire, start and exit dates that agree with the lifecycle stage."""
    if status == "pre_boarding":
        start = today + timedelta(days=rng.randint(3, 45))
        return start - timedelta(days=rng.randint(20, 60)), start, None
    if status == "onboarding":
        start = today - timedelta(days=rng.randint(1, 89))
        return start - timedelta(days=rng.randint(20, 60)), start, None
    start = today - timedelta(days=rng.randint(500 if senior else 90, 4000))
    hire = start - timedelta(days=rng.randint(14, 60))
    if status == "offboarding":
        return hire, start, today + timedelta(days=rng.randint(5, 40))
    if status == "alumni":  # left between a month after starting and five days ago, within a year
        earliest = max(start + timedelta(days=30), today - timedelta(days=365))
        return hire, start, earliest + timedelta(days=rng.randint(0, (today - earliest).days - 5))
    return hire, start, None


def plan_company(size: int = DEFAULT_SIZE, *, seed: int = 2024, today: date | None = None) -> Company:
    """Plan a believable company of `size` people (deterministic for size, seed and day)."""
    if size < 1:
        raise ValueError("a company needs at least one person")
    rng = random.Random(seed)
    today = today or date.today()
    departments = list(DEPARTMENTS)
    emails: set[str] = set()
    people: list[Person] = []

    def new_person(department: str, level: int, manager: Person | None) -> Person:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{_ascii(first)}.{_ascii(last)}".replace(" ", "").replace("'", "")
        email, n = f"{local}@{DOMAIN}", 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{DOMAIN}"
        emails.add(email)
        person = Person(id=len(people) + 1, email=email, full_name=f"{first} {last}", job_title="",
                        department=department, level=level,
                        manager_id=manager.id if manager else None)
        people.append(person)
        if manager is not None:
            manager.report_ids.append(person.id)
        return person

    # Level by level: each manager takes 5-9 reports, never leaving fewer than 5 for the last one.
    # Each level is shuffled, so the partly filled bottom level spreads over every department.
    ceo = new_person("Executive", 0, None)
    level: list[Person] = [ceo]
    while len(people) < size and level:
        next_level: list[Person] = []
        for boss in level:
            remaining = size - len(people)
            if remaining <= 0:
                break
            span = rng.randint(*DEPARTMENT_SPAN[boss.department])
            if boss is ceo:
                span = min(len(departments), max(span, 7))
            if remaining <= SPAN[1]:
                span = remaining
            elif remaining - span < SPAN[0]:
                span = remaining - SPAN[0]
            for index in range(span):
                department = departments[index] if boss is ceo else boss.department
                next_level.append(new_person(department, boss.level + 1, boss))
        rng.shuffle(next_level)
        level = next_level

    _assign_titles_and_roles(rng, people)
    teams = _assign_teams(rng, people)
    for person in people:
        _assign_life(rng, person, today)
    _assign_hr_partners(rng, people, teams)
    return Company(people=people, teams=teams, today=today)


def _assign_titles_and_roles(rng: random.Random, people: list[Person]) -> None:
    hr_wanted = max(1, round(len(people) / HR_PARTNER_RATIO))
    hr_count = 0
    for person in people:
        if person.level == 0:
            person.job_title = "Chief Executive Officer"
        else:
            head, manager_title, titles, _ = DEPARTMENTS[person.department]
            if person.level == 1:
                person.job_title = head
            elif person.report_ids:
                person.job_title = (f"Director, {person.department}" if person.level == 2
                                    else manager_title)
            elif person.department == "People" and hr_count < hr_wanted:
                person.job_title = "HR Business Partner"
            else:
                person.job_title = rng.choice(titles)
        if person.report_ids:
            person.roles.add("manager")
        if (person.department == "People" and person.level == 1) or (
                person.job_title == "HR Business Partner"):
            person.roles.add("hr_partner")
            hr_count += 1


def _subtree_sizes(people: list[Person]) -> list[int]:
    sizes = [1] * (len(people) + 1)
    for person in reversed(people):  # reports always come after their manager
        if person.manager_id:
            sizes[person.manager_id] += sizes[person.id]
    return sizes


def _assign_teams(rng: random.Random, people: list[Person]) -> list[TeamPlan]:
    sizes = _subtree_sizes(people)
    weights = [loc[4] for loc in LOCATIONS]
    teams: list[TeamPlan] = []
    used_names: set[str] = set()
    words_left = {name: list(spec[3]) for name, spec in DEPARTMENTS.items()}
    home: dict[int, tuple] = {}

    def new_team(name: str, description: str) -> int:
        where = rng.choices(LOCATIONS, weights)[0]
        base, n = name, 1
        if name in used_names:  # a second Payments team is told apart by its city first
            name = base = f"{name} ({where[0]})"
        while name in used_names:
            n += 1
            name = f"{base} {n}"
        used_names.add(name)
        teams.append(TeamPlan(id=len(teams) + 1, name=name, description=description))
        home[len(teams)] = where
        return len(teams)

    leadership: dict[str, int] = {}
    owner_team: dict[int, int] = {}
    for person in people:
        manager = people[person.manager_id - 1] if person.manager_id else None
        inherited = owner_team.get(manager.id) if manager else None
        if inherited is not None:
            person.team_id = inherited
        elif person.report_ids and sizes[person.id] <= TEAM_MAX and person.level >= 2:
            words = words_left[person.department]
            word = words.pop(rng.randrange(len(words))) if words else rng.choice(DEPARTMENTS[
                person.department][3])
            person.team_id = new_team(f"{person.department} - {word}",
                                      f"{word} in {person.department}, led by {person.full_name}")
        else:
            key = "Executive" if person.level <= 1 else person.department
            if key not in leadership:
                label = "Executive Office" if key == "Executive" else f"{key} Leadership"
                leadership[key] = new_team(label, f"The leadership group of {key}")
            person.team_id = leadership[key]
        if person.report_ids and person.team_id not in leadership.values():
            owner_team[person.id] = person.team_id
        # Three in four work where their team is based; the rest are remote or elsewhere.
        city, country, sub, zone, _ = (home[person.team_id] if rng.random() < 0.75
                                       else rng.choices(LOCATIONS, weights)[0])
        person.location, person.country_code, person.subdivision, person.timezone = (
            city, country, sub, zone)
        if country == "US":
            person.work_start, person.work_end = time(9, 0), time(17, 0)
        elif rng.random() < 0.15:
            person.work_start, person.work_end = time(8, 0), time(16, 30)
    return teams


def _assign_life(rng: random.Random, person: Person, today: date) -> None:
    # Leaders, managers and HR partners stay active so the hierarchy and HR cover hold.
    if not person.report_ids and person.level >= 2 and "hr_partner" not in person.roles:
        roll = rng.random()
        for status, share in STAGES:
            if roll < share:
                person.status = status
                break
            roll -= share
    person.hire_date, person.start_date, person.exit_date = _dates_for(
        rng, person.status, today, senior=bool(person.report_ids))
    person.preferred_channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    if rng.random() < 0.3:
        person.quiet_hours = (time(19, 0), time(8, 0))


def _assign_hr_partners(rng: random.Random, people: list[Person], teams: list[TeamPlan]) -> None:
    partners = [p.id for p in people if "hr_partner" in p.roles and not p.deactivated]
    for index, team in enumerate(teams):
        team.hr_partner_id = partners[index % len(partners)]


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def write_company(company: Company) -> None:
    """Insert the company into the app's (empty) database in a few bulk statements; caller commits."""
    from sqlalchemy import func, insert, select, text, update

    from touchpoints.auth.models import User, UserRole
    from touchpoints.extensions import db
    from touchpoints.people.models import Employee, Team

    if db.session.scalar(select(func.count()).select_from(Employee)):
        raise RuntimeError("the benchmark company needs an empty database")
    now = datetime.now(UTC)
    db.session.execute(insert(Team), [
        {"id": t.id, "name": t.name, "description": t.description, "hr_partner_id": None,
         "created_at": now} for t in company.teams
    ])
    db.session.execute(insert(Employee), [{
        "id": p.id, "email": p.email, "full_name": p.full_name, "job_title": p.job_title,
        "team_id": p.team_id, "manager_id": p.manager_id, "location": p.location,
        "country_code": p.country_code, "subdivision": p.subdivision, "timezone": p.timezone,
        "work_start": p.work_start, "work_end": p.work_end, "work_days": "12345",
        "hire_date": p.hire_date, "start_date": p.start_date, "exit_date": p.exit_date,
        "status": p.status, "preferred_channel": p.preferred_channel,
        "quiet_hours_start": p.quiet_hours[0] if p.quiet_hours else None,
        "quiet_hours_end": p.quiet_hours[1] if p.quiet_hours else None,
        "slack_user_id": None,
        "deactivated_at": _utc(p.exit_date + timedelta(days=1)) if p.deactivated else None,
        "created_at": now, "updated_at": now,
    } for p in company.people])
    db.session.execute(update(Team), [
        {"id": t.id, "hr_partner_id": t.hr_partner_id} for t in company.teams
    ])
    # One hash for everyone: hashing 10,000 passwords would measure scrypt, not the product. The
    # parameters are the app's own (as a sign-in leaves them), not werkzeug's default.
    from touchpoints.auth.services import hash_password

    password_hash = hash_password(BENCH_PASSWORD)
    db.session.execute(insert(User), [{
        "id": p.id, "employee_id": p.id, "password_hash": password_hash,
        "session_token": secrets.token_urlsafe(32), "must_change_password": False,
        "last_login_at": None, "created_at": now,
    } for p in company.people])
    db.session.execute(insert(UserRole), [
        {"user_id": p.id, "role": role} for p in company.people for role in sorted(p.roles)
    ])
    if db.engine.dialect.name == "postgresql":
        # Explicit ids leave the sequences behind; move them past the rows just written.
        for table in ("teams", "employees", "users"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                f"(SELECT MAX(id) FROM {table}))"
            ))


def build_company_database(path: Path, size: int = DEFAULT_SIZE, *, seed: int = 2024) -> Company:
    """Plan a company and write it into the migrated SQLite database at path."""
    from touchpoints.extensions import db

    company = plan_company(size, seed=seed)
    app = make_app(path)
    with app.app_context():
        write_company(company)
        db.session.commit()
        db.engine.dispose()
    return company


def write_csv(company: Company, path: Path, *, lifecycle: bool = True, roles: bool = True) -> int:
    """Write the company as a people CSV in the importer's format; returns the rows written.

    The columns are those of a typical HR-system export (CSV_COLUMNS); lifecycle adds status and
    exit_date, roles adds a roles cell ("hr_partner; manager"), both of which the importer reads.
    """
    header = [*CSV_COLUMNS, *(("status", "exit_date") if lifecycle else ()),
              *(("roles",) if roles else ())]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for p in company.people:
            manager = company.person(p.manager_id) if p.manager_id else None
            row = [
                p.email, p.full_name, manager.email if manager else "",
                company.teams[p.team_id - 1].name if p.team_id else "", p.location,
                p.country_code, p.timezone,
                p.hire_date.isoformat() if p.hire_date else "",
                p.start_date.isoformat() if p.start_date else "", p.job_title,
            ]
            if lifecycle:
                row += [p.status, p.exit_date.isoformat() if p.exit_date else ""]
            if roles:
                row.append("; ".join(sorted(p.roles - {"employee"})))
            writer.writerow(row)
    return company.size
